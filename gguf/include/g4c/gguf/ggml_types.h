// ggml tensor element types as GGUF files number them, with the block geometry needed to size a
// tensor's data, and the mapping to the types a g4c declaration may name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "g4c/spec/quant_type.h"

namespace g4c::gguf {

// ggml_type ids (ggml.h). Ids 4, 5, 31-33 and 36-38 belong to removed types.
namespace ggml {
inline constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9, Q2_K = 10,
                          Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, IQ2_XXS = 16, IQ2_XS = 17,
                          IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25,
                          I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39;
}  // namespace ggml

struct GgmlTypeInfo {
  uint32_t id;
  const char* name;
  uint32_t block_elems;  // elements per block along a row
  uint32_t block_bytes;  // bytes per block
};

// The geometry of a type this reader knows, or nullopt for an unknown id.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t ggml_type);
// "Q4_K", "IQ2_XS", ... or "type 99" for an unknown id.
std::string ggml_type_name(uint32_t ggml_type);
// The g4c type for a ggml type g4c supports (Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, F16, BF16, F32).
std::optional<QuantType> quant_type_from_ggml(uint32_t ggml_type);
uint32_t ggml_type_of(QuantType t);

// Bytes of a tensor of `dims` (ne0 first) in `ggml_type`: (ne0 / block elems × block bytes) × ne1 ×
// ne2 × ne3. nullopt when the type is unknown, a dimension is negative, ne0 is not a whole number
// of blocks, or the size or the element count does not fit in 63 bits.
std::optional<uint64_t> ggml_tensor_bytes(uint32_t ggml_type, const std::vector<int64_t>& dims);

}  // namespace g4c::gguf
