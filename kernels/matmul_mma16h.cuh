// Route `mma16h`: fp16 tensor-core matmul of weights in the mma16 layout (Q4_K, Q6_K, Q8_0, Q4_0;
// weight_layouts.h) for N = 1..32 activation rows rounded to fp16.
//
// mma16 multiplies int8 codes, so every 32-column block costs, per 8 activation rows, an int32 →
// float conversion and the block's scale products (~300 instructions a record and 8-row tile):
// issue-bound past 8 rows, it runs 16 and 32 rows as groups re-reading the weights. Here each
// record is dequantized once into fp16 A fragments (g4c/kernels/mma16h_fragments.h: the scales
// folded into the weights), and each 8-row tile then costs two mma.m16n8k16 per block and one
// 16-byte activation load — the per-tile work is the mma alone, so one kernel holds all 32 rows.
// Weights are streamed as mma16 streams them (same records, same loads, evict-first, the next
// record in flight); the fp32 accumulators sum the whole K range inside the mma.
//
// The warps, the launch group's members, the K split and its fixed-order reduction are mma16's
// (Mma16Work).
#pragma once

#include "g4c/kernels/mma16h_fragments.h"
#include "matmul_mma16.cuh"

namespace g4c {

// x f32 [width][cols] → the mma16h activations (matmul_args.h). One warp per (row, super-block),
// as quantize_mma16.
__global__ void __launch_bounds__(matmul::kThreads) quantize_mma16h(QuantizeActivationsArgs a) {
  wait_for_prior_grids();
  quantize_rows<matmul::kActivationsMma16h>(a.x, a.x_q, a.cols, a.width);
}

namespace mm {

// One record's fragments per 32-column block b (a constant after unrolling): the type's
// dequantization of mma16's Record.
template <class Block>
struct Mma16hType;

template <>
struct Mma16hType<block_q4_K> {
  __device__ static mma16h::BlockFragments fragments(const Mma16Type<block_q4_K>::Record& r, int b) {
    const uint4 c = r.codes[b / 2];
    const unsigned upper[4] = {r.upper.x, r.upper.y, r.upper.z, r.upper.w};
    const unsigned lower[4] = {r.lower.x, r.lower.y, r.lower.z, r.lower.w};
    return mma16h::q4_k_fragments(c.x, c.y, c.z, c.w, mma16h::q4_k_row(upper), mma16h::q4_k_row(lower), b);
  }
};

template <>
struct Mma16hType<block_q6_K> {
  __device__ static mma16h::BlockFragments fragments(const Mma16Type<block_q6_K>::Record& r, int b) {
    const int h = b / 4, q = b % 4;
    const uint4 ql = r.ql[2 * h + q % 2], qh = r.qh[h];
    const unsigned upper[4] = {r.upper.x, r.upper.y, r.upper.z, r.upper.w};
    const unsigned lower[4] = {r.lower.x, r.lower.y, r.lower.z, r.lower.w};
    return mma16h::q6_k_fragments(ql.x, ql.y, ql.z, ql.w, qh.x, qh.y, qh.z, qh.w, upper, lower, r.d_upper, r.d_lower, b);
  }
};

template <>
struct Mma16hType<block_q8_0> {
  __device__ static mma16h::BlockFragments fragments(const Mma16Type<block_q8_0>::Record& r, int b) {
    const uint4 c = r.codes[b];
    return mma16h::q8_0_fragments(c.x, c.y, c.z, c.w, block_scale_bits(r.upper, b), block_scale_bits(r.lower, b));
  }
};

template <>
struct Mma16hType<block_q4_0> {
  __device__ static mma16h::BlockFragments fragments(const Mma16Type<block_q4_0>::Record& r, int b) {
    const uint4 c = r.codes[b / 2];
    const bool odd = b % 2 != 0;
    return mma16h::q4_0_fragments(odd ? c.z : c.x, odd ? c.w : c.y, block_scale_bits(r.upper, b),
                                  block_scale_bits(r.lower, b));
  }
};

// acc += the record's 16 × 256 weights times the activations of one super-block: `offset` bytes
// past each 8-row tile's lane slot of the first (rows).
template <class Block, int kTiles8>
__device__ __forceinline__ void multiply_fp16(const typename Mma16Type<Block>::Record& r,
                                              const unsigned char* const (&rows)[kTiles8], long long offset,
                                              float (&acc)[kTiles8][4]) {
  const unsigned char* x[kTiles8];
#pragma unroll
  for (int j = 0; j < kTiles8; ++j) x[j] = rows[j] + offset;
#pragma unroll
  for (int b = 0; b < 8; ++b) {
    const mma16h::BlockFragments f = Mma16hType<Block>::fragments(r, b);
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      const uint4 v = load_in_order_16(x[j] + 64 * b);
      mma_f16_k16(acc[j], f.first, v.x, v.y);
      mma_f16_k16(acc[j], f.second, v.z, v.w);
    }
  }
}

}  // namespace mm

// The block's tiles of its member, whose weights are of type Block, written to the member's y.
template <class Block, int kCapacity>
__device__ __forceinline__ void mma16h_tiles(const Mma16Args& a, const Mma16Work& work) {
  using namespace mm;
  constexpr int kTiles8 = kCapacity / 8;
  const int lane = threadIdx.x % 32;
  // Row 8j + g of the tile's rows (past the width: the last row, whose results are never written),
  // at the lane's 16 bytes of a block of the first super-block.
  const unsigned char* rows[kTiles8];
#pragma unroll
  for (int j = 0; j < kTiles8; ++j) {
    const int n = 8 * j + lane / 4;
    rows[j] = static_cast<const unsigned char*>(a.x_q) + matmul::mma16h_half_byte(n < a.width ? n : a.width - 1, 0, 4 * (lane % 4));
  }
  const long long activation_stride = static_cast<long long>(a.width) * matmul::kMma16hRowBytes;
  float acc[kTiles8][4];
  zero_fragments(acc);
  work.stream<Mma16Type<Block>>(lane, [&](const typename Mma16Type<Block>::Record& r, long long kb) {
    multiply_fp16<Block, kTiles8>(r, rows, kb * activation_stride, acc);
  });
  work.finish(acc);
}

// y[n][j] = Σ_k x[n][k] · W[j][k] for n < args.width (≤ kCapacity), W in the mma16 layout, x
// from quantize_mma16h for that width, for each member (W, y) of the launch group (of weight type
// Block, but the last member's LastBlock, as matmul_mma16). Grid: Σ_members ceil(tiles / (4 /
// k_split)) blocks of matmul::kThreads threads, member by member or a geglu epilogue's segment by
// segment (Mma16Work; row_groups is 1); matmul::mma16_shared_bytes(kCapacity, k_split, stage_bytes)
// bytes of dynamic shared memory.
template <class Block, int kCapacity, int GEGLU_QUANTIZE = kNoGegluEpilogue, class LastBlock = Block>
__global__ void __launch_bounds__(matmul::kThreads, matmul::mma16_min_blocks_per_sm(kCapacity)) matmul_mma16h(Mma16Args a) {
  mma16_launch_block<Block, LastBlock, kCapacity, GEGLU_QUANTIZE>(
      a, []<class B>(const Mma16Args& args, const Mma16Work& work) { mma16h_tiles<B, kCapacity>(args, work); });
}

}  // namespace g4c
