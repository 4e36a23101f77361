// The CPU mutation test binary's bug (g4c_mutation_tests, built with G4C_BUG_INJECTION): the one
// G4C_TEST_INJECT_BUG names, fixed before any test runs.
#include "injected_bug_env.h"

namespace g4c {
InjectedBug g_injected_bug = testing::injected_bug_from_env();
}  // namespace g4c
