// Route `mma16`: int8 tensor-core matmul of Q4_K, Q6_K, Q8_0 and Q4_0 weights repacked at load into the mma16
// layout (g4c/kernels/weight_layouts.h), for N = 1..32 activation rows quantized as q8_1 rounds
// them.
//
// Decode must read every weight byte once, at the memory's pace. The mmq route stages weights
// through shared memory (cp.async, a block barrier per super-block, ldmatrix), which costs
// instructions and synchronization per byte. Here a warp owns a 16-row tile and streams its
// records on its own: one 16-byte load per lane and 64 columns is already the A fragment of two
// 32-column sub-blocks (the low and the high nibbles), a warp's load is 512 contiguous bytes, and
// weights are marked first to leave L2. On sm_90 (Mma16Args::stages) the warp's lane 0 keeps
// several whole records in flight as bulk copies into the warp's own stages in shared memory, the
// first of them issued before the kernel waits for the kernel before it; otherwise the next record
// is in flight in registers while the current one is computed (register double buffering). No
// block barrier runs until the end. Activations (a few KB per row, shared by every warp) are read
// through L1.
//
// Per 32-column block and activation tile of 8 rows: one mma.m16n8k32 of the weight codes against
// the signed activation codes, its int32 dot offset by 1.5·2^23 so that one FADD makes it a float
// (mmq's trick), then scaled by the row's and the activation block's scales (Mma16Type below says
// how each type scales and where its codes come from).
//
// A block's four warps cover 4 / k_split tiles with k_split warps each, every warp taking a
// contiguous run of super-blocks; the partial sums meet in shared memory in a fixed order, so the
// result does not depend on timing.
#pragma once

#include "elementwise.cuh"
#include "g4c/kernels/weight_layouts.h"
#include "matmul_mmq_types.cuh"

