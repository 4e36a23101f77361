// rope {head_dim, rotated_pairs}: NeoX RoPE (gemma4.md §2.4) on every head of each row. Element i
// of a head pairs with element i + HEAD_DIM/2; pairs i < ROTATED_PAIRS rotate by
// pos · theta^(−2i/HEAD_DIM) — the exponent over the full head even when only a fraction rotates
// (proportional RoPE) — and the others pass through.
//
// A block per row, a thread per pair: the thread computes its angle once, in double (positions
// reach 262143, where a float angle has lost most of its fraction), rounds cos and sin to float
// as the CPU op does, and rotates that pair in every head of the row. Each thread reads its pair
// before writing it, so y may be x; pass-through pairs then need no work at all.
#include "ops_common.cuh"

namespace g4c {

template <int HEAD_DIM, int ROTATED_PAIRS>
__global__ void __launch_bounds__(HEAD_DIM / 2) rope(RopeArgs a) {
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
  // The same expression as g4c::cpu::rope, so both round the same double angle.
  const double inv_freq = pow(a.theta, -2.0 * static_cast<double>(pair) / static_cast<double>(HEAD_DIM));
  const double angle = static_cast<double>(a.pos[row]) * inv_freq;
  double sin_d, cos_d;
  sincos(angle, &sin_d, &cos_d);
  const float c = static_cast<float>(cos_d), s = static_cast<float>(sin_d);
  for (int h = 0; h < a.heads; ++h) {
    const float first = x[h * HEAD_DIM + pair], second = x[h * HEAD_DIM + pair + kHalf];
    // Each product rounded on its own, then the sum: the CPU's rounding, not a fused one.
    y[h * HEAD_DIM + pair] = __fadd_rn(__fmul_rn(first, c), -__fmul_rn(second, s));
    y[h * HEAD_DIM + pair + kHalf] = __fadd_rn(__fmul_rn(second, c), __fmul_rn(first, s));
  }
}

}  // namespace g4c
