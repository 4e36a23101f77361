// How the routes pass picks a matmul route for each width: the default rule table
// (docs/routes.md), route policies for A/B runs, `--route` overrides, and tuning files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/plan/tuning_file.h"
#include "g4c/spec/quant_type.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

struct RouteQuery {
  QuantType type;
  int64_t rows;
  int64_t cols;
  int64_t width;
};

struct RouteRule {
  std::string_view id;
  std::string_view condition;  // for docs and --help
  plan::Route route;
  bool (*matches)(const RouteQuery&);
};

// The rules in evaluation order; the first whose condition holds and whose route is legal for the
// shape wins. The last rule (ws) matches everything.
std::span<const RouteRule> default_route_rules();

// The default decision; rules for a route not allowed are skipped (policies no-mmq, no-mma16 — both
// routes of the mma16 layout — and no-mma16h; the mma16 layout also where a weight cannot take it).
plan::RouteChoice default_route(const RouteQuery& q, bool allow_mmq, bool allow_mma16 = true, bool allow_mma16h = true);

enum class RoutePolicy : uint8_t { default_rules, ws_only, no_mmq, no_mma16, all_cublas, no_mma16h };
std::string_view name(RoutePolicy p);
std::optional<RoutePolicy> parse_route_policy(std::string_view s);
std::span<const std::string> route_policy_names();

// `--route PATTERN=ROUTE[@N<op>K]`: PATTERN is `*`, a weight class (ffn_down, attn_q, …), `lm_head`,
// or an op result (`l5.q`); the condition limits the widths (`N>=5`, `N<8`, `N==1`, …).
struct RouteOverride {
  std::string text;
  std::string pattern;
  plan::Route route = plan::Route::ws;
  enum class Compare : uint8_t { any, eq, ne, lt, le, gt, ge } compare = Compare::any;
  int64_t bound = 0;

  bool applies_to_width(int64_t width) const;
  bool applies_to_op(const plan::Op& op) const;
};

std::optional<RouteOverride> parse_route_override(std::string_view text, std::string& error);


}  // namespace g4c
