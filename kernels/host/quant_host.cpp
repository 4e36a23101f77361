// Host dequantization through the shared header, quantization dispatch, and error bounds.
#include "g4c/kernels/quant_host.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "reference_quantizers.h"

namespace g4c {

void dequantize_row(QuantType type, const void* src, float* dst, int64_t count) {
  visit_block_type(type, [&](auto tag) {
    using Block = typename decltype(tag)::type;
    assert(count % Block::kElems == 0);
    const auto* blocks = static_cast<const Block*>(src);
    for (int64_t b = 0; b < count / Block::kElems; ++b)
      dequantize_block(blocks[b], dst + b * Block::kElems);
  });
}

float dequantize_element(QuantType type, const void* row, int64_t index) {
  return visit_block_type(type, [&](auto tag) {
    using Block = typename decltype(tag)::type;
    return dequantize_element(static_cast<const Block*>(row), index);
  });
}

void quantize_row(QuantType type, const float* src, void* dst, int64_t count) {
  visit_block_type(type, [&](auto tag) {
    using Block = typename decltype(tag)::type;
    assert(count % Block::kElems == 0);
    quantize_blocks(src, static_cast<Block*>(dst), count / Block::kElems);
  });
}

//===----------------------------------------------------------------------===//
// Error bounds
//===----------------------------------------------------------------------===//

namespace {

constexpr double kFp16UnitRoundoff = 0x1p-11;    // half an ulp of 1 in fp16 (11-bit significand)
constexpr double kBf16UnitRoundoff = 0x1p-8;     // the same for bf16 (8-bit significand)
constexpr double kFp16HalfSubnormal = 0x1p-25;   // half the spacing of fp16 subnormals
constexpr double kBf16HalfSubnormal = 0x1p-134;  // half the spacing of float (= bf16) subnormals
constexpr double kFp16RoundsToInf = 65520.0;     // halfway past the largest half, 65504
constexpr double kBf16RoundsToInf = 0x1.fep127;  // halfway past the largest bf16, 0x1.fcp127
// Float rounding inside a quantizer (x · (1/d), (x + dm)/d, x/d) moves a level choice by a few
// float ulps of |x|; this covers it generously.
constexpr double kFloatSlack = 0x1p-20;

double infinite() { return std::numeric_limits<double>::infinity(); }

// The most that storing a non-negative `scale` as fp16 changes it (absolute: subnormals included).
double fp16_rounding(double scale) {
  return std::max(scale * kFp16UnitRoundoff, kFp16HalfSubnormal);
}

// Q4_0 and Q8_0: codes q·d with |q| <= q_max and d = a / d_divisor. Rounding to the nearest code
// is off by d/2; Q4_0 clamps the element opposite its extreme (+8·d) to 7·d, off by a whole d
// (`clamp_steps` = 1). Storing d as fp16 moves a code by |q|·(fp16 error of d), which also covers
// a d that underflows to zero (every element then decodes to 0, off by at most a).
double absmax_scaled_bound(double a, double d_divisor, double clamp_steps, double q_max) {
  const double d = a / d_divisor;
  if (d >= kFp16RoundsToInf) return infinite();
  return clamp_steps * d + q_max * fp16_rounding(d) + kFloatSlack * a;
}

// K-quants. ggml's scale search may clip an element when that lowers its sub-block's weighted
// squared error, so no tight closed form exists. A super-block of largest |x| = a spreads at most
// 2a over its grid; the bound is `steps` of the coarsest grid step that allows (2a/nmax for the
// affine Q4_K/Q5_K grids, a/32 for Q6_K's symmetric one). This is a measured bound, not a proof:
// adversarial hill climbing on error/a found at most 0.176a (Q4_K), 0.099a (Q5_K) and 0.031a
// (Q6_K), against bounds of 0.267a, 0.129a and 0.0625a. The a·2^-9 term covers rounding d and
// dmin to fp16 (relative 2^-11 of decoded magnitudes up to about 2a). The absolute term covers
// their underflow, where fp16 spacing is 2^-24: each may be off by 2^-25 times the largest
// scale·level product it multiplies, doubled for a d that becomes zero and so drops the scale·level
// part of every element of a sub-block.
double k_quant_bound(double a, double coarsest_step, double steps, double largest_product) {
  const double d_estimate = coarsest_step * 2 / 63;  // generous: the scale before 6-bit rounding
  if (d_estimate >= kFp16RoundsToInf) return infinite();
  return steps * coarsest_step + a * 0x1p-9 + 2 * largest_product * kFp16HalfSubnormal;
}

}  // namespace

double quantization_error_bound(QuantType type, double block_absmax) {
  const double a = block_absmax;
  switch (type) {
    case QuantType::F32: return 0.0;
    case QuantType::F16:
      if (a >= kFp16RoundsToInf) return infinite();
      return std::max(a * kFp16UnitRoundoff, kFp16HalfSubnormal);
    case QuantType::BF16:
      if (a >= kBf16RoundsToInf) return infinite();
      return std::max(a * kBf16UnitRoundoff, kBf16HalfSubnormal);
    case QuantType::Q4_0: return absmax_scaled_bound(a, 8, 1.0, 8);
    case QuantType::Q8_0: return absmax_scaled_bound(a, 127, 0.5, 127);
    case QuantType::Q4_K: return k_quant_bound(a, 2 * a / 15, 2, 63.0 * 15 + 63);
    case QuantType::Q5_K: return k_quant_bound(a, 2 * a / 31, 2, 63.0 * 31 + 63);
    case QuantType::Q6_K: return k_quant_bound(a, a / 32, 2, 128.0 * 32);
  }
  __builtin_unreachable();
}

}  // namespace g4c
