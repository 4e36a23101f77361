// Device code shared by the matmul routes: compile-time loops, the tile geometry of each weight
// type, staging row tiles into shared memory with cp.async, reading shared memory at 2-byte
// alignment, and turning packed integer codes into floats without int→float conversions.
#pragma once

#include "g4c/kernels/injected_bugs.h"
#include "g4c/kernels/matmul_args.h"
#include "launch_order.cuh"
#include "g4c/kernels/quant_blocks.h"
#include "matmul_ptx.cuh"

namespace g4c::mm {

// Register arrays are only ever indexed by the counters of fully unrolled loops (#pragma unroll
// over compile-time bounds), so they stay in registers; ptxas reports any that would not.

template <class T>
__device__ __forceinline__ T min_of(T a, T b) {
  return a < b ? a : b;
}

//===----------------------------------------------------------------------===//
// Tile geometry of a weight type (matmul_args.h explains tiles and slots)
//===----------------------------------------------------------------------===//

template <class Block>
struct TileTraits {
  static constexpr int kTileElems = matmul::tile_elems(Block::kElems, sizeof(Block));
  static constexpr int kTileBytes = matmul::tile_bytes(Block::kElems, sizeof(Block));
  static constexpr int kSlotBytes = matmul::tile_slot_bytes(Block::kElems, sizeof(Block));
  static constexpr bool kAligned = matmul::tile_always_aligned(sizeof(Block));
};

// Bytes of one weight row.
template <class Block>
__device__ __forceinline__ long long row_bytes_of(long long cols) {
  return cols / Block::kElems * static_cast<long long>(sizeof(Block));
}

// The bytes of tile `tile` of a row that exist (a row's last tile may be partial), or 0 past its end.
template <class Block>
__device__ __forceinline__ int tile_bytes_in_row(int tile, int tiles, long long row_bytes) {
  if (tile >= tiles) return 0;
  const long long offset = static_cast<long long>(tile) * TileTraits<Block>::kTileBytes;
  return static_cast<int>(min_of<long long>(TileTraits<Block>::kTileBytes, row_bytes - offset));
}

//===----------------------------------------------------------------------===//
// Staging row tiles: kThreads threads copy kSlots row tiles into one stage of shared memory, each
// tile from the aligned 16-byte chunks that cover it, so a tile lands `phase` = (its address mod
// 16) bytes into its slot. kThreads / kSlots threads share a slot, taking every such chunk.
//===----------------------------------------------------------------------===//

template <int kSlots, int kSlotBytes, int kThreads>
class TileStager {
  static_assert(kThreads % kSlots == 0 && kSlotBytes % 16 == 0, "slots must split evenly over the threads");
  static constexpr int kLanesPerSlot = kThreads / kSlots;
  static constexpr int kChunksPerLane = (kSlotBytes / 16 + kLanesPerSlot - 1) / kLanesPerSlot;

 public:
  // This thread's slot is thread / kLanesPerSlot; `row` is that slot's weight row.
  __device__ void init(const unsigned char* row, int thread) {
    first_chunk_ = thread % kLanesPerSlot;
    source_ = row + 16 * first_chunk_;
    slot_offset_ = (thread / kLanesPerSlot) * kSlotBytes + 16 * first_chunk_;
  }

  // Copies `bytes` bytes (0: none) of the row from byte `offset` on into the stage at shared
  // address `stage`.
  __device__ void issue(unsigned stage, long long offset, int bytes) const {
    const unsigned char* first = source_ + offset;
    const int phase = static_cast<int>(reinterpret_cast<unsigned long long>(first) & 15);
    const unsigned char* aligned = first - phase;
    const int chunks = bytes > 0 ? (phase + bytes + 15) / 16 : 0;
#pragma unroll
    for (int i = 0; i < kChunksPerLane; ++i)
      if (first_chunk_ + kLanesPerSlot * i < chunks)
        cp_async_16(stage + slot_offset_ + 16 * kLanesPerSlot * i, aligned + 16 * kLanesPerSlot * i);
  }