namespace g4c {

// x f32 [width][cols] → the mma16 activations (matmul_args.h). One warp per (row, super-block),
// eight values a lane: lane L holds columns 8L..8L+7 of block L / 4. Grid: ceil(width · cols /
// 256 · 32 / matmul::kThreads) blocks of matmul::kThreads threads.
__global__ void __launch_bounds__(matmul::kThreads) quantize_mma16(QuantizeActivationsArgs a) {
  wait_for_prior_grids();
  quantize_rows<matmul::kActivationsMma16>(a.x, a.x_q, a.cols, a.width);
}

// A GGUF-layout weight → the mma16 layout, one 2-byte unit a thread (GGUF blocks are 2-byte
// aligned). Grid: ceil(units / matmul::kThreads) blocks of matmul::kThreads threads.
template <class Block>
__global__ void __launch_bounds__(matmul::kThreads) repack_mma16(RepackMma16Args a) {
  wait_for_prior_grids();
  const long long unit = static_cast<long long>(blockIdx.x) * matmul::kThreads + threadIdx.x;
  if (unit >= a.units) return;
  const long long from = layout::mma16_source_offset<Block>(a.rows, a.cols, 2 * unit);
  const unsigned short* source = reinterpret_cast<const unsigned short*>(static_cast<const unsigned char*>(a.source) + from);
  static_cast<unsigned short*>(a.out)[unit] = from >= 0 ? *source : static_cast<unsigned short>(0);
}

namespace mm {

// An L2 policy that evicts what it marks first: for weights, which are read once per step, so
// that they leave L2 before the activations, caches and scales the step reads again.
__device__ __forceinline__ unsigned long long evict_first_policy() {
  unsigned long long policy;
  asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

// 16 bytes of a streamed weight: read once, so they bypass L1 and go first from L2.
__device__ __forceinline__ uint4 load_streamed(const void* p, unsigned long long policy) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0, %1, %2, %3}, [%4], %5;"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p), "l"(policy));
  return v;
}

// Activation loads stay where the code puts them (volatile, like the mma): each is used right
// after, from L1, and hoisting all of a record's ahead would spill registers at 16 and 32 rows.
__device__ __forceinline__ uint4 load_in_order_16(const void* p) {
  uint4 v;
  asm volatile("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
}

__device__ __forceinline__ float2 load_in_order_8(const void* p) {
  float2 v;
  asm volatile("ld.global.nc.v2.f32 {%0, %1}, [%2];" : "=f"(v.x), "=f"(v.y) : "l"(p));
  return v;
}

// Where Type::load reads a record's bytes from: global memory, streamed (the register-buffered
// path), or a copy of the record in shared memory (the staged path).
struct StreamedRecord {
  const unsigned char* record;
  unsigned long long policy;
  __device__ uint4 bytes16(int offset) const { return load_streamed(record + offset, policy); }
  __device__ unsigned short bytes2(int offset) const {
    return __ldg(reinterpret_cast<const unsigned short*>(record + offset));
  }
};
struct StagedRecord {
  unsigned address;  // shared-state-space address of the record's copy
  __device__ uint4 bytes16(int offset) const { return load_shared_16(address + offset); }
  __device__ unsigned short bytes2(int offset) const { return load_shared_2(address + offset); }
};

// Where a lane reads the activations of one super-block, per 8-row tile j of the rows from
// first_row: the B fragments (row 8j + g), the block scales of its C columns (rows 8j + 2t and
// 8j + 2t + 1) and the block sums of row 8j + g. Rows past the width read the last row (their
// results are never written). The
// offsets are the lane's own for the whole kernel. Activations are small and read by every warp,
// so they come from L1 when used; only the weights are loaded ahead.
template <int kTiles8>
struct Mma16Activations {
  const unsigned char* record;  // this super-block's
  int codes[kTiles8];           // row 8j + g's codes + 16t
  int scales[kTiles8][2];       // rows 8j + 2t, 8j + 2t + 1: their d[0..7]
  int sums[kTiles8];            // row 8j + g: its s[2t], s[2t + 1]

  __device__ Mma16Activations(int width, int first_row, int g, int t) : record(nullptr) {
    const auto row = [&](int n) { return first_row + n < width ? first_row + n : width - 1; };
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      codes[j] = matmul::mma16_code_byte(row(8 * j + g), 0, 4 * t);  // + 64c: blocks 2c, 2c + 1
      scales[j][0] = matmul::mma16_scales_byte(width, row(8 * j + 2 * t));
      scales[j][1] = matmul::mma16_scales_byte(width, row(8 * j + 2 * t + 1));
      sums[j] = matmul::mma16_scales_byte(width, row(8 * j + g)) + 32 + 8 * t;
    }
  }
  // Pair c of tile j: the B fragments of blocks 2c (x, y) and 2c + 1 (z, w).
  __device__ uint4 pair(int j, int c) const { return load_in_order_16(record + codes[j] + 64 * c); }
  // The scales of blocks 2c, 2c + 1 for C column `col` (0: row 8j + 2t, 1: the next).
  __device__ float2 scales_of(int j, int col, int c) const { return load_in_order_8(record + scales[j][col] + 8 * c); }
  __device__ float2 block_sums(int j) const { return load_in_order_8(record + sums[j]); }
};

// part += (scale_row · dx) · dot for one C fragment: rows g, g + 8 (row scales upper, lower) ×
// the lane's activation rows (block scales dx0, dx1).
__device__ __forceinline__ void accumulate_dot(float (&part)[4], const int (&biased)[4], float upper, float lower,
                                               float dx0, float dx1) {
  part[0] = fmaf(upper * dx0, unbias(biased[0]), part[0]);
  part[1] = fmaf(upper * dx1, unbias(biased[1]), part[1]);
  part[2] = fmaf(lower * dx0, unbias(biased[2]), part[2]);
  part[3] = fmaf(lower * dx1, unbias(biased[3]), part[3]);
}

// The fp16 bits of 32-column block b's scale (a constant) among a row's eight (Q8_0, Q4_0).
__device__ __forceinline__ unsigned block_scale_bits(const uint4& scales, int b) {
  const unsigned word = b < 2 ? scales.x : b < 4 ? scales.y : b < 6 ? scales.z : scales.w;
  return (word >> (16 * (b % 2))) & 0xffffu;
}
__device__ __forceinline__ float block_scale(const uint4& scales, int b) { return half_to_float(block_scale_bits(scales, b)); }

// What each weight type does with one record (16 rows × 256 columns): the lane's loads, and its
// product with the activations into the accumulators.
template <class Block>
struct Mma16Type;

//===----------------------------------------------------------------------===//
// Q4_K: x = d·sc_j·q − dmin·m_j. Unsigned codes (a high nibble kept in place as 16·q, its scale
// divided by 16); the sub-blocks' dots scaled by sc_j · dx and summed, then by d once; the minimum
// terms −dmin·Σ_j m_j·s_j by one fp16 mma per tile (mmq's: m_j exact in fp16, s_j an fp16 pair).
//===----------------------------------------------------------------------===//

template <>
struct Mma16Type<block_q4_K> {
  using Layout = layout::Mma16Layout<block_q4_K>;
  struct Record {
    uint4 codes[4];     // chunk c: sub-blocks 2c (low nibbles) and 2c + 1 (high)
    uint4 upper, lower;  // the headers of rows g and g + 8
  };

