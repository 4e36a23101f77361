// Route `gemm_n`: fp16 tensor-core tiles over weights dequantized on the fly, every weight type,
// cols % 32 == 0, any N (the mma tiles are 8 activation rows wide; N is padded to a multiple of 8).
//
// A block of four warps is laid out as row_warps × (4 / row_warps): each warp owns 16 rows and
// computes them for all N activation rows with mma.sync m16n8k16 (f16 inputs, f32 accumulators);
// the warps of a row group split the K tiles. Per block step, cp.async stages into shared memory
// the raw weight tiles of all 64 (row, K-tile) pairs and each K-lane's f32 activations of its
// tile, two stages deep, so the next step's copies overlap this step's arithmetic.
//
// The raw tiles are dequantized straight into A fragments: the reduction index within an mma is a
// free permutation, so lane t of a quad contributes its own decoded chunk (matmul_units.cuh,
// the same decoders as ws) as mma columns 2t, 2t+1, 2t+8, 2t+9, and the B fragment takes the
// activations of the same four columns. No fp16 copy of the weights is written anywhere; each
// weight is rounded to fp16 once, from its exact f32 value, and activations likewise.
#pragma once

#include "matmul_units.cuh"

namespace g4c {

namespace mm {

// Shared-memory layout of a stage's activations: row r's chunk p (4 floats) of a tile at chunk
// index p + p / kChunks, which puts the chunks the quad's lanes read at once in distinct banks.
template <class Block>
struct GemmNActivations {
  static constexpr int kRowBytes = matmul::gemm_n_activation_row_bytes(TileTraits<Block>::kTileElems);
  __device__ static constexpr int chunk_byte(int chunk) { return 16 * (chunk + chunk / LaneUnit<Block>::kChunks); }
};

template <class Block, int kTiles8_>
struct GemmNGeometry {
  static constexpr int kTiles8 = kTiles8_;  // mma tiles of 8 activation rows
  static constexpr int kWidth = 8 * kTiles8;
  static constexpr int kWeightBytes = matmul::kBlockTileSlots * TileTraits<Block>::kSlotBytes;
  __device__ static int stage_bytes(int k_warps) {
    return kWeightBytes + k_warps * kWidth * GemmNActivations<Block>::kRowBytes;
  }
};

// Copies block step `step`'s tiles (weights, and the activations of `width` rows) into the stage
// at `stage`.
template <class Block, int kTiles8, class Stager>
__device__ __forceinline__ void gemm_n_stage(const Stager& weights, int weight_tile, long long row_bytes, int tiles,
                                             const MatmulArgs& args, int width, int step, int k_warps,
                                             unsigned char* stage) {
  using Traits = TileTraits<Block>;
  using Geometry = GemmNGeometry<Block, kTiles8>;
  weights.issue(shared_address(stage), static_cast<long long>(weight_tile) * Traits::kTileBytes,
                tile_bytes_in_row<Block>(weight_tile, tiles, row_bytes));
  // Activations: per K-lane, width rows × (kTileElems / 4) chunks, spread over the block's threads.
  constexpr int kChunksPerRow = Traits::kTileElems / 4;
  unsigned char* activations = stage + Geometry::kWeightBytes;
  for (int k_lane = 0; k_lane < k_warps; ++k_lane) {
    const long long tile_start = static_cast<long long>(step * k_warps + k_lane) * Traits::kTileElems;
    for (int c = threadIdx.x; c < width * kChunksPerRow; c += matmul::kThreads) {
      const int n = c / kChunksPerRow, chunk = c % kChunksPerRow;
      const long long k = tile_start + 4 * chunk;
      if (k >= args.cols) continue;  // past the row (or no tile for this K-lane this step)
      cp_async_16(shared_address(activations + (k_lane * Geometry::kWidth + n) * GemmNActivations<Block>::kRowBytes +
                                 GemmNActivations<Block>::chunk_byte(chunk)),
                  args.x + n * args.cols + k);
    }
  }
  cp_async_commit();
}

// acc[j] += this warp's 16 rows × the tile's columns × activation rows 8j..8j+7.
template <class Block, int kTiles8, bool kTail>
__device__ __forceinline__ void gemm_n_multiply_tile(const LaneUnit<Block> (&units)[2],
                                                     const unsigned char* activations, long long cols,
                                                     long long tile_start, int lane, float (&acc)[kTiles8][4]) {
  using Unit = LaneUnit<Block>;
  using Activations = GemmNActivations<Block>;
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int chunk = 0; chunk < Unit::kChunks; ++chunk) {
    const int offset = Unit::chunk_offset(t, chunk);
    const bool valid = (!kTail || tile_start + offset < cols) && !(Block::kElems > 1 && injected_drop(tile_start + offset));
    float upper[4], lower[4];  // rows g and g + 8
    units[0].decode(chunk, upper);
    units[1].decode(chunk, lower);
    unsigned a[4] = {pack_half2(upper[0], upper[1]), pack_half2(lower[0], lower[1]), pack_half2(upper[2], upper[3]),
                     pack_half2(lower[2], lower[3])};
    if (!valid) a[0] = a[1] = a[2] = a[3] = 0u;
    const int byte = Activations::chunk_byte(offset / 4);
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      const float4 x = shared_float4(activations, (8 * j + g) * Activations::kRowBytes + byte);
      const unsigned b0 = valid ? pack_half2(x.x, x.y) : 0u, b1 = valid ? pack_half2(x.z, x.w) : 0u;
      mma_f16_k16(acc[j], a, b0, b1);
    }
  }
}

