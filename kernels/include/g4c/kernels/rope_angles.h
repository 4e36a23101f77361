// RoPE angles as the product of two factors, one definition for the CPU ops (g4c::cpu::rope_cos_sin)
// and the kernels. The (cos, sin) of pair i at position p = 16·h + l is that of the coarse angle
// 16·h·f_i turned by that of the fine angle l·f_i: each factor the angle in double (positions reach
// 262143, past float's precision) rounded to float, their product four rounded float products and
// two rounded sums (never fused: host and device round alike). Every RoPE of both backends rotates
// by this product — the device tables hold it — so a kernel holding the 16 fine rows and one or two
// coarse rows of a 16-key tile rebuilds its keys' angles exactly, from 64 bytes of table a key
// instead of a 512-byte row (the tensor-core attention over V alone, kernels/attention_mma.cuh).
#pragma once

#include "g4c/kernels/quant_blocks.h"  // G4C_HD

namespace g4c {

inline constexpr int kRopeFinePositions = 16;

struct RopeCosSin {
  float cos, sin;
};

// (cos, sin)(a + b) from those of a (coarse) and b (fine).
G4C_HD inline RopeCosSin rope_angle_sum(RopeCosSin a, RopeCosSin b) {
#if defined(__CUDA_ARCH__)
  return {__fsub_rn(__fmul_rn(a.cos, b.cos), __fmul_rn(a.sin, b.sin)),
          __fadd_rn(__fmul_rn(a.sin, b.cos), __fmul_rn(a.cos, b.sin))};
#else
  const float cc = a.cos * b.cos, ss = a.sin * b.sin, sc = a.sin * b.cos, cs = a.cos * b.sin;
  return {cc - ss, sc + cs};
#endif
}

// A RoPE table on the device, in (cos, sin) float pairs of `pairs` rotated pairs a row: the
// product at every position [0, positions), then the fine factors of positions 0 .. 15, then the
// coarse factors of positions 0, 16, 32, … — positions / 16 + 2 rows, so that the row after a
// tile's first position's is there for every tile that starts before `positions`. Offsets and
// sizes in floats.
G4C_HD constexpr long long rope_coarse_rows(long long positions) { return positions / kRopeFinePositions + 2; }
G4C_HD constexpr long long rope_fine_offset(long long positions, long long pairs) { return positions * pairs * 2; }
G4C_HD constexpr long long rope_coarse_offset(long long positions, long long pairs) {
  return (positions + kRopeFinePositions) * pairs * 2;
}
G4C_HD constexpr long long rope_table_floats(long long positions, long long pairs) {
  return (positions + kRopeFinePositions + rope_coarse_rows(positions)) * pairs * 2;
}

}  // namespace g4c
