// Route `mmq` (decode MMQ): activations quantized to q8_1 (quantize_q8_1), then int8 tensor-core
// mma (m16n8k32, Q6_K m16n8k16) against the weights' own integer codes. Q4_0, Q4_K, Q5_K, Q6_K,
// Q8_0; cols % 256 == 0; N up to 32.
//
// A block of four warps is laid out as row_warps × (4 / row_warps): each warp owns 16 rows and
// computes them for all N activation rows (mma tiles of 8, so every weight byte is read once per
// step for any N ≤ 32); the warps of a row group split the super-blocks. One K-step is a whole
// 256-column super-block (eight 32-column mmas per barrier pair: a 32-column step cannot hide the
// next load) staged by cp.async three deep: the raw weight super-blocks of all 64 (row, K-lane)
// pairs and each K-lane's q8_1 activations (codes padded for conflict-free ldmatrix, then the
// scale records). matmul_mmq_types.cuh has each type's fragment and scaling arithmetic.
#pragma once

#include "matmul_mmq_types.cuh"

namespace g4c {

// x f32 [width][cols] → q8_1 (matmul_args.h: super-block-major, per 32 values d = max|x| / 127
// as fp16, q = round(x / d), and Σq). One warp per (row, super-block), 8 values a lane.
// Grid: ceil(width · cols / 256 · 32 / matmul::kThreads) blocks of matmul::kThreads threads.
__global__ void __launch_bounds__(matmul::kThreads) quantize_q8_1(QuantizeActivationsArgs args) {
  wait_for_prior_grids();
  quantize_rows<matmul::kActivationsQ81>(args.x, args.x_q, args.cols, args.width);
}

namespace mm {

template <class Block, int kTiles8_>
struct MmqGeometry {
  static constexpr int kTiles8 = kTiles8_;  // mma tiles of 8 activation rows
  static constexpr int kWidth = 8 * kTiles8;
  static constexpr int kWeightBytes = matmul::kBlockTileSlots * TileTraits<Block>::kSlotBytes;
  static constexpr int kActivationBytes = matmul::mmq_activation_bytes(kWidth);
  __device__ static int stage_bytes(int k_warps) { return kWeightBytes + k_warps * kActivationBytes; }
};

// Copies block step `step`'s super-blocks (weights, and the activations of `width` rows) into the
// stage at `stage`.
template <class Block, int kTiles8, class Stager>
__device__ __forceinline__ void mmq_stage(const Stager& weights, int weight_tile, long long row_bytes, int tiles,
                                          const MmqArgs& args, int width, int step, int k_warps, unsigned char* stage) {
  using Geometry = MmqGeometry<Block, kTiles8>;
  weights.issue(shared_address(stage), static_cast<long long>(weight_tile) * TileTraits<Block>::kTileBytes,
                tile_bytes_in_row<Block>(weight_tile, tiles, row_bytes));
  // Activations: per K-lane, the super-block's width × 288 contiguous bytes as 16-byte chunks,
  // codes re-strided to kMmqCodeStride per row, the scale records copied as they are.
  const int code_chunks = width * matmul::kQ8CodeBytes / 16;
  const int chunks = width * matmul::kQ8RowBytes / 16;
  const unsigned char* x_q8 = static_cast<const unsigned char*>(args.x_q8);
  for (int k_lane = 0; k_lane < k_warps; ++k_lane) {
    const int super_block = step * k_warps + k_lane;
    if (super_block >= tiles) break;
    const unsigned char* source = x_q8 + static_cast<long long>(super_block) * width * matmul::kQ8RowBytes;
    unsigned char* activations = stage + Geometry::kWeightBytes + k_lane * Geometry::kActivationBytes;
    for (int c = threadIdx.x; c < chunks; c += matmul::kThreads) {
      const int destination = c < code_chunks ? c / 16 * matmul::kMmqCodeStride + 16 * (c % 16)
                                              : Geometry::kWidth * matmul::kMmqCodeStride + 16 * (c - code_chunks);
      cp_async_16(shared_address(activations + destination), source + 16 * c);
    }
  }
  cp_async_commit();
}

// The whole kernel for args.width ≤ 8·kTiles8 activation rows.
template <class Block, int kTiles8>
__device__ __forceinline__ void mmq_body(const MmqArgs& args) {
  const int width = args.width;
  using Traits = TileTraits<Block>;
  using Geometry = MmqGeometry<Block, kTiles8>;
  constexpr int kStages = matmul::kMmqStages;

  unsigned char* shared = dynamic_shared_memory();
  const int row_warps = args.row_warps, k_warps = matmul::kWarps / row_warps;
  const int block_rows = matmul::kTileRowsPerWarp * row_warps;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row = warp % row_warps, k_lane = warp / row_warps;
  const long long rows = args.rows;
  const long long row0 = static_cast<long long>(blockIdx.x) * block_rows;
  const long long row_bytes = row_bytes_of<Block>(args.cols);
  const int tiles = static_cast<int>(args.cols / matmul::kQ8SuperBlock);
  const int steps = (tiles + k_warps - 1) / k_warps;
  const int stage_bytes = Geometry::stage_bytes(k_warps);

  // Slot s holds K-lane s / block_rows's super-block of block row s % block_rows; two threads copy
  // each slot. Rows past the end repeat the last row.
  TileStager<matmul::kBlockTileSlots, Traits::kSlotBytes, matmul::kThreads> weights;
  const int slot = threadIdx.x / 2;
  weights.init(static_cast<const unsigned char*>(args.weight) + min_of(row0 + slot % block_rows, rows - 1) * row_bytes,
               threadIdx.x);
  const int slot_k_lane = slot / block_rows;

  const int g = lane / 4;
  const int phase_upper = row_phase_of(min_of(row0 + 16 * warp_row + g, rows - 1), row_bytes);
  const int phase_lower = row_phase_of(min_of(row0 + 16 * warp_row + g + 8, rows - 1), row_bytes);

  float acc[kTiles8][4];
  zero_fragments(acc);

  for (int s = 0; s < kStages - 1; ++s)
    mmq_stage<Block, kTiles8>(weights, s * k_warps + slot_k_lane, row_bytes, tiles, args, width, s, k_warps,
                              shared + s * stage_bytes);
  for (int step = 0; step < steps; ++step) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // the step's copies are visible, and everyone is done with stage step - 1
    const int next = step + kStages - 1;
    mmq_stage<Block, kTiles8>(weights, next * k_warps + slot_k_lane, row_bytes, tiles, args, width, next, k_warps,
                              shared + (next % kStages) * stage_bytes);
    const int tile = step * k_warps + k_lane;
    if (tile >= tiles) continue;
    unsigned char* stage = shared + (step % kStages) * stage_bytes;
    const unsigned char* codes = stage + Geometry::kWeightBytes + k_lane * Geometry::kActivationBytes;
    const MmqWarpTile tile_view{stage + (k_lane * block_rows + matmul::kTileRowsPerWarp * warp_row) * Traits::kSlotBytes,
                                tile_phase<Block>(phase_upper, tile),
                                tile_phase<Block>(phase_lower, tile),
                                codes,
                                codes + Geometry::kWidth * matmul::kMmqCodeStride,
                                lane};
    MmqType<Block>::template multiply<kTiles8>(tile_view, acc);
  }
  cp_async_wait<0>();
  finish_block_tile(acc, shared, row_warps, width, row0, rows, args.y);
}

}  // namespace mm

// y[n][j] = Σ_k x[n][k] · W[j][k] for n < args.width ≤ kCapacity (a multiple of 8), from
// quantize_q8_1's output for that width. Grid: ceil(rows / (16 · row_warps)) blocks of
// matmul::kThreads threads, matmul::mmq_shared_bytes(…) bytes of dynamic shared memory.
template <class Block, int kCapacity>
__global__ void __launch_bounds__(matmul::kThreads, matmul::kMmqMinBlocksPerSm) matmul_mmq(MmqArgs args) {
  wait_for_prior_grids();
  static_assert(kCapacity % 8 == 0 && kCapacity <= matmul::kMaxWidth, "capacities are whole mma tiles");
  mm::mmq_body<Block, kCapacity / 8>(args);
}

}  // namespace g4c
