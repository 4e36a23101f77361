# lit configuration for g4c, after mlir/examples/standalone/test/lit.cfg.py.
# Suites: spec/ (declarations, diagnostics, derived facts), compiler/ (driver, plans),
# runtime/ (g4run on the CPU backend), hostile/ (inputs written as an attacker would).
import os
import shutil
import subprocess
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
# llama.cpp's vocab files (Gemma 4's tokenizer), fetched into a cache by .ci/fetch-test-data. The
# tests that read them fail when they are missing: CI fetches them, so skipping would hide that.
config.substitutions.append(("%vocabs", config.g4c_vocab_dir))
if not os.path.exists(os.path.join(config.g4c_vocab_dir, "ggml-vocab-gemma-4.gguf")):
    lit_config.warning("no ggml-vocab-gemma-4.gguf in " + config.g4c_vocab_dir +
                       ": the tokenizer tests will fail; run .ci/fetch-test-data to fetch it")

# As in MLIR: scoped FileCheck variables and no unused check prefixes.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"

# `cuda`: a CUDA device is present, so g4run defaults to the GPU executor. Tests of what happens
# without one say `UNSUPPORTED: cuda`.
def has_cuda_device():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False

if has_cuda_device():
    config.available_features.add("cuda")

# `asan`: the tools are built with AddressSanitizer, which maps terabytes of shadow memory, so a
# test that limits the address space (prlimit --as) cannot run them.
if "-fsanitize=address" in getattr(config, "g4c_cxx_flags", ""):
    config.available_features.add("asan")

# The hostile-input suite's helpers (lit-tests/hostile/Inputs).
config.substitutions.append(("%hostile", os.path.join(config.g4c_source_root, "lit-tests", "hostile", "Inputs")))
config.substitutions.append(("%seeds", os.path.join(config.g4c_source_root, "unit-tests", "fuzz", "seeds")))
