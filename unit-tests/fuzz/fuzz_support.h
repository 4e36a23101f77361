// What the fuzz targets share: the properties they assert and the run that proves a verified plan
// safe to execute. A property that fails is a finding: the target prints what failed and aborts,
// so libFuzzer saves the input (and ctest fails).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "g4c/compiler/lower.h"
#include "g4c/compiler/passes.h"
#include "g4c/gguf/import.h"
#include "g4c/plan/parser.h"
#include "g4c/plan/printer.h"
#include "g4c/plan/verifier.h"
#include "g4c/runtime/generate.h"
#include "g4c/runtime/interpreter.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/spec/load.h"
#include "g4c/support/diagnostics.h"

namespace g4c::fuzz {

[[noreturn]] inline void finding(const std::string& property, const DiagnosticEngine* diag = nullptr) {
  std::fprintf(stderr, "FUZZ FINDING: %s\n", property.c_str());
  if (diag)
    for (const Diagnostic& d : diag->diagnostics()) std::fprintf(stderr, "  %s\n", format_diagnostic(d, "g4c").c_str());
  std::abort();
}

inline std::string printed(const plan::Plan& plan) {
  std::ostringstream os;
  plan::print_plan(plan, os);
  return os.str();
}

// Property (issue 13): printing a plan that parsed gives text that parses back to a plan that
// prints the same, and verifies when the first one did.
inline void check_print_round_trip(const plan::Plan& plan, bool verified) {
  const std::string text = printed(plan);
  DiagnosticEngine diag;
  auto again = plan::parse_plan(text, "printed.plan", diag);
  if (!again) finding("a printed plan does not parse back", &diag);
  if (verified && !plan::verify_plan(*again, diag)) finding("a verified plan, printed and parsed back, does not verify", &diag);
  if (printed(*again) != text) finding("print -> parse -> print is not the identity");
}

// Lowers a declaration at the given widths, context and prefill chunk, and runs every pass with the
// default routes. Property (issue 13): a valid declaration always gives a plan that verifies —
// when `must_verify`, anything else is a finding; otherwise it gives nullopt.
inline std::optional<plan::Plan> compile(const ModelSpec& spec, std::vector<int64_t> widths, int64_t max_context,
                                         int64_t prefill_chunk, bool must_verify, DiagnosticEngine& diag) {
  LowerOptions lower;
  lower.widths = std::move(widths);
  lower.context = std::min<int64_t>(spec.context, max_context);  // full caches of a long context add nothing
  lower.prefill_chunk = prefill_chunk;
  plan::Plan plan = lower_model(spec, lower);
  RouteOptions routes;
  PassContext ctx{spec, routes, diag};
  std::ostringstream ignored;
  if (!run_pipeline(plan, ctx, {}, false, ignored)) {
    if (must_verify) finding("the passes fail on a valid declaration", &diag);
    return std::nullopt;
  }
  if (!plan::verify_plan(plan, diag)) {
    if (must_verify) finding("a valid declaration compiles to a plan that does not verify", &diag);
    return std::nullopt;
  }
  return plan;
}

// The declaration `g4c import` derives from a GGUF file, compiled. Property: what import prints
// passes `g4c check` and compiles to a plan that verifies (when `must_hold`, anything else is a
// finding). nullopt when the file does not import.
inline std::optional<plan::Plan> import_and_compile(const gguf::File& file, int64_t max_context, int64_t prefill_chunk,
                                                    bool must_hold, DiagnosticEngine& diag) {
  auto toml = gguf::import_model(file, diag);
  if (!toml) return std::nullopt;
  auto spec = load_model_spec_from_string(*toml, "imported.toml", diag);
  if (!spec) {
    if (must_hold) finding("g4c import printed a declaration that g4c check refuses", &diag);
    return std::nullopt;
  }
  return compile(*spec, {1, 2}, max_context, prefill_chunk, must_hold, diag);
}

// Sizes under which a verified plan is run on every fuzz input that reaches it: tiny models run
// in milliseconds, and larger ones add nothing the verifier's rules depend on.
inline constexpr int64_t kMaxRunWeightBytes = int64_t{1} << 20;
inline constexpr int64_t kMaxRunCacheBytes = int64_t{1} << 20;  // per sequence
inline constexpr int64_t kMaxRunArenaBytes = int64_t{2} << 20;  // widest width
inline constexpr int64_t kMaxRunMatmulMacs = int64_t{1} << 20;  // per row and step

// How far inputs got, printed at exit when G4C_FUZZ_STATS is set: to see how much of the fuzzing
// reaches verified plans and runs rather than stopping at a rule.
struct Stats {
  int64_t parsed = 0, verified = 0, ran = 0;
};
inline Stats& stats() {
  static Stats s = [] {
    if (std::getenv("G4C_FUZZ_STATS"))
      std::atexit([] {
        std::fprintf(stderr, "g4c fuzz: %lld parsed, %lld verified, %lld ran on the CPU backend\n",
                     static_cast<long long>(stats().parsed), static_cast<long long>(stats().verified),
                     static_cast<long long>(stats().ran));
      });
    return Stats{};
  }();
  return s;
}

inline bool small_enough_to_run(const plan::Plan& plan) {
  if (plan.weight_bytes() > kMaxRunWeightBytes) return false;
  if (Interpreter::cache_bytes(plan, 1) > kMaxRunCacheBytes || Interpreter::arena_bytes(plan) > kMaxRunArenaBytes)
    return false;
  int64_t macs = 0;
  for (const plan::WeightDecl& w : plan.weights) macs += w.ne0 * w.ne1;  // a matmul reads each weight once per row
  return macs <= kMaxRunMatmulMacs;
}

// Runs a verified plan on the CPU backend for a few steps: two sequences (or one, at width 1) of
// short prompts, continuous batching, the plan's prefill chunk. Weights are the given ones, or
// tiny seeded random ones. Any out-of-bounds access is the sanitizers' to report; errors (a NaN
// logit, weights that do not match) are fine — they are diagnostics, not crashes.
inline void run_on_cpu(const plan::Plan& plan, const WeightSet* given = nullptr) {
  if (!small_enough_to_run(plan)) return;
  DiagnosticEngine diag;
  std::optional<WeightSet> random;
  if (!given) {
    std::vector<TensorShape> shapes = plan_tensor_shapes(plan);
    random = random_weights(shapes, 7, structural_tensors(plan));
  }
  const WeightSet& weights = given ? *given : *random;
  const int64_t widest = plan.header.widths.back(), context = plan.header.context, vocab = plan.header.vocab;
  const int sequences = widest >= 2 ? 2 : 1;
  auto backend = Interpreter::create(plan, weights, sequences, diag);
  if (!backend) return;
  ++stats().ran;
  std::vector<std::vector<int32_t>> prompts;
  const int64_t prompt = std::min<int64_t>(3, context);
  for (int s = 0; s < sequences; ++s) {
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < prompt - s && i < context; ++i) ids.push_back(static_cast<int32_t>((7 * i + 3 * s + 1) % vocab));
    if (ids.empty()) ids.push_back(0);
    prompts.push_back(ids);
  }
  GenerateOptions options;
  options.steps = static_cast<int>(std::min<int64_t>(2, context - prompt + 1));
  options.max_active = sequences;
  generate(*backend, prompts, options, diag);
}

}  // namespace g4c::fuzz
