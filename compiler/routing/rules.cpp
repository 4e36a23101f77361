// The default route rule table. The thresholds are starting points taken from other engines'
// measurements (shared/reference/routing.md §E) and are to be replaced by H200 measurements
// through tuning files; docs/routes.md gives the reasoning for each.
#include <array>

#include "g4c/compiler/routing.h"
#include "g4c/plan/routes.h"

namespace g4c {

using plan::Route;

namespace {

bool is_float(const RouteQuery& q) { return info(q.type).is_float; }
bool is_kquant(const RouteQuery& q) {
  return q.type == QuantType::Q4_K || q.type == QuantType::Q5_K || q.type == QuantType::Q6_K;
}
bool is_legacy(const RouteQuery& q) { return q.type == QuantType::Q4_0 || q.type == QuantType::Q8_0; }

const std::array<RouteRule, 9> kRules = {{
    {"prefill-cublas", "N >= 128", Route::cublas, [](const RouteQuery& q) { return q.width >= 128; }},
    {"float-ws", "float weight, N <= 8", Route::ws, [](const RouteQuery& q) { return is_float(q) && q.width <= 8; }},
    {"float-cublas", "float weight, N > 8", Route::cublas, [](const RouteQuery& q) { return is_float(q); }},
    {"ws-small", "N <= 4", Route::ws, [](const RouteQuery& q) { return q.width <= 4; }},
    {"mmq-kquant", "Q4_K/Q5_K/Q6_K, N >= 5, rows >= 2048", Route::mmq,
     [](const RouteQuery& q) { return is_kquant(q) && q.width >= 5 && q.rows >= 2048; }},
    {"mmq-legacy", "Q4_0/Q8_0, N >= 8, rows >= 2048", Route::mmq,
     [](const RouteQuery& q) { return is_legacy(q) && q.width >= 8 && q.rows >= 2048; }},
    {"ws-mid", "N <= 16", Route::ws, [](const RouteQuery& q) { return q.width <= 16; }},
    {"gemm-n", "N > 16", Route::gemm_n, [](const RouteQuery&) { return true; }},
    {"ws-any", "anything else", Route::ws, [](const RouteQuery&) { return true; }},
}};

const std::vector<std::string> kPolicyNames = {"default", "ws-only", "no-mmq", "all-cublas"};

}  // namespace

std::span<const RouteRule> default_route_rules() { return kRules; }

plan::RouteChoice default_route(const RouteQuery& q, bool allow_mmq) {
  for (const RouteRule& rule : kRules) {
    if (!allow_mmq && rule.route == Route::mmq) continue;
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