  template <class Source>
  __device__ static void load(Record& r, const Source& record, int lane) {
#pragma unroll
    for (int c = 0; c < 4; ++c) r.codes[c] = record.bytes16(layout::kMma16ChunkBytes * c + 16 * lane);
    r.upper = record.bytes16(Layout::kCodeBytes + Layout::kHeaderBytes * (lane / 4));
    r.lower = record.bytes16(Layout::kCodeBytes + Layout::kHeaderBytes * (lane / 4 + 8));
  }

  template <int kTiles8>
  __device__ static void subtract_minimums(const KQuantRowScales& upper, const KQuantRowScales& lower,
                                           const Mma16Activations<kTiles8>& x, int t, float (&acc)[kTiles8][4]) {
    const unsigned upper_mins = k_quant_min_pair(upper, t), lower_mins = k_quant_min_pair(lower, t);
    const unsigned min_a[4] = {upper_mins, lower_mins, upper_mins, lower_mins};
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      const float2 sums = x.block_sums(j);
      const HalfPairs sum_halves = split_halves(sums.x, sums.y);
      float mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      mma_f16_k16(mins, min_a, sum_halves.hi, sum_halves.lo);
      acc[j][0] = fmaf(-upper.dmin, mins[0], acc[j][0]);
      acc[j][1] = fmaf(-upper.dmin, mins[1], acc[j][1]);
      acc[j][2] = fmaf(-lower.dmin, mins[2], acc[j][2]);
      acc[j][3] = fmaf(-lower.dmin, mins[3], acc[j][3]);
    }
  }

  // The 6-bit scale sc_j of sub-block j (a constant) as a float, without d.
  __device__ static float sub_scale(const KQuantRowScales& r, int j) {
    return byte_as_float(j < 4 ? r.scales[0] : r.scales[1], j % 4);
  }

  // Tile by tile, so that one tile's activations are live at a time (the codes are unpacked again
  // per tile: 8 logic ops per chunk).
  template <int kTiles8>
  __device__ static void multiply(const Record& r, const Mma16Activations<kTiles8>& x, int t, float (&acc)[kTiles8][4]) {
    const KQuantRowScales upper = k_quant_row_scales(r.upper), lower = k_quant_row_scales(r.lower);
    subtract_minimums<kTiles8>(upper, lower, x, t, acc);
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
      float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const uint4 b = x.pair(j, c);
        const float2 dx0 = x.scales_of(j, 0, c), dx1 = x.scales_of(j, 1, c);
        const unsigned raw[4] = {r.codes[c].x, r.codes[c].y, r.codes[c].z, r.codes[c].w};
        unsigned low[4], high[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) low[i] = raw[i] & 0x0f0f0f0fu, high[i] = raw[i] & 0xf0f0f0f0u;
        int dot[4];
        mma_u8s8_k32(dot, low, b.x, b.y, kMmqBias);
        accumulate_dot(part, dot, sub_scale(upper, 2 * c), sub_scale(lower, 2 * c), dx0.x, dx1.x);
        mma_u8s8_k32(dot, high, b.z, b.w, kMmqBias);
        accumulate_dot(part, dot, 0.0625f * sub_scale(upper, 2 * c + 1), 0.0625f * sub_scale(lower, 2 * c + 1),
                       dx0.y, dx1.y);
      }
      acc[j][0] = fmaf(upper.d, part[0], acc[j][0]);
      acc[j][1] = fmaf(upper.d, part[1], acc[j][1]);
      acc[j][2] = fmaf(lower.d, part[2], acc[j][2]);
      acc[j][3] = fmaf(lower.d, part[3], acc[j][3]);
    }
  }
};

//===----------------------------------------------------------------------===//
// Q6_K: x = d·sc·(q − 32) with a signed scale per 16 columns. Per 32-column sub-block (half h,
// quarter q) two k16 mmas, one per scale, their dots combined in int32 with the scales (exact:
// |Σ| < 2^24), then one FMA by d·dx (mmq's arithmetic).
//===----------------------------------------------------------------------===//

template <>
struct Mma16Type<block_q6_K> {
  using Layout = layout::Mma16Layout<block_q6_K>;
  struct Record {
    uint4 ql[4];                 // chunk 2h + o: quarters o (low nibbles) and o + 2 (high) of half h
    uint4 qh[2];                 // half h: bits 2q, 2q + 1 for quarter q
    uint4 upper, lower;          // the 16 signed scales of rows g and g + 8
    unsigned short d_upper, d_lower;
  };

  template <class Source>
  __device__ static void load(Record& r, const Source& record, int lane) {
#pragma unroll
    for (int c = 0; c < 4; ++c) r.ql[c] = record.bytes16(layout::kMma16ChunkBytes * c + 16 * lane);
#pragma unroll
    for (int h = 0; h < 2; ++h) r.qh[h] = record.bytes16(Layout::kQlBytes + layout::kMma16ChunkBytes * h + 16 * lane);
    r.upper = record.bytes16(Layout::kScalesOffset + 16 * (lane / 4));
    r.lower = record.bytes16(Layout::kScalesOffset + 16 * (lane / 4 + 8));
    r.d_upper = record.bytes2(Layout::kDOffset + 2 * (lane / 4));
    r.d_lower = record.bytes2(Layout::kDOffset + 2 * (lane / 4 + 8));
  }

