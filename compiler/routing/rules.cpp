// The default route rule table, from the H200 measurements in tuning/h200.toml (`g4run tune`,
// docs/perf.md): the rules a plan gets without a tuning file, which then refines them per shape.
// docs/routes.md gives the reasoning for each.
#include <array>

#include "g4c/compiler/routing.h"
#include "g4c/plan/routes.h"

namespace g4c {

using plan::Route;

namespace {

bool is_float(const RouteQuery& q) { return info(q.type).is_float; }

// The types measured faster on the mma16 layout's routes than on mmq, whose whole-model oracles
// have run there: the 12B's Q4_K and Q6_K (1.0-1.9x mmq at every shape at N = 1 and 8; H100,
// tuning/h100-12b-mma16.toml), and Q8_0 (the E4B) and Q4_0 (the QAT 12B): 1.0-1.7x at every shape,
// the whole step −27% / −33% at N = 1 (H100, same-call A/B against mmq; the E4B's full-size
// batched-vs-single oracle passed on them; docs/perf.md).
bool layout_measured_type(const RouteQuery& q) {
  return q.type == QuantType::Q4_K || q.type == QuantType::Q6_K || q.type == QuantType::Q8_0 ||
         q.type == QuantType::Q4_0;
}

bool mma16_measured(const RouteQuery& q) { return layout_measured_type(q) && q.width <= 32; }

// mma16h measured faster than mma16's 8-row groups at N = 16 and 32 on the 12B's large Q4_K and
// Q6_K shapes (gate/up 21.2 vs 26.7 µs at N = 16, 30.9 vs 47.1 at 32; the whole step −8% / −15%;
// H100, docs/perf.md); at N <= 8 the two are within a few %, mma16 ahead on the large shapes.
bool mma16h_measured(const RouteQuery& q) { return layout_measured_type(q) && q.width >= 16 && q.width <= 32; }

const std::array<RouteRule, 7> kRules = {{
    {"prefill-cublas", "N >= 128", Route::cublas, [](const RouteQuery& q) { return q.width >= 128; }},
    {"float-cublas", "float weight", Route::cublas, [](const RouteQuery& q) { return is_float(q); }},
    {"mma16h-wide", "Q4_K, Q6_K, Q8_0 or Q4_0 weight, 16 <= N <= 32", Route::mma16h, mma16h_measured},
    {"mma16-quant", "Q4_K, Q6_K, Q8_0 or Q4_0 weight, N <= 32", Route::mma16, mma16_measured},
    {"mmq-quant", "quantized weight, N <= 32", Route::mmq, [](const RouteQuery& q) { return q.width <= 32; }},
    {"gemm-n", "N > 16", Route::gemm_n, [](const RouteQuery& q) { return q.width > 16; }},
    {"ws-any", "anything else", Route::ws, [](const RouteQuery&) { return true; }},
}};

const std::vector<std::string> kPolicyNames = {"default", "ws-only", "no-mmq", "no-mma16", "all-cublas", "no-mma16h"};

}  // namespace

std::span<const RouteRule> default_route_rules() { return kRules; }

plan::RouteChoice default_route(const RouteQuery& q, bool allow_mmq, bool allow_mma16, bool allow_mma16h) {
  for (const RouteRule& rule : kRules) {
    if ((!allow_mmq && rule.route == Route::mmq) ||
        (!allow_mma16 && plan::route_layout(rule.route) == WeightLayout::mma16) ||
        (!allow_mma16h && rule.route == Route::mma16h))
      continue;
    if (!rule.matches(q) || !plan::route_legal(rule.route, q.type, q.rows, q.cols)) continue;
    return {static_cast<int>(q.width), rule.route, "rule " + std::string(rule.id)};
  }
  return {static_cast<int>(q.width), Route::ws, "rule ws-any"};
}

std::string_view name(RoutePolicy p) { return kPolicyNames[static_cast<size_t>(p)]; }

std::optional<RoutePolicy> parse_route_policy(std::string_view s) {
  for (size_t i = 0; i < kPolicyNames.size(); ++i)
    if (kPolicyNames[i] == s) return static_cast<RoutePolicy>(i);
  return std::nullopt;
}

std::span<const std::string> route_policy_names() { return kPolicyNames; }

}  // namespace g4c
