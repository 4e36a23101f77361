// Shared by the NVRTC compile tests: the shipped declarations, and one compile of a request list
// for sm_90 through the build's kernel cache that reports what it did.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "g4c/runtime/jit.h"

namespace g4c::testing {

// Every declaration under models/ and models/synthetic/, relative to models/, sorted.
inline std::vector<std::string> shipped_model_files() {
  namespace fs = std::filesystem;
  const std::string models = std::string(G4C_SOURCE_DIR) + "/models";
  std::vector<std::string> out;
  for (const char* dir : {"", "/synthetic"})
    for (const auto& e : fs::directory_iterator(models + dir))
      if (e.path().extension() == ".toml") out.push_back(fs::relative(e.path(), models));
  std::sort(out.begin(), out.end());
  return out;
}

// Compiles `requests` to sm_90 cubins; prints "<count> <what> in P NVRTC programs (H from the
// cache, T s)" and the count per family, and checks that every program has a cubin and every
// instance a lowered name. Returns the stats, or nothing (with a test failure) when NVRTC fails.
inline std::optional<JitStats> expect_compiles_for_sm90(const std::vector<JitRequest>& requests,
                                                        const std::string& what,
                                                        const std::vector<std::string>& defines = {}) {
  JitOptions options;
  options.arch = "sm_90";
  options.cache_dir = G4C_TEST_KERNEL_CACHE;
  options.defines = defines;
  JitStats stats;
  DiagnosticEngine diag;
  auto programs = jit_compile(requests, options, stats, diag);
  if (!programs) {
    ADD_FAILURE() << (diag.diagnostics().empty() ? "jit_compile failed" : diag.diagnostics()[0].message);
    return std::nullopt;
  }
  std::map<std::string, int> per_family;
  for (const JitRequest& r : requests) ++per_family[r.instance.family];
  std::cout << "  " << stats.instances << " " << what << " in " << stats.programs << " NVRTC programs ("
            << stats.cache_hits << " from the cache, " << stats.compile_seconds << " s)\n";
  for (const auto& [family, count] : per_family) std::cout << "    " << family << ": " << count << "\n";
  for (const CompiledProgram& p : *programs) {
    EXPECT_FALSE(p.cubin.empty()) << p.source;
    for (const std::string& name : p.lowered_names) EXPECT_FALSE(name.empty()) << p.source;
  }
  return stats;
}

}  // namespace g4c::testing