  // The four A-fragment words of quarter q of half h as signed bytes code − 32.
  __device__ static void codes(const Record& r, int h, int q, unsigned (&a)[4]) {
    const uint4 ql = r.ql[2 * h + q % 2], qh = r.qh[h];
    const unsigned low[4] = {ql.x, ql.y, ql.z, ql.w}, high[4] = {qh.x, qh.y, qh.z, qh.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const unsigned code = ((low[i] >> (4 * (q / 2))) & 0x0f0f0f0fu) | (((high[i] >> (2 * q)) & 0x03030303u) << 4);
      a[i] = subtract_bytes(code, 0x20202020u);
    }
  }

  // Signed scale `index` (a constant) of a row's 16.
  __device__ static int scale(const uint4& scales, int index) {
    const unsigned word = index < 4 ? scales.x : index < 8 ? scales.y : index < 12 ? scales.z : scales.w;
    return signed_byte(word, index % 4);
  }

  template <int kTiles8>
  __device__ static void multiply(const Record& r, const Mma16Activations<kTiles8>& x, int, float (&acc)[kTiles8][4]) {
    const float d_upper = half_to_float(r.d_upper), d_lower = half_to_float(r.d_lower);
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {  // sub-blocks 2c, 2c + 1: half c / 2, quarters 2(c % 2) and + 1
        const uint4 b = x.pair(j, c);
        const float2 dx0 = x.scales_of(j, 0, c), dx1 = x.scales_of(j, 1, c);
#pragma unroll
        for (int dq = 0; dq < 2; ++dq) {
          const int h = c / 2, q = 2 * (c % 2) + dq, first_scale = 8 * h + 2 * q;
          unsigned a[4];
          codes(r, h, q, a);
          int first[4], second[4];
          mma_s8_k16(first, a[0], a[1], dq ? b.z : b.x, 0);
          mma_s8_k16(second, a[2], a[3], dq ? b.w : b.y, 0);
          const int su0 = scale(r.upper, first_scale), su1 = scale(r.upper, first_scale + 1);
          const int sl0 = scale(r.lower, first_scale), sl1 = scale(r.lower, first_scale + 1);
          const float x0 = dq ? dx0.y : dx0.x, x1 = dq ? dx1.y : dx1.x;
          acc[j][0] = fmaf(d_upper * x0, static_cast<float>(first[0] * su0 + second[0] * su1), acc[j][0]);
          acc[j][1] = fmaf(d_upper * x1, static_cast<float>(first[1] * su0 + second[1] * su1), acc[j][1]);
          acc[j][2] = fmaf(d_lower * x0, static_cast<float>(first[2] * sl0 + second[2] * sl1), acc[j][2]);
          acc[j][3] = fmaf(d_lower * x1, static_cast<float>(first[3] * sl0 + second[3] * sl1), acc[j][3]);
        }
      }
    }
  }
};

//===----------------------------------------------------------------------===//
// Q8_0 and Q4_0: x = d·q (Q4_0: d·(q − 8)) per 32-column block, one fp16 scale a block. Both keep
// a record's codes in chunks and then the 16 rows' eight block scales; each block's dot is scaled
// by d · dx straight into the accumulators. They differ only in where a block's A fragment sits:
// Q8_0's signed codes fill a chunk per block, Q4_0's nibbles two blocks per chunk (a lane's 8 bytes
// per block: low nibbles columns 4t.., high ones 16 + 4t..), made signed as q − 8.
//===----------------------------------------------------------------------===//

template <class Block, int kChunks>
struct Mma16BlockScaled {
  using Layout = layout::Mma16Layout<Block>;
  struct Record {
    uint4 codes[kChunks];
    uint4 upper, lower;  // the eight block scales (fp16) of rows g and g + 8
  };

  template <class Source>
  __device__ static void load(Record& r, const Source& record, int lane) {
#pragma unroll
    for (int c = 0; c < kChunks; ++c) r.codes[c] = record.bytes16(layout::kMma16ChunkBytes * c + 16 * lane);
    r.upper = record.bytes16(Layout::kCodeBytes + 16 * (lane / 4));
    r.lower = record.bytes16(Layout::kCodeBytes + 16 * (lane / 4 + 8));
  }

