#include "g4c/spec/quant_type.h"

#include <array>
#include <vector>

namespace g4c {

// ggml block geometry (shared/reference/routing.md §B.6).
static constexpr std::array<QuantTypeInfo, 8> kInfo = {{
    {"Q4_0", 32, 18, false},
    {"Q4_K", 256, 144, false},
    {"Q5_K", 256, 176, false},
    {"Q6_K", 256, 210, false},
    {"Q8_0", 32, 34, false},
    {"F16", 1, 2, true},
    {"BF16", 1, 2, true},
    {"F32", 1, 4, true},
}};

const QuantTypeInfo& info(QuantType t) { return kInfo[static_cast<size_t>(t)]; }

std::optional<QuantType> parse_quant_type(std::string_view s) {
  for (QuantType t : kAllQuantTypes)
    if (info(t).name == s) return t;
  return std::nullopt;
}

std::span<const std::string> quant_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (QuantType t : kAllQuantTypes) v.emplace_back(info(t).name);
    return v;
  }();
  return names;
}

}  // namespace g4c
