// ggml's reference quantizers (ggml-quants.c, quantize_row_*_ref) re-expressed over the shared
// block structs.
//
// The point is byte-for-byte agreement with files quantized by llama.cpp's tools, so every float
// expression keeps ggml's operands, operand order and float precision. The build's -std=c++20
// (not gnu++20) leaves -ffp-contract off, so no multiply-add is fused behind our back.
#include "reference_quantizers.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace g4c {
namespace {

// Below this a group is treated as all zeros (ggml's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// Elements that share one (scale, min) pair in Q4_K/Q5_K, and one scale in Q6_K.
constexpr int kKSubBlockElems = 32;
constexpr int kQ6SubBlockElems = 16;

// Nearest integer, ties to even (ggml's nearest_int): adding 1.5 · 2^23 leaves the rounded value
// in the low mantissa bits. Meant for |value| < 2^22; beyond that it wraps exactly as ggml's does.
int nearest_int(float value) {
  const float shifted = value + 12582912.f;
  return static_cast<int>(std::bit_cast<uint32_t>(shifted) & 0x007fffffu) - 0x00400000;
}

//===----------------------------------------------------------------------===//
// Q4_0, Q8_0: one scale per 32 elements from the absolute maximum
//===----------------------------------------------------------------------===//

void quantize_q4_0_block(const float* x, block_q4_0& y) {
  constexpr int kHalf = block_q4_0::kElems / 2;
  // The element of largest magnitude, with its sign, becomes code 0 (= −8·d), so its side of zero
  // gets all eight negative codes.
  float absmax = 0.0f;
  float extreme = 0.0f;
  for (int j = 0; j < block_q4_0::kElems; ++j) {
    if (absmax < std::fabs(x[j])) {
      absmax = std::fabs(x[j]);
      extreme = x[j];
    }
  }
  const float d = extreme / -8;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  y.d = float_to_fp16(d);
  for (int j = 0; j < kHalf; ++j) {
    // Truncating x/d + 8.5 rounds half up; the opposite extreme (+8) is clamped to code 15.
    const int low = std::min(15, static_cast<int>(x[j] * inverse + 8.5f));
    const int high = std::min(15, static_cast<int>(x[j + kHalf] * inverse + 8.5f));
    y.qs[j] = static_cast<unsigned char>(low | (high << 4));
  }
}

void quantize_q8_0_block(const float* x, block_q8_0& y) {
  float absmax = 0.0f;
  for (int j = 0; j < block_q8_0::kElems; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  const float d = absmax / 127;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  y.d = float_to_fp16(d);
  for (int j = 0; j < block_q8_0::kElems; ++j)
    y.qs[j] = static_cast<signed char>(std::round(x[j] * inverse));
}

//===----------------------------------------------------------------------===//
// Q4_K, Q5_K: per 32-element sub-block x ≈ scale·L − min, both rounded to 6 bits
//===----------------------------------------------------------------------===//

// The sweep of candidate inverse scales (nmax + rmin + rdelta·step) / (max − min), step = 0..steps.
struct ScaleSweep {
  float rmin;
  float rdelta;
  int steps;
};

// ggml's make_qkx2_quants with squared error: starts from the grid spanning [min(x, 0), max(x)],
// then for each candidate inverse scale fits scale and offset to the rounded levels by weighted
// least squares and keeps the fit with the smallest weighted squared error. Writes the levels
// (0..nmax) and the offset as a non-negative `negated_min`; returns the scale.
float fit_scale_and_min(const float* x, const float* weights, int nmax, const ScaleSweep& sweep,
                        unsigned char* levels, float& negated_min) {
  constexpr int n = kKSubBlockElems;
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill_n(levels, n, 0);
    negated_min = -min;
    return 0.f;
  }
  float inverse_scale = nmax / (max - min);
  float scale = 1 / inverse_scale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    levels[i] =
        static_cast<unsigned char>(std::clamp(nearest_int(inverse_scale * (x[i] - min)), 0, nmax));
    const float diff = scale * levels[i] + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int step = 0; step <= sweep.steps; ++step) {
    inverse_scale = (sweep.rmin + sweep.rdelta * step + nmax) / (max - min);
    unsigned char candidate[n];
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(inverse_scale * (x[i] - min)), 0, nmax);
      candidate[i] = static_cast<unsigned char>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float determinant = sum_w * sum_l2 - sum_l * sum_l;
    if (!(determinant > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / determinant;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / determinant;
    if (this_min > 0) {  // the grid must reach zero: refit the scale alone
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * candidate[i] + this_min - x[i];
      error += weights[i] * (diff * diff);
    }
    if (error < best_error) {
      std::copy_n(candidate, n, levels);
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  negated_min = -min;
  return scale;
}

void pack_scale_min_k4(int sub_block, unsigned char scale, unsigned char min,
                       unsigned char* packed) {
  if (sub_block < 4) {
    packed[sub_block] |= scale;
    packed[sub_block + 4] |= min;
    return;
  }
  packed[sub_block + 4] = static_cast<unsigned char>((scale & 0xF) | ((min & 0xF) << 4));
  packed[sub_block - 4] |= static_cast<unsigned char>((scale >> 4) << 6);
  packed[sub_block] |= static_cast<unsigned char>((min >> 4) << 6);
}

// What Q4_K and Q5_K share: the scale fields and one level (0..nmax) per element.
struct KSuperBlock {
  unsigned short d = 0;
  unsigned short dmin = 0;
  unsigned char scales[kKScaleBytes] = {};
  unsigned char levels[block_q4_K::kElems] = {};
};

KSuperBlock quantize_k4_super_block(const float* x, int nmax, const ScaleSweep& sweep) {
  constexpr int kSubBlocks = block_q4_K::kElems / kKSubBlockElems;
  KSuperBlock out;
  float scales[kSubBlocks];
  float mins[kSubBlocks];
  float max_scale = 0;  // scales are never negative: the min absorbs the offset
  float max_min = 0;
  for (int j = 0; j < kSubBlocks; ++j) {
    const float* sub = x + kKSubBlockElems * j;
    // Weight each element by its magnitude plus the sub-block's RMS (ggml's choice).
    float sum_x2 = 0;
    for (int l = 0; l < kKSubBlockElems; ++l) sum_x2 += sub[l] * sub[l];
    const float rms = std::sqrt(sum_x2 / kKSubBlockElems);
    float weights[kKSubBlockElems];
    for (int l = 0; l < kKSubBlockElems; ++l) weights[l] = rms + std::fabs(sub[l]);
    scales[j] =
        fit_scale_and_min(sub, weights, nmax, sweep, out.levels + kKSubBlockElems * j, mins[j]);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  // 6-bit scales and mins relative to the largest of each; the conversion to an 8-bit value before
  // clamping to 63 is ggml's (it only matters for negative fits, which wrap).
  const float inverse_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inverse_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kSubBlocks; ++j) {
    const auto scale = static_cast<unsigned char>(nearest_int(inverse_scale * scales[j]));
    const auto min = static_cast<unsigned char>(nearest_int(inverse_min * mins[j]));
    pack_scale_min_k4(j, std::min<unsigned char>(63, scale), std::min<unsigned char>(63, min),
                      out.scales);
  }
  out.d = float_to_fp16(max_scale / 63.f);
  out.dmin = float_to_fp16(max_min / 63.f);
  // Re-pick every level against the scale and min actually stored. A sub-block whose scale rounded
  // to zero keeps the search's levels: all of its elements decode to −dmin·m anyway.
  for (int j = 0; j < kSubBlocks; ++j) {
    const KScaleMin stored = get_scale_min_k4(j, out.scales);
    const float d = fp16_to_float(out.d) * stored.scale;
    if (d == 0) continue;
    const float dm = fp16_to_float(out.dmin) * stored.min;
    for (int i = kKSubBlockElems * j; i < kKSubBlockElems * (j + 1); ++i)
      out.levels[i] = static_cast<unsigned char>(std::clamp(nearest_int((x[i] + dm) / d), 0, nmax));
  }
  return out;
}

void quantize_q4_K_block(const float* x, block_q4_K& y) {
  const KSuperBlock k = quantize_k4_super_block(x, 15, {-1.f, 0.1f, 20});
  y.d = k.d;
  y.dmin = k.dmin;
  std::memcpy(y.scales, k.scales, kKScaleBytes);
  for (int chunk = 0; chunk < 4; ++chunk)
    for (int l = 0; l < 32; ++l)
      y.qs[32 * chunk + l] = static_cast<unsigned char>(k.levels[64 * chunk + l] |
                                                        (k.levels[64 * chunk + 32 + l] << 4));
}

void quantize_q5_K_block(const float* x, block_q5_K& y) {
  const KSuperBlock k = quantize_k4_super_block(x, 31, {-0.5f, 0.1f, 15});
  y.d = k.d;
  y.dmin = k.dmin;
  std::memcpy(y.scales, k.scales, kKScaleBytes);
  std::memset(y.qh, 0, sizeof(y.qh));
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      const int low = k.levels[64 * chunk + l];
      const int high = k.levels[64 * chunk + 32 + l];
      // Bit s of qh[l] is the fifth bit of sub-block s's element l.
      y.qh[l] |= static_cast<unsigned char>(((low >> 4) << (2 * chunk)) |
                                            ((high >> 4) << (2 * chunk + 1)));
      y.qs[32 * chunk + l] = static_cast<unsigned char>((low & 0xF) | ((high & 0xF) << 4));
    }
  }
}

//===----------------------------------------------------------------------===//
// Q6_K: per 16-element group a symmetric scale, rounded to a signed 8-bit multiple of d
//===----------------------------------------------------------------------===//

constexpr int kQ6Levels = 32;  // codes −32..31

// ggml's make_qx_quants(16, 32, x, L, rmse_type = 1): levels round(x / scale) in −32..31 (stored
// +32) with the scale chosen among −(32 + 0.1·k)/max, k = −9..9, by x²-weighted least squares.
float fit_symmetric_scale(const float* x, signed char* levels) {
  constexpr int n = kQ6SubBlockElems;
  constexpr int nmax = kQ6Levels;
  float max = 0;
  float absmax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > absmax) {
      absmax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (absmax < kGroupMaxEps) {
    std::fill_n(levels, n, 0);
    return 0.f;
  }
  auto level_at = [&](float inverse_scale, int i) {
    return std::clamp(nearest_int(inverse_scale * x[i]), -nmax, nmax - 1);
  };
  float inverse_scale = -nmax / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = level_at(inverse_scale, i);
    levels[i] = static_cast<signed char>(l + nmax);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    inverse_scale = -(nmax + 0.1f * k) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level_at(inverse_scale, i);
      const float w = x[i] * x[i];
      sum_lx += w * x[i] * l;
      sum_l2 += w * l * l;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i)
        levels[i] = static_cast<signed char>(nmax + level_at(inverse_scale, i));
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

void pack_q6_K_levels(const signed char* levels, block_q6_K& y) {
  for (int half = 0; half < 2; ++half) {
    const signed char* q = levels + 128 * half;
    for (int l = 0; l < 32; ++l) {
      y.ql[64 * half + l] = static_cast<unsigned char>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
      y.ql[64 * half + l + 32] =
          static_cast<unsigned char>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
      y.qh[32 * half + l] =
          static_cast<unsigned char>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                     ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
    }
  }
}

void quantize_q6_K_block(const float* x, block_q6_K& y) {
  constexpr int kGroups = block_q6_K::kElems / kQ6SubBlockElems;
  signed char levels[block_q6_K::kElems];
  float scales[kGroups];
  float max_scale = 0;  // the group scale of largest magnitude, with its sign
  float max_abs_scale = 0;
  for (int g = 0; g < kGroups; ++g) {
    scales[g] = fit_symmetric_scale(x + kQ6SubBlockElems * g, levels + kQ6SubBlockElems * g);
    if (std::fabs(scales[g]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[g]);
      max_scale = scales[g];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  // The largest scale becomes −128 · d; the opposite sign may only reach +127.
  const float inverse_scale = -128.f / max_scale;
  y.d = float_to_fp16(1 / inverse_scale);
  for (int g = 0; g < kGroups; ++g)
    y.scales[g] = static_cast<signed char>(std::min(127, nearest_int(inverse_scale * scales[g])));
  // Re-pick the levels against the stored scales; a group whose scale rounded to zero keeps the
  // search's levels (it decodes to zero anyway).
  for (int g = 0; g < kGroups; ++g) {
    const float d = fp16_to_float(y.d) * y.scales[g];
    if (d == 0) continue;
    for (int i = kQ6SubBlockElems * g; i < kQ6SubBlockElems * (g + 1); ++i)
      levels[i] = static_cast<signed char>(std::clamp(nearest_int(x[i] / d), -32, 31) + 32);
  }
  pack_q6_K_levels(levels, y);
}

template <class Block, class QuantizeBlock>
void quantize_each(const float* x, Block* y, int64_t blocks, QuantizeBlock quantize_block) {
  for (int64_t b = 0; b < blocks; ++b) quantize_block(x + b * Block::kElems, y[b]);
}

}  // namespace

void quantize_blocks(const float* x, block_q4_0* y, int64_t blocks) {
  quantize_each(x, y, blocks, quantize_q4_0_block);
}
void quantize_blocks(const float* x, block_q8_0* y, int64_t blocks) {
  quantize_each(x, y, blocks, quantize_q8_0_block);
}
void quantize_blocks(const float* x, block_q4_K* y, int64_t blocks) {
  quantize_each(x, y, blocks, quantize_q4_K_block);
}
void quantize_blocks(const float* x, block_q5_K* y, int64_t blocks) {
  quantize_each(x, y, blocks, quantize_q5_K_block);
}
void quantize_blocks(const float* x, block_q6_K* y, int64_t blocks) {
  quantize_each(x, y, blocks, quantize_q6_K_block);
}
void quantize_blocks(const float* x, block_f16* y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i) y[i].bits = float_to_fp16(x[i]);
}
void quantize_blocks(const float* x, block_bf16* y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i) y[i].bits = float_to_bf16(x[i]);
}
void quantize_blocks(const float* x, block_f32* y, int64_t blocks) {
  for (int64_t i = 0; i < blocks; ++i) y[i].value = x[i];
}

}  // namespace g4c