  // The A fragments of blocks 2c (even) and 2c + 1 (odd).
  __device__ static void fragments(const Record& r, int c, unsigned (&even)[4], unsigned (&odd)[4]) {
    if constexpr (kChunks == 8) {  // Q8_0
      const uint4 e = r.codes[2 * c], o = r.codes[2 * c + 1];
      even[0] = e.x, even[1] = e.y, even[2] = e.z, even[3] = e.w;
      odd[0] = o.x, odd[1] = o.y, odd[2] = o.z, odd[3] = o.w;
    } else {  // Q4_0: x, y rows g, g + 8 of block 2c; z, w of block 2c + 1
      nibble_fragment(r.codes[c].x, r.codes[c].y, even);
      nibble_fragment(r.codes[c].z, r.codes[c].w, odd);
    }
  }

  __device__ static void nibble_fragment(unsigned upper, unsigned lower, unsigned (&a)[4]) {
    a[0] = subtract_bytes(upper & 0x0f0f0f0fu, 0x08080808u);
    a[1] = subtract_bytes(lower & 0x0f0f0f0fu, 0x08080808u);
    a[2] = subtract_bytes((upper >> 4) & 0x0f0f0f0fu, 0x08080808u);
    a[3] = subtract_bytes((lower >> 4) & 0x0f0f0f0fu, 0x08080808u);
  }

  template <int kTiles8>
  __device__ static void multiply(const Record& r, const Mma16Activations<kTiles8>& x, int, float (&acc)[kTiles8][4]) {
#pragma unroll
    for (int j = 0; j < kTiles8; ++j) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const uint4 b = x.pair(j, c);
        const float2 dx0 = x.scales_of(j, 0, c), dx1 = x.scales_of(j, 1, c);
        unsigned even[4], odd[4];
        fragments(r, c, even, odd);
        int dot[4];
        mma_s8_k32(dot, even, b.x, b.y, kMmqBias);
        accumulate_dot(acc[j], dot, block_scale(r.upper, 2 * c), block_scale(r.lower, 2 * c), dx0.x, dx1.x);
        mma_s8_k32(dot, odd, b.z, b.w, kMmqBias);
        accumulate_dot(acc[j], dot, block_scale(r.upper, 2 * c + 1), block_scale(r.lower, 2 * c + 1), dx0.y, dx1.y);
      }
    }
  }
};

template <>
struct Mma16Type<block_q8_0> : Mma16BlockScaled<block_q8_0, 8> {};
template <>
struct Mma16Type<block_q4_0> : Mma16BlockScaled<block_q4_0, 4> {};

}  // namespace mm

namespace mm {
template <class A, class B>
struct same_type {
  static constexpr bool value = false;
};
template <class A>
struct same_type<A, A> {
  static constexpr bool value = true;
};
}  // namespace mm

// compute(record, kb) for each super-block kb in [first, last) of a tile's records, from two record
// buffers used in turn (no record is copied between registers): one record's loads are in flight
// while the other is computed.
template <class Type, class Compute>
__device__ __forceinline__ void stream_records(const unsigned char* records, long long first, long long last, int lane,
                                               unsigned long long policy, Compute compute) {
  constexpr long long kRecordBytes = Type::Layout::kRecordBytes;
  const auto at = [&](long long kb) { return mm::StreamedRecord{records + kb * kRecordBytes, policy}; };
  typename Type::Record r0, r1;
  Type::load(r0, at(first), lane);
  for (long long kb = first; kb < last; kb += 2) {
    if (kb + 1 < last) Type::load(r1, at(kb + 1), lane);
    compute(r0, kb);
    if (kb + 1 >= last) break;
    if (kb + 2 < last) Type::load(r0, at(kb + 2), lane);
    compute(r1, kb + 1);
  }
}

// The staged form of stream_records: the warp's lane 0 keeps `count` records in flight as bulk
// copies into the warp's stages in shared memory (`stages`; their mbarriers at `barriers`, 8
// bytes each), and the lanes read each record from there — count − 1 records stream while one is
// computed, where the registers hold only one more. start_staged_records issues the first `count`
// before the kernel waits for the grids before it (weights are written only at load),
// stream_staged_records computes them and refills each stage once its record's values have been
// used (so every lane's shared loads of it are done), after a proxy fence. `count` is at most
// what the warp's share of the stages holds (Mma16Work::stages_of), never above kStagesOf<Type>,
// the records kMma16StageBytes hold.
template <class Type>
inline constexpr int kStagesOf = matmul::mma16_stages(Type::Layout::kRecordBytes);

