// The weight and cache element types a declaration may name, with their ggml block geometry.
//
// This table is the spec's view of the formats (how many elements a block holds and how many
// bytes it takes); the byte layout of each block lives with the kernels and is checked against
// these numbers there.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace g4c {

enum class QuantType : uint8_t { Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, F16, BF16, F32 };

inline constexpr QuantType kAllQuantTypes[] = {QuantType::Q4_0, QuantType::Q4_K, QuantType::Q5_K,
                                               QuantType::Q6_K, QuantType::Q8_0, QuantType::F16,
                                               QuantType::BF16, QuantType::F32};

struct QuantTypeInfo {
  std::string_view name;
  int block_elems;  // elements per block along a row; a row's length must be a multiple of it
  int block_bytes;  // bytes one block takes
  bool is_float;    // unquantized (F16, BF16, F32)
};

const QuantTypeInfo& info(QuantType t);
inline std::string_view name(QuantType t) { return info(t).name; }
std::optional<QuantType> parse_quant_type(std::string_view s);
std::span<const std::string> quant_type_names();

// Bytes of a row of `elems` elements; `elems` must be a multiple of the block size.
inline int64_t row_bytes(QuantType t, int64_t elems) {
  const QuantTypeInfo& i = info(t);
  return elems / i.block_elems * i.block_bytes;
}

}  // namespace g4c
