# lit configuration for g4c, after mlir/examples/standalone/test/lit.cfg.py.
# Suites: spec/ (declarations, diagnostics, derived facts), compiler/ (driver, plans),
# runtime/ (g4run on the CPU backend).
import os
import sys

import lit.formats

config.name = "g4c"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".toml", ".test", ".plan"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)

# Tools under test come first on PATH, then the LLVM directory CMake found FileCheck and not in.
config.environment["PATH"] = os.pathsep.join(
    [config.g4c_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%models", os.path.join(config.g4c_source_root, "models")))
# Tests that need generated binary inputs (GGUF files) build them with small Python scripts.
config.substitutions.append(("%python", sys.executable))

# As in MLIR: scoped FileCheck variables and no unused check prefixes.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"