template <class Type>
__device__ __forceinline__ void fill_stage(const unsigned char* records, long long kb, int stage, unsigned stages,
                                           unsigned barriers, unsigned long long policy) {
  constexpr unsigned kRecordBytes = Type::Layout::kRecordBytes;
  static_assert(kStagesOf<Type> >= 2 && kStagesOf<Type> <= matmul::kMma16MaxStages && kRecordBytes % 16 == 0 &&
                    kRecordBytes <= matmul::kMma16MaxRecordBytes,
                "a warp's stages hold whole records, bulk-copied in 16-byte units");
  mm::mbarrier_expect_bytes(barriers + 8 * stage, kRecordBytes);
  mm::bulk_copy_to_shared(stages + stage * kRecordBytes, records + kb * kRecordBytes, kRecordBytes, barriers + 8 * stage,
                          policy);
}

template <class Type>
__device__ __forceinline__ void start_staged_records(const unsigned char* records, long long first, long long last,
                                                     int lane, unsigned long long policy, unsigned stages,
                                                     unsigned barriers, int count) {
  if (lane == 0) {
    for (int stage = 0; stage < count; ++stage) mm::mbarrier_init(barriers + 8 * stage, 1);
    mm::fence_mbarrier_init();
    for (int stage = 0; stage < count && first + stage < last; ++stage)
      fill_stage<Type>(records, first + stage, stage, stages, barriers, policy);
  }
  __syncwarp();
}

template <class Type, class Compute>
__device__ __forceinline__ void stream_staged_records(const unsigned char* records, long long first, long long last,
                                                      int lane, unsigned long long policy, unsigned stages,
                                                      unsigned barriers, int count, Compute compute) {
  int stage = 0;
  unsigned parity = 0;
  for (long long kb = first; kb < last; ++kb) {
    mm::mbarrier_wait(barriers + 8 * stage, parity);
    typename Type::Record r;
    Type::load(r, mm::StagedRecord{stages + stage * Type::Layout::kRecordBytes}, lane);
    compute(r, kb);
    __syncwarp();
    if (lane == 0 && kb + count < last) {
      mm::fence_proxy_async_shared();
      fill_stage<Type>(records, kb + count, stage, stages, barriers, policy);
    }
    if (++stage == count) stage = 0, parity ^= 1;
  }
}

// Mma16Work's block order: SegmentsInterleaved<true> for a geglu epilogue's launch.
template <bool>
struct SegmentsInterleaved {};

// What one warp of an mma16 / mma16h launch computes: the block's member of the launch group
// (picked with selects, not a dynamic index into the parameters), its
// 16-row tile, its activation rows (from first_row, `capacity` of them) and its run of super-blocks
// [first, last) of the tile's K split.
struct Mma16Work {
  Mma16Member member;
  long long cols, tile_block, tile, first, last;
  int width, tiles_per_block, first_row, member_index;
  int stages, stage_bytes;  // Mma16Args::stages, Mma16Args::stage_bytes

