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
// A mutation rarely keeps the bookkeeping sections consistent (buffer offsets, kernel use counts),
// which would stop most inputs at those rules; so a plan that does not verify is tried again with
// its buffers and kernels recomputed by the compiler's own passes, and the rules about what ops
// compute and index with decide whether it runs.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <string_view>

#include "fuzz_support.h"
#include "plan_mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

// Plans that verified, most recent last (at most 256): the structure-aware mutations start from
// them, so that most of what they make is one change away from a plan that runs.
std::vector<std::string>& runnable_plans() {
  static std::vector<std::string> plans;
  return plans;
}

void remember_runnable(const g4c::plan::Plan& plan) {
  std::vector<std::string>& plans = runnable_plans();
  if (plans.size() >= 256) plans.erase(plans.begin());
  plans.push_back(g4c::fuzz::printed(plan));
}

size_t emit(const std::string& text, uint8_t* data, size_t max_size) {
  if (text.empty() || text.size() > max_size) return 0;
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

}  // namespace

// A quarter of the mutations change what a plan that ran means, a quarter what the input means
// when it parses (plan_mutator.h); the others are libFuzzer's own byte-level ones.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  const std::vector<std::string>& runnable = runnable_plans();
  size_t out = 0;
  if (seed % 4 == 0 && !runnable.empty())
    out = emit(g4c::fuzz::mutate_plan_text(runnable[(seed / 4) % runnable.size()], seed), data, max_size);
  else if (seed % 4 == 1)
    out = emit(g4c::fuzz::mutate_plan_text(std::string_view(reinterpret_cast<const char*>(data), size), seed), data,
               max_size);
  return out > 0 ? out : LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::parse_plan(text, "fuzz.plan", diag);
  if (!plan) return 0;
  ++g4c::fuzz::stats().parsed;
  const bool verified = g4c::plan::verify_plan(*plan, diag);
  g4c::fuzz::stats().verified += verified;
  g4c::fuzz::check_print_round_trip(*plan, verified);
  if (verified) {
    remember_runnable(*plan);
    g4c::fuzz::run_on_cpu(*plan);
    return 0;
  }
  if (!plan->caches || !plan->buffers || !plan->kernels) return -1;
  static const g4c::ModelSpec no_spec;  // neither pass reads the declaration
  const g4c::RouteOptions routes;
  g4c::DiagnosticEngine repair_diag;
  g4c::PassContext ctx{no_spec, routes, repair_diag};
  g4c::run_buffer_plan(*plan, ctx);
  g4c::run_kernel_instances(*plan, ctx);
  // A plan that parses but breaks a rule is kept out of the corpus (-1): the corpus then holds
  // plans that run, which the structure-aware mutations turn into plans at the rules' edges, and
  // text that does not parse, which explores the parser.
  if (!g4c::plan::verify_plan(*plan, repair_diag)) return -1;
  ++g4c::fuzz::stats().verified;
  g4c::fuzz::check_print_round_trip(*plan, true);
  remember_runnable(*plan);
  g4c::fuzz::run_on_cpu(*plan);
  return 0;
}
