// The bug the mutation runs inject (kernels/include/g4c/kernels/injected_bugs.h), named by the
// environment variable G4C_TEST_INJECT_BUG: read by the CPU mutation test binary and by the GPU
// test fixtures, which then compile every kernel with -DG4C_INJECTED_BUG=<number>. Unset or
// empty: none. unit-tests/mutation/mutation_table.py sets it, one bug per run.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "g4c/kernels/injected_bugs.h"

namespace g4c::testing {

inline const char* const kInjectedBugNames[kInjectedBugCount] = {
    "none",           "skip_v_norm",         "drop_weight_block", "drop_weight_block_mmq",
    "window_plus_one", "ring_size_as_window", "swap_rope_pairs",   "swap_rope_pairs_fused",
    "ticket_left_set"};

inline InjectedBug injected_bug_from_env() {
  const char* name = std::getenv("G4C_TEST_INJECT_BUG");
  if (!name || !*name) return InjectedBug::none;
  for (int i = 0; i < kInjectedBugCount; ++i)
    if (std::string(name) == kInjectedBugNames[i]) return static_cast<InjectedBug>(i);
  throw std::invalid_argument(std::string("G4C_TEST_INJECT_BUG names no known bug: ") + name);
}

// The NVRTC definitions that build the kernels with the environment's bug: none when unset.
inline std::vector<std::string> injected_bug_defines() {
  const InjectedBug bug = injected_bug_from_env();
  if (bug == InjectedBug::none) return {};
  return {"G4C_INJECTED_BUG=" + std::to_string(static_cast<int>(bug))};
}

}  // namespace g4c::testing