// The whole kernel for args.width ≤ 8·kTiles8 activation rows.
template <class Block, int kTiles8>
__device__ __forceinline__ void gemm_n_body(const MatmulArgs& args) {
  const int width = args.width;
  using Traits = TileTraits<Block>;
  using Geometry = GemmNGeometry<Block, kTiles8>;
  constexpr int kStages = matmul::kGemmNStages;
  static_assert(kStages == 2, "the loop below double-buffers");

  unsigned char* shared = dynamic_shared_memory();
  const int row_warps = args.row_warps, k_warps = matmul::kWarps / row_warps;
  const int block_rows = matmul::kTileRowsPerWarp * row_warps;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row = warp % row_warps, k_lane = warp / row_warps;
  const long long rows = args.rows, cols = args.cols;
  const long long row0 = static_cast<long long>(blockIdx.x) * block_rows;
  const long long row_bytes = row_bytes_of<Block>(cols);
  const int tiles = static_cast<int>((cols + Traits::kTileElems - 1) / Traits::kTileElems);
  const int steps = (tiles + k_warps - 1) / k_warps;
  const int stage_bytes = Geometry::stage_bytes(k_warps);

  // Slot s of a stage holds K-lane s / block_rows's tile of block row s % block_rows; two threads
  // copy each slot. Rows past the end repeat the last row.
  TileStager<matmul::kBlockTileSlots, Traits::kSlotBytes, matmul::kThreads> weights;
  const int slot = threadIdx.x / 2;
  weights.init(static_cast<const unsigned char*>(args.weight) + min_of(row0 + slot % block_rows, rows - 1) * row_bytes,
               threadIdx.x);
  const int slot_k_lane = slot / block_rows;

  const int g = lane / 4, t = lane % 4;
  const int first_slot = k_lane * block_rows + matmul::kTileRowsPerWarp * warp_row;
  const int phase_upper = row_phase_of(min_of(row0 + 16 * warp_row + g, rows - 1), row_bytes);
  const int phase_lower = row_phase_of(min_of(row0 + 16 * warp_row + g + 8, rows - 1), row_bytes);

  float acc[kTiles8][4];
  zero_fragments(acc);

  gemm_n_stage<Block, kTiles8>(weights, slot_k_lane, row_bytes, tiles, args, width, 0, k_warps, shared);
  for (int step = 0; step < steps; ++step) {
    cp_async_wait<0>();
    __syncthreads();  // the step's tiles are visible, and everyone is done with the other stage
    if (step + 1 < steps)
      gemm_n_stage<Block, kTiles8>(weights, (step + 1) * k_warps + slot_k_lane, row_bytes, tiles, args, width,
                                   step + 1, k_warps, shared + ((step + 1) % kStages) * stage_bytes);
    const int tile = step * k_warps + k_lane;
    if (tile >= tiles) continue;
    const unsigned char* stage = shared + (step % kStages) * stage_bytes;
    LaneUnit<Block> units[2];
    units[0].load(stage + (first_slot + g) * Traits::kSlotBytes, tile_phase<Block>(phase_upper, tile), t);
    units[1].load(stage + (first_slot + g + 8) * Traits::kSlotBytes, tile_phase<Block>(phase_lower, tile), t);
    const unsigned char* activations =
        stage + Geometry::kWeightBytes + k_lane * Geometry::kWidth * GemmNActivations<Block>::kRowBytes;
    const long long tile_start = static_cast<long long>(tile) * Traits::kTileElems;
    if (tile_start + Traits::kTileElems <= cols)
      gemm_n_multiply_tile<Block, kTiles8, false>(units, activations, cols, tile_start, lane, acc);
    else
      gemm_n_multiply_tile<Block, kTiles8, true>(units, activations, cols, tile_start, lane, acc);
  }
  finish_block_tile(acc, shared, row_warps, width, row0, rows, args.y);
}

}  // namespace mm

// y[n][j] = Σ_k x[n][k] · W[j][k] for n < args.width ≤ kCapacity (a multiple of 8). Grid:
// ceil(rows / (16 · row_warps)) blocks of matmul::kThreads threads, matmul::gemm_n_shared_bytes(…)
// bytes of dynamic shared memory.
template <class Block, int kCapacity>
__global__ void __launch_bounds__(matmul::kThreads, matmul::kGemmNMinBlocksPerSm) matmul_gemm_n(MatmulArgs args) {
  wait_for_prior_grids();
  static_assert(kCapacity % 8 == 0 && kCapacity <= matmul::kMaxWidth, "capacities are whole mma tiles");
  mm::gemm_n_body<Block, kCapacity / 8>(args);
}

}  // namespace g4c
