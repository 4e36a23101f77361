// libFuzzer target: plan text through the parser, the verifier and the printer, and every plan
// that verifies through the CPU backend. Plans are edited by hand; any text must end in a plan or
// one diagnostic, and a plan that verifies must run.
//
// Properties (a failure aborts, a finding):
// - print -> parse -> print is the identity for every plan that parses, and a verified plan
//   still verifies after the round trip;
// - a verified plan small enough to run (fuzz_support.h) runs a few steps on the CPU backend with
//   tiny random weights without a sanitizer report: the verifier's rules are what makes a plan
//   safe to execute, and this checks they are complete.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::parse_plan(text, "fuzz.plan", diag);
  if (!plan) return 0;
  const bool verified = g4c::plan::verify_plan(*plan, diag);
  g4c::fuzz::check_print_round_trip(*plan, verified);
  if (verified) g4c::fuzz::run_on_cpu(*plan);
  return 0;
}
