// libFuzzer target: a model declaration (TOML) through the reader and validator, and — when it
// validates — through lowering, every pass, the plan verifier and a few steps on the CPU backend.
// Any input must end in a spec or diagnostics: no crash, no sanitizer report, no unbounded
// allocation.
//
// Properties (a failure aborts, a finding):
// - lowering a valid declaration and running every pass succeeds, and the plan verifies: `g4c
//   check` accepting a declaration promises `g4c compile` a plan;
// - that plan prints and parses back to itself, and (small enough) runs on the CPU backend with
//   tiny random weights: no size a declaration passes with may index past a table later.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "g4c/spec/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  g4c::DiagnosticEngine diag;
  auto spec = g4c::load_model_spec_from_string(text, "fuzz.toml", diag);
  if (!spec) return 0;
  auto plan = g4c::fuzz::compile(*spec, {1, 2, 8}, 64, size % 3 == 0 ? 2 : 1, true, diag);
  g4c::fuzz::check_print_round_trip(*plan, true);
  g4c::fuzz::run_on_cpu(*plan);
  return 0;
}