  // Reads the parameters by value: a pointer to them would copy them to local memory. The grid
  // runs member by member, or, for a geglu epilogue (SEGMENTS_INTERLEAVED), 256-row segment by
  // segment, gate's blocks then up's: a segment's geglu is computed while later segments stream,
  // not all of them at the end of the launch.
  template <bool SEGMENTS_INTERLEAVED>
  __device__ Mma16Work(const Mma16Args& a, int capacity, SegmentsInterleaved<SEGMENTS_INTERLEAVED>)
      : cols(a.cols), width(a.width), stages(a.stages), stage_bytes(a.stage_bytes) {
    const int warp = threadIdx.x / 32;
    tiles_per_block = matmul::kWarps / a.k_split;
    unsigned block = blockIdx.x;
    if constexpr (SEGMENTS_INTERLEAVED) {  // to the member-by-member index of the same work
      const unsigned segment_blocks = matmul::kQ8SuperBlock / layout::kMma16TileRows / tiles_per_block * a.row_groups;
      const unsigned pair = block / (2 * segment_blocks), in_pair = block - pair * 2 * segment_blocks;
      block = pair * segment_blocks + in_pair + (in_pair >= segment_blocks ? a.member_end[0] - segment_blocks : 0u);
    }
    const int m = a.member_count > 1 && block >= a.member_end[0] ? (a.member_count > 2 && block >= a.member_end[1] ? 2 : 1) : 0;
    member = m == 0 ? a.members[0] : m == 1 ? a.members[1] : a.members[2];
    member_index = m;
    const unsigned local = block - (m == 0 ? 0u : m == 1 ? a.member_end[0] : a.member_end[1]);
    tile_block = local / a.row_groups;
    first_row = capacity * static_cast<int>(local % a.row_groups);
    tile = tile_block * tiles_per_block + warp % tiles_per_block;
    const int k_lane = warp / tiles_per_block;
    const long long super_blocks = a.cols / matmul::kQ8SuperBlock;
    first = super_blocks * k_lane / a.k_split;
    last = super_blocks * (k_lane + 1) / a.k_split;
  }
  __device__ bool active() const { return tile < layout::mma16_tiles(member.rows) && first < last; }
  // The tile's first record.
  __device__ const unsigned char* records(long long record_bytes) const {
    return static_cast<const unsigned char*>(member.weight) + tile * (cols / matmul::kQ8SuperBlock) * record_bytes;
  }
  // The warp's stages and their mbarriers in the dynamic shared memory (shared-state-space
  // addresses).
  __device__ unsigned warp_stages() const {
    return mm::shared_address(mm::dynamic_shared_memory()) + threadIdx.x / 32 * stage_bytes;
  }
  __device__ unsigned warp_barriers() const {
    return mm::shared_address(mm::dynamic_shared_memory()) + matmul::kWarps * stage_bytes +
           threadIdx.x / 32 * 8 * matmul::kMma16MaxStages;
  }
  // The records in flight per warp of a staged launch, for weights of Type: the count, as far as
  // the warp's share holds them.
  template <class Type>
  __device__ int stages_of() const {
    const int fit = stage_bytes / Type::Layout::kRecordBytes;
    return stages < fit ? stages : fit;
  }
  // Staged launches: the warp's first records into its stages, issued before the kernel waits for
  // the grids before it.
  template <class Type>
  __device__ void prefetch(int lane) const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // bulk copies; the launcher stages only there
    if (stages > 0 && active())
      start_staged_records<Type>(records(Type::Layout::kRecordBytes), first, last, lane, mm::evict_first_policy(),
                                 warp_stages(), warp_barriers(), stages_of<Type>());
#endif
  }
  // compute(record, kb) over the warp's run of records: through the warp's stages in shared
  // memory (stream_staged_records, after prefetch) or double-buffered in registers
  // (stream_records).
  template <class Type, class Compute>
  __device__ void stream(int lane, Compute compute) const {
    if (!active()) return;
    const unsigned char* tile_records = records(Type::Layout::kRecordBytes);
    const unsigned long long policy = mm::evict_first_policy();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (stages > 0) {
      stream_staged_records<Type>(tile_records, first, last, lane, policy, warp_stages(), warp_barriers(),
                                  stages_of<Type>(), compute);
      return;
    }
#endif
    stream_records<Type>(tile_records, first, last, lane, policy, compute);
  }
  // The k_split warps of a tile sum through shared memory, lowest K-lane first.
  template <int kTiles8>
  __device__ void finish(float (&acc)[kTiles8][4]) const {
    mm::finish_block_tile(acc, mm::dynamic_shared_memory(), tiles_per_block, width - first_row,
                          tile_block * tiles_per_block * layout::kMma16TileRows, member.rows,
                          member.y + first_row * member.rows);
  }
};

// geglu-epilogue (Mma16Geglu): once the block's tiles are written, it takes a ticket of its 256-row
// segment and row group; the segment's last block (both members' tiles of those rows are written)
// computes the segment's geglu for the row group's rows, a warp a row, and zeroes the counter
// for the next launch. The members' 16-row tiles never straddle a segment (4 / k_split of them a block).
template <int GEGLU_QUANTIZE, int kCapacity>
__device__ __forceinline__ void geglu_epilogue(const Mma16Args& a, const Mma16Work& work) {
  constexpr int kSegmentTiles = matmul::kQ8SuperBlock / layout::kMma16TileRows;
  const long long segment = work.tile_block * work.tiles_per_block / kSegmentTiles;
  unsigned* counter = a.geglu.tickets + segment * a.row_groups + work.first_row / kCapacity;
  if (take_block_ticket(counter) != static_cast<unsigned>(2 * kSegmentTiles / work.tiles_per_block - 1)) return;
  // A warp's rows (up to 4) at a time, every load issued before the first row is computed: this
  // runs on the launch's critical path, at L2 latency.
  constexpr int kRowsInFlight = kCapacity / matmul::kWarps < 4 ? kCapacity / matmul::kWarps : 4;
  const int rows = min(a.width - work.first_row, kCapacity), lane = threadIdx.x % 32;
  const long long cols = a.members[0].rows;
  for (int first = threadIdx.x / 32; first < rows; first += kRowsInFlight * matmul::kWarps) {
    GegluLaneInputs in[kRowsInFlight];
#pragma unroll
    for (int i = 0; i < kRowsInFlight; ++i)
      if (const int r = first + i * matmul::kWarps; r < rows)
        in[i] = load_geglu_lane<true>(a.geglu.gate, a.geglu.up, geglu_lane_offset(cols, work.first_row + r, segment, lane));
#pragma unroll
    for (int i = 0; i < kRowsInFlight; ++i)
      if (const int r = first + i * matmul::kWarps; r < rows)
        finish_geglu_lane<GEGLU_QUANTIZE>(in[i], a.geglu.y, a.geglu.x_q, cols, a.width, work.first_row + r, segment, lane);
  }
  reset_block_ticket(counter);
}

