// rope {head_dim, rotated_pairs}: NeoX RoPE (gemma4.md §2.4) on every head of each row. Element i
// of a head pairs with element i + HEAD_DIM/2; pairs i < ROTATED_PAIRS rotate by
// pos · theta^(−2i/HEAD_DIM) — the exponent over the full head even when only a fraction rotates
// (proportional RoPE) — and the others pass through.
//
// A block per row, a thread per pair: the thread computes its angle's (cos, sin) once as the CPU op
// does (g4c/kernels/rope_angles.h: the coarse and fine angles in double — positions reach 262143,
// where a float angle has lost most of its fraction — rounded to float, then their product), and
// rotates that pair in every head of the row. Each thread reads its pair
// before writing it, so y may be x; pass-through pairs then need no work at all. The angle and
// the rotation are shared with rms_norm_rope (fused_norm.cuh).
#pragma once

#include "g4c/kernels/rope_angles.h"
#include "ops_common.cuh"

namespace g4c {

__device__ inline RopeCosSin rounded_cos_sin(double angle) {
  double sin_d, cos_d;
  sincos(angle, &sin_d, &cos_d);
  return {static_cast<float>(cos_d), static_cast<float>(sin_d)};
}

// cos and sin of pair `pair`'s angle at `position`, as g4c::cpu::rope_cos_sin computes them: the
// same double expressions of the two factors, each rounded to float, and their product.
template <int HEAD_DIM>
__device__ inline float2 rope_cos_sin(double theta, int position, int pair) {
  const double inv_freq = pow(theta, -2.0 * static_cast<double>(pair) / static_cast<double>(HEAD_DIM));
  const int fine = position % kRopeFinePositions;
  const RopeCosSin cs = rope_angle_sum(rounded_cos_sin(static_cast<double>(position - fine) * inv_freq),
                                       rounded_cos_sin(static_cast<double>(fine) * inv_freq));
  return make_float2(cs.cos, cs.sin);
}

// Rotates the pair (first, second) by the angle whose cos and sin are `cs`. Each product is
// rounded on its own, then the sum: the CPU's rounding, not a fused one.
__device__ inline void rope_rotate(float2 cs, float& first, float& second) {
  const float a = first, b = second;
  first = __fadd_rn(__fmul_rn(a, cs.x), -__fmul_rn(b, cs.y));
  second = __fadd_rn(__fmul_rn(b, cs.x), __fmul_rn(a, cs.y));
}

template <int HEAD_DIM, int ROTATED_PAIRS>
__global__ void __launch_bounds__(HEAD_DIM / 2) rope(RopeArgs a) {
  wait_for_prior_grids();
  static_assert(HEAD_DIM % 2 == 0 && ROTATED_PAIRS >= 0 && ROTATED_PAIRS <= HEAD_DIM / 2, "pairs of a head");
  constexpr int kHalf = HEAD_DIM / 2;
  const int pair = threadIdx.x;
  const long long row = blockIdx.x;
  const float* x = a.x + row * a.heads * HEAD_DIM;
  float* y = a.y + row * a.heads * HEAD_DIM;
  if (pair >= ROTATED_PAIRS) {
    if (a.x == a.y) return;
    for (int h = 0; h < a.heads; ++h) {
      y[h * HEAD_DIM + pair] = x[h * HEAD_DIM + pair];
      y[h * HEAD_DIM + pair + kHalf] = x[h * HEAD_DIM + pair + kHalf];
    }
    return;
  }
  const int angle_pair = injected(InjectedBug::swap_rope_pairs) ? swapped_rope_pair(pair) : pair;
  const float2 cs = rope_cos_sin<HEAD_DIM>(a.theta, a.pos[row], angle_pair);
  for (int h = 0; h < a.heads; ++h) {
    float first = x[h * HEAD_DIM + pair], second = x[h * HEAD_DIM + pair + kHalf];
    rope_rotate(cs, first, second);
    y[h * HEAD_DIM + pair] = first;
    y[h * HEAD_DIM + pair + kHalf] = second;
  }
}

}  // namespace g4c
