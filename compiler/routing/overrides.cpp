#include <cctype>

#include "g4c/compiler/routing.h"
#include "g4c/support/text.h"

namespace g4c {

using plan::Route;

namespace {

bool valid_pattern(std::string_view p) {
  if (p == "*") return true;
  if (p.empty()) return false;
  for (char c : p)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  return true;
}

// "N>=5" → (ge, 5)
bool parse_condition(std::string_view cond, RouteOverride& o) {
  if (!cond.starts_with("N")) return false;
  cond.remove_prefix(1);
  using C = RouteOverride::Compare;
  static constexpr std::pair<std::string_view, C> kOps[] = {{">=", C::ge}, {"<=", C::le}, {"==", C::eq},
                                                            {"!=", C::ne}, {">", C::gt},  {"<", C::lt},
                                                            {"=", C::eq}};
  for (auto [text, compare] : kOps) {
    if (!cond.starts_with(text)) continue;
    auto bound = parse_int(cond.substr(text.size()));
    if (!bound || *bound < 1) return false;
    o.compare = compare;
    o.bound = *bound;
    return true;
  }
  return false;
}

}  // namespace

bool RouteOverride::applies_to_width(int64_t w) const {
  switch (compare) {
    case Compare::any: return true;
    case Compare::eq: return w == bound;
    case Compare::ne: return w != bound;
    case Compare::lt: return w < bound;
    case Compare::le: return w <= bound;
    case Compare::gt: return w > bound;
    case Compare::ge: return w >= bound;
  }
  return false;
}

bool RouteOverride::applies_to_op(const plan::Op& op) const {
  if (op.kind != plan::OpKind::matmul) return false;
  if (pattern == "*" || pattern == op.result) return true;
  if (pattern == "lm_head") return op.result == "logits";
  // A weight class: blk.N.<class>.weight, or <class>.weight for model-wide matrices.
  std::string suffix = "." + pattern + ".weight";
  return op.weight == pattern + ".weight" ||
         (op.weight.starts_with("blk.") && op.weight.ends_with(suffix) &&
          op.weight.find('.', 4) == op.weight.size() - suffix.size());
}

std::optional<RouteOverride> parse_route_override(std::string_view text, std::string& error) {
  RouteOverride o;
  o.text = std::string(text);
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    error = "expected PATTERN=ROUTE[@CONDITION], e.g. ffn_down=mmq@N>=5";
    return std::nullopt;
  }
  o.pattern = std::string(text.substr(0, eq));
  std::string_view rest = text.substr(eq + 1);
  std::string_view route_text = rest.substr(0, rest.find('@'));
  if (!valid_pattern(o.pattern)) {
    error = "invalid pattern " + quote(o.pattern) + " (expected *, a weight class, lm_head, or an op name)";
    return std::nullopt;
  }
  auto route = plan::parse_route(route_text);
  if (!route) {
    const std::vector<std::string> names = plan::route_names();
    error = "unknown route " + quote(route_text) + did_you_mean(route_text, names) + " (expected one of " +
            join(names) + ")";
    return std::nullopt;
  }
  o.route = *route;
  if (size_t at = rest.find('@'); at != std::string_view::npos && !parse_condition(rest.substr(at + 1), o)) {
    error = "invalid condition " + quote(rest.substr(at + 1)) + " (expected N>=K, N>K, N<=K, N<K, N==K or N!=K)";
    return std::nullopt;
  }
  return o;
}

}  // namespace g4c