// The block's tiles of its member, whose weights are of type Block, written to the member's y.
template <class Block, int kCapacity>
__device__ __forceinline__ void mma16_tiles(const Mma16Args& a, const Mma16Work& work) {
  using namespace mm;
  using Type = Mma16Type<Block>;
  constexpr int kTiles8 = kCapacity / 8;
  constexpr long long kRecordBytes = Type::Layout::kRecordBytes;
  const int lane = threadIdx.x % 32;
  float acc[kTiles8][4];
  zero_fragments(acc);
  const long long activation_stride = static_cast<long long>(a.width) * matmul::kMma16RowBytes;
  Mma16Activations<kTiles8> x(a.width, work.first_row, lane / 4, lane % 4);
  const auto multiply = [&](const typename Type::Record& r, long long kb) {
    x.record = static_cast<const unsigned char*>(a.x_q) + kb * activation_stride;
    Type::template multiply<kTiles8>(r, x, lane % 4, acc);
  };
  if (kTiles8 == 1 || work.stages > 0) {
    work.stream<Type>(lane, multiply);
  } else if (work.active()) {
    // Wider tiles compute a record 2-4 times as long and need the registers: one buffer, the
    // other warps of the SM covering its loads.
    const unsigned char* records = work.records(kRecordBytes);
    const unsigned long long policy = evict_first_policy();
    for (long long kb = work.first; kb < work.last; ++kb) {
      typename Type::Record r;
      Type::load(r, StreamedRecord{records + kb * kRecordBytes, policy}, lane);
      multiply(r, kb);
    }
  }
  work.finish(acc);
}

// One block of an mma16 or mma16h launch (their kernels differ only in `tiles`, called as
// tiles.operator()<B>(a, work) for the member's weight type B): its member's tiles — of type Block,
// or LastBlock for a mixed-type group's last member — then, where the launch has one, the geglu
// epilogue of its segment.
template <class Block, class LastBlock, int kCapacity, int GEGLU_QUANTIZE, class Tiles>
__device__ __forceinline__ void mma16_launch_block(const Mma16Args& a, Tiles tiles) {
  static_assert(kCapacity % 8 == 0 && kCapacity <= matmul::kMaxWidth, "capacities are whole mma tiles");
  const Mma16Work work(a, kCapacity, SegmentsInterleaved<GEGLU_QUANTIZE != kNoGegluEpilogue>{});
  const bool last_type = !mm::same_type<Block, LastBlock>::value && work.member_index == a.member_count - 1;
  if (last_type)
    work.prefetch<mm::Mma16Type<LastBlock>>(threadIdx.x % 32);
  else
    work.prefetch<mm::Mma16Type<Block>>(threadIdx.x % 32);
  wait_for_prior_grids();  // the weights were there before; the activations and outputs are the grids'
  if (last_type)
    tiles.template operator()<LastBlock>(a, work);
  else
    tiles.template operator()<Block>(a, work);
  if constexpr (GEGLU_QUANTIZE != kNoGegluEpilogue) geglu_epilogue<GEGLU_QUANTIZE, kCapacity>(a, work);
}

// y[n][j] = Σ_k x[n][k] · W[j][k] for n < args.width, W in the mma16 layout, x from quantize_mma16
// for that width, for each member (W, y) of the launch group: of weight type Block, but the last
// member's LastBlock (mixed-type groups: the 12B's Q6_K V after its Q4_K Q and K); a block
// computes kCapacity rows n (a multiple of 8) of its row group. Grid: Σ_members ceil(tiles / (4 /
// k_split)) · row_groups blocks of matmul::kThreads threads, member by member (a geglu epilogue's
// 256-row segment by segment: Mma16Work), the row groups of a tile block adjacent;
// matmul::mma16_shared_bytes(kCapacity, k_split, stage_bytes) bytes of dynamic shared memory. A row's
// result does not depend on the capacity, the group it falls in or the other members.
template <class Block, int kCapacity, int GEGLU_QUANTIZE = kNoGegluEpilogue, class LastBlock = Block>
__global__ void __launch_bounds__(matmul::kThreads, matmul::mma16_min_blocks_per_sm(kCapacity)) matmul_mma16(Mma16Args a) {
  mma16_launch_block<Block, LastBlock, kCapacity, GEGLU_QUANTIZE>(
      a, []<class B>(const Mma16Args& args, const Mma16Work& work) { mma16_tiles<B, kCapacity>(args, work); });
}

}  // namespace g4c