 private:
  const unsigned char* source_;
  unsigned slot_offset_;
  int first_chunk_;
};

// Where tile `tile` of a row starts within its first 16-byte chunk, from the row's own phase.
template <class Block>
__device__ __forceinline__ int tile_phase(int row_phase, int tile) {
  if constexpr (TileTraits<Block>::kAligned) return 0;
  return (row_phase + tile * TileTraits<Block>::kTileBytes) & 15;
}

// The phase of a weight row: its first byte's offset into a 16-byte chunk.
__device__ __forceinline__ int row_phase_of(long long row, long long row_bytes) {
  return static_cast<int>((row * row_bytes) & 15);
}

//===----------------------------------------------------------------------===//
// Shared memory reads at any even byte offset from a 4-byte aligned base
//===----------------------------------------------------------------------===//

__device__ __forceinline__ unsigned shared_word(const unsigned char* aligned_base, int offset) {
  return *reinterpret_cast<const unsigned*>(aligned_base + offset);
}

// kCount consecutive words starting `offset` bytes into `base`; the read touches one word more.
template <int kCount>
__device__ __forceinline__ void shared_words(const unsigned char* base, int offset, unsigned (&out)[kCount]) {
  const unsigned* words = reinterpret_cast<const unsigned*>(base + (offset & ~3));
  const unsigned shift = (offset & 3) * 8;
  unsigned low = words[0];
#pragma unroll
  for (int i = 0; i < kCount; ++i) {
    const unsigned high = words[i + 1];
    out[i] = __funnelshift_r(low, high, shift);
    low = high;
  }
}

// The 16 bits at an even offset, zero-extended.
__device__ __forceinline__ unsigned shared_u16(const unsigned char* base, int offset) {
  return *reinterpret_cast<const unsigned short*>(base + offset);
}

__device__ __forceinline__ uint4 shared_u128(const unsigned char* base, int offset) {
  return *reinterpret_cast<const uint4*>(base + offset);
}

__device__ __forceinline__ float4 shared_float4(const unsigned char* base, int offset) {
  return *reinterpret_cast<const float4*>(base + offset);
}

//===----------------------------------------------------------------------===//
// Codes to floats. Placing a code under a fixed exponent with one byte permute makes an exact
// float whose value is affine in the code, and the affine map folds into the dequantization FMA.
//===----------------------------------------------------------------------===//

// Byte k (0..3, a constant) of `codes`, a value below 128, as the float 2 + code / 64.
__device__ __forceinline__ float code_as_float(unsigned codes, int k) {
  return __uint_as_float(__byte_perm(codes, 0x40000000u, 0x7054 | (k << 8)));
}

// Byte k (0..3, a constant) of `codes`, any value, as the float 1 + code / 32768.
__device__ __forceinline__ float wide_code_as_float(unsigned codes, int k) {
  return __uint_as_float(__byte_perm(codes, 0x3f800000u, 0x7604 | (k << 4)));
}

// The affine map w = scale · code − offset, rewritten for codes read as 2 + code / 64:
// w = (64 · scale) · f − (128 · scale + offset).
struct Affine {
  float a, b;
};
__device__ __forceinline__ Affine affine_for_code(float scale, float offset) {
  return {64.0f * scale, fmaf(-128.0f, scale, -offset)};
}

// The four weights of a word of codes below 128 under one affine map.
__device__ __forceinline__ void affine_codes(unsigned codes, Affine m, float (&w)[4]) {
#pragma unroll
  for (int k = 0; k < 4; ++k) w[k] = fmaf(code_as_float(codes, k), m.a, m.b);
}

// Byte `index` (run-time, 0..3) of a word as an exact float.
__device__ __forceinline__ float byte_as_float(unsigned word, int index) {
  return __uint_as_float(__byte_perm(word, 0x4b000000u, 0x7540 | index)) - 8388608.0f;
}

// Byte `index` (run-time, 0..3) of a word, sign-extended. (Not __byte_perm: the intrinsic uses
// only the low three bits of each selector nibble, so prmt's sign-replicating mode is out of reach
// and a "sign" nibble just copies the byte.)
__device__ __forceinline__ int signed_byte(unsigned word, int index) {
  return static_cast<int>(word << (24 - 8 * index)) >> 24;
}

// Each byte c of a word of codes as c − bias, in two's complement (codes and bias below 128).
__device__ __forceinline__ unsigned subtract_bytes(unsigned codes, unsigned bias) {
  return ((codes | 0x80808080u) - bias) ^ 0x80808080u;
}

//===----------------------------------------------------------------------===//
// Block tiles of the mma routes (mmq, gemm_n): row_warps × (4 / row_warps) warps, warp w owning
// rows 16·(w % row_warps) .. + 15 of the block for K-lane w / row_warps, its results held as mma
// C fragments acc[j] (rows g, g + 8 × activation rows 8j + 2t, 8j + 2t + 1).
//===----------------------------------------------------------------------===//

template <int kTiles8>
__device__ __forceinline__ void zero_fragments(float (&acc)[kTiles8][4]) {
#pragma unroll
  for (int j = 0; j < kTiles8; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) acc[j][i] = 0.0f;
}

// Sums the K-lanes of each row group through shared memory (free once every copy has landed) and
// writes rows < `rows` of activation rows < `width` to y from K-lane 0.
template <int kTiles8>
__device__ __forceinline__ void finish_block_tile(float (&acc)[kTiles8][4], unsigned char* shared, int row_warps,
                                                  int width, long long row0, long long rows, float* y) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_row = warp % row_warps, k_lane = warp / row_warps, k_warps = matmul::kWarps / row_warps;
  if (k_warps > 1) {
    constexpr int kPerLane = 4 * kTiles8;
    float* partial = reinterpret_cast<float*>(shared);  // [warp][lane][fragment value]
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kTiles8; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i) partial[(warp * 32 + lane) * kPerLane + 4 * j + i] = acc[j][i];
    __syncthreads();
    if (k_lane != 0) return;
    for (int other = 1; other < k_warps; ++other) {
      const float* source = partial + ((other * row_warps + warp_row) * 32 + lane) * kPerLane;
#pragma unroll
      for (int j = 0; j < kTiles8; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) acc[j][i] += source[4 * j + i];
    }
  }
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int j = 0; j < kTiles8; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const long long row = row0 + matmul::kTileRowsPerWarp * warp_row + g + 8 * (i / 2);
      const int n = 8 * j + 2 * t + i % 2;
      if (row < rows && n < width) y[n * rows + row] = acc[j][i];
    }
}

}  // namespace g4c::mm
