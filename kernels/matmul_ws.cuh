// Route `ws`: weight-stationary matvec for N activation rows, every weight type and shape.
//
// Decode is bound by weight bytes, so each weight is read from memory once per step and applied
// to all N activation rows while it sits in registers. A block of four warps owns 8·R rows
// (R = ws_rows_per_quad(N)); its warps split the row's K tiles (256 weights each) round-robin, and
// within a warp lane quad q takes rows q, q + 8, … of the block, each lane a quarter of every tile.
//   - Each warp streams its tiles through a private ring of shared-memory stages with cp.async
//     (aligned 16-byte copies; 2-byte-aligned types such as Q6_K land mid-chunk and are read
//     back with funnel shifts), so loads of the next tiles overlap the arithmetic.
//   - A lane decodes four weights at a time to f32 (matmul_units.cuh) and multiplies them with
//     four activations of each of the N rows, read through L1 as float4, into 2·N register
//     accumulators; the activations are reused by its two rows and broadcast to the warp's other
//     quads, which read the same columns. Up to 8 activation rows are done in one pass over the
//     weights; wider batches take more (matmul_args.h, ws_capacity).
//   - Accumulation is f32 throughout; the quad's partial sums meet through warp shuffles and the
//     warps' through shared memory.
#pragma once

#include "matmul_units.cuh"

namespace g4c {

namespace mm {

// Four activations of row `x` from column k on: a float4 where rows are 16-byte aligned, else
// one at a time, zero past the row's end (float weights allow any cols).
__device__ __forceinline__ void load_activations(const float* x, long long k, long long cols, bool aligned,
                                                 float (&v)[4]) {
  if (aligned) {
    const float4 q = __ldg(reinterpret_cast<const float4*>(x + k));
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  } else {
#pragma unroll
    for (int e = 0; e < 4; ++e) v[e] = k + e < cols ? __ldg(x + k + e) : 0.0f;
  }
}

// acc[r][n] += Σ over this lane's chunks of one tile of weight · activation, for the first
// `count` activation rows. Chunks past the row's end (in its last tile) are skipped; a chunk may
// straddle it only for float weights with cols % 4 != 0, whose rows of x are then not aligned.
template <class Block, int kCapacity, int R>
__device__ __forceinline__ void ws_multiply_tile(const LaneUnit<Block> (&units)[R], const float* x, long long cols,
                                                 int count, long long tile_start, int part, float (&acc)[R][kCapacity]) {
  using Unit = LaneUnit<Block>;
  const bool aligned = Block::kElems > 1 || cols % 4 == 0;
#pragma unroll
  for (int chunk = 0; chunk < Unit::kChunks; ++chunk) {
    const long long k = tile_start + Unit::chunk_offset(part, chunk);
    if (k >= cols || (Block::kElems > 1 && injected_drop(k))) continue;
    float w[R][4];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      units[r].decode(chunk, w[r]);
      if (!aligned) {
#pragma unroll
        for (int e = 0; e < 4; ++e)
          if (k + e >= cols) w[r][e] = 0.0f;
      }
    }
#pragma unroll
    for (int n = 0; n < kCapacity; ++n) {
      if (n >= count) break;
      float v[4];
      load_activations(x + n * cols, k, cols, aligned, v);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        float a = acc[r][n];
        a = fmaf(w[r][0], v[0], a);
        a = fmaf(w[r][1], v[1], a);
        a = fmaf(w[r][2], v[2], a);
        a = fmaf(w[r][3], v[3], a);
        acc[r][n] = a;
      }
    }
  }
}

