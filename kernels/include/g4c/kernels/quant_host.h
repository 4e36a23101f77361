// Host-side (de)quantization of rows stored in the element types a model declaration may name.
//
// Dequantization goes through quant_blocks.h, the same inline functions the kernels call, so a
// weight decodes to the same float on the CPU backend and on the GPU. Quantization reproduces
// ggml's reference quantizers (quantize_row_*_ref), so a random model quantized here is laid out
// as llama.cpp's tools would lay it out.
//
// The scalar float conversions fp16_to_float, float_to_fp16, bf16_to_float and float_to_bf16 are
// the constexpr ones of quant_blocks.h (also in namespace g4c).
#pragma once

#include <cstdint>

#include "g4c/kernels/quant_blocks.h"
#include "g4c/spec/quant_type.h"

namespace g4c {

template <class Block>
struct BlockTypeTag {
  using type = Block;
};

// Calls `visitor(BlockTypeTag<B>{})` with the block struct B that stores `type`, so generic host
// code can be written once over the block types (as the kernels are).
template <class Visitor>
decltype(auto) visit_block_type(QuantType type, Visitor&& visitor) {
  switch (type) {
    case QuantType::Q4_0: return visitor(BlockTypeTag<block_q4_0>{});
    case QuantType::Q4_K: return visitor(BlockTypeTag<block_q4_K>{});
    case QuantType::Q5_K: return visitor(BlockTypeTag<block_q5_K>{});
    case QuantType::Q6_K: return visitor(BlockTypeTag<block_q6_K>{});
    case QuantType::Q8_0: return visitor(BlockTypeTag<block_q8_0>{});
    case QuantType::F16: return visitor(BlockTypeTag<block_f16>{});
    case QuantType::BF16: return visitor(BlockTypeTag<block_bf16>{});
    case QuantType::F32: return visitor(BlockTypeTag<block_f32>{});
  }
  __builtin_unreachable();
}

// Dequantizes `count` elements starting at element 0 of a row stored in `type`;
// count % info(type).block_elems == 0.
void dequantize_row(QuantType type, const void* src, float* dst, int64_t count);

// Element `index` of a row stored in `type` (for gathers such as embedding lookups).
float dequantize_element(QuantType type, const void* row, int64_t index);

// Quantizes `count` floats into `row_bytes(type, count)` bytes at `dst`, byte for byte as ggml's
// reference quantizers do: Q4_0 and Q8_0 scale by the block's absolute maximum; Q4_K and Q5_K
// search each sub-block's scale and min iteratively (make_qkx2_quants) and round them to 6 bits
// against the super-block's largest; Q6_K searches each 16-element scale (make_qx_quants) and
// rounds it to a signed 8-bit multiple of d; F16 and BF16 round to nearest even; F32 copies.
// count % info(type).block_elems == 0.
void quantize_row(QuantType type, const float* src, void* dst, int64_t count);

// The largest absolute error |dequantize(quantize(x)) − x| any element may have, given the largest
// |x| of its block (32 elements for Q4_0/Q8_0, the 256-element super-block for K-quants, the
// element itself for float types). Infinite when the block's scale overflows fp16. Derived for the
// float types, Q4_0 and Q8_0; for K-quants, whose scale search may clip, it is two steps of the
// coarsest grid, checked against adversarial search (quant_host.cpp has the numbers).
double quantization_error_bound(QuantType type, double block_absmax);

}  // namespace g4c