// One pass over the weights for activation rows first .. first + count − 1 (count ≤ kCapacity),
// with kCapacity accumulators per row (the unused ones predicated off).
template <class Block, int kCapacity>
__device__ __forceinline__ void ws_pass(const MatmulArgs& args, int first, int count) {
  using Traits = TileTraits<Block>;
  using Unit = LaneUnit<Block>;
  constexpr int kRowsPerQuad = matmul::kWsRowsPerQuad;
  constexpr int kBlockRows = matmul::kWsBlockRows;
  constexpr int kStages = matmul::kWsStages;
  constexpr int kStageBytes = kBlockRows * Traits::kSlotBytes;

  unsigned char* shared = dynamic_shared_memory();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int quad = lane / 4, part = lane % 4;
  const long long rows = args.rows, cols = args.cols;
  const long long row0 = static_cast<long long>(blockIdx.x) * kBlockRows;
  const long long row_bytes = row_bytes_of<Block>(cols);
  const int tiles = static_cast<int>((cols + Traits::kTileElems - 1) / Traits::kTileElems);
  const unsigned char* weight = static_cast<const unsigned char*>(args.weight);
  const float* x = args.x + first * cols;
  unsigned char* ring = shared + warp * kStages * kStageBytes;

  // Rows past the end repeat the last row: their loads stay in bounds and their sums are dropped.
  TileStager<kBlockRows, Traits::kSlotBytes, 32> stager;
  stager.init(weight + min_of(row0 + lane / (32 / kBlockRows), rows - 1) * row_bytes, lane);
  int row_phase[kRowsPerQuad];
#pragma unroll
  for (int r = 0; r < kRowsPerQuad; ++r) row_phase[r] = row_phase_of(min_of(row0 + quad + 8 * r, rows - 1), row_bytes);

  // The warp's i-th tile is the row's tile warp + 4i; every call commits one copy group.
  const auto stage_tile = [&](int i) {
    const int tile = warp + matmul::kWarps * i;
    stager.issue(shared_address(ring + (i % kStages) * kStageBytes),
                 static_cast<long long>(tile) * Traits::kTileBytes, tile_bytes_in_row<Block>(tile, tiles, row_bytes));
    cp_async_commit();
  };
  for (int i = 0; i < kStages - 1; ++i) stage_tile(i);

  float acc[kRowsPerQuad][kCapacity];
#pragma unroll
  for (int r = 0; r < kRowsPerQuad; ++r)
#pragma unroll
    for (int n = 0; n < kCapacity; ++n) acc[r][n] = 0.0f;

  for (int i = 0; warp + matmul::kWarps * i < tiles; ++i) {
    cp_async_wait<kStages - 2>();
    __syncwarp();
    stage_tile(i + kStages - 1);  // into the stage every lane finished reading last iteration
    const int tile = warp + matmul::kWarps * i;
    const unsigned char* stage = ring + (i % kStages) * kStageBytes;
    Unit units[kRowsPerQuad];
#pragma unroll
    for (int r = 0; r < kRowsPerQuad; ++r)
      units[r].load(stage + (quad + 8 * r) * Traits::kSlotBytes, tile_phase<Block>(row_phase[r], tile), part);
    ws_multiply_tile(units, x, cols, count, static_cast<long long>(tile) * Traits::kTileElems, part, acc);
  }
  cp_async_wait<0>();

  // Sum the quad's lanes, then the warps' partial sums through shared memory (reusing the rings).
#pragma unroll
  for (int r = 0; r < kRowsPerQuad; ++r)
#pragma unroll
    for (int n = 0; n < kCapacity; ++n) {
      acc[r][n] += __shfl_xor_sync(kFullMask, acc[r][n], 1);
      acc[r][n] += __shfl_xor_sync(kFullMask, acc[r][n], 2);
    }
  __syncthreads();
  float* partial = reinterpret_cast<float*>(shared);  // [warp][block row][n]
  if (part == 0)
#pragma unroll
    for (int r = 0; r < kRowsPerQuad; ++r)
#pragma unroll
      for (int n = 0; n < kCapacity; ++n) partial[(warp * kBlockRows + quad + 8 * r) * kCapacity + n] = acc[r][n];
  __syncthreads();
  for (int o = threadIdx.x; o < kBlockRows * count; o += matmul::kThreads) {
    const int n = o / kBlockRows, block_row = o % kBlockRows;
    float sum = 0.0f;
#pragma unroll
    for (int w = 0; w < matmul::kWarps; ++w) sum += partial[(w * kBlockRows + block_row) * kCapacity + n];
    if (row0 + block_row < rows) args.y[(first + n) * rows + row0 + block_row] = sum;
  }
  __syncthreads();  // a next pass reuses the shared memory
}

}  // namespace mm

// y[n][j] = Σ_k x[n][k] · W[j][k] for n < args.width, in passes of up to kCapacity activation
// rows (matmul::ws_capacity). Grid: ceil(rows / matmul::kWsBlockRows) blocks of matmul::kThreads
// threads, matmul::ws_shared_bytes(…) bytes of dynamic shared memory.
template <class Block, int kCapacity>
__global__ void __launch_bounds__(matmul::kThreads, matmul::kWsMinBlocksPerSm) matmul_ws(MatmulArgs args) {
  wait_for_prior_grids();
  for (int first = 0; first < args.width; first += kCapacity)
    mm::ws_pass<Block, kCapacity>(args, first, args.width - first < kCapacity ? args.width - first : kCapacity);
}

}  // namespace g4c
