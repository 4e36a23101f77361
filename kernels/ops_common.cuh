// Device helpers shared by the non-matmul kernels: warp and block reductions, 16-byte vector
// access, and the KV cache element types (F16, BF16, F32) as loads and conversions.
#pragma once

#include "g4c/kernels/injected_bugs.h"
#include "g4c/kernels/op_args.h"
#include "launch_order.cuh"
#include "g4c/kernels/quant_blocks.h"

namespace g4c {

inline constexpr unsigned kFullWarp = 0xffffffffu;

__device__ inline float negative_infinity() { return __int_as_float(0xff800000); }

__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

__device__ inline float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullWarp, v, offset));
  return v;
}

// The sum over the THREADS consecutive threads of a group, returned to every thread of it: a warp,
// or (THREADS > 32) the whole block, through `partials`, shared memory for THREADS / 32 floats. The
// block-wide form is a barrier and leaves `partials` in use: one call per kernel.
template <int THREADS>
__device__ inline float group_sum(float v, float* partials) {
  v = warp_sum(v);
  if constexpr (THREADS > 32) {
    const int lane = threadIdx.x % 32, warp = (threadIdx.x % THREADS) / 32;
    if (lane == 0) partials[warp] = v;
    __syncthreads();
    v = 0;
    for (int w = 0; w < THREADS / 32; ++w) v += partials[w];
  }
  return v;
}

// Last-block fusions (attention-combine, geglu-epilogue): called by every thread of a block once
// its results are written; returns, to every thread, how many blocks took a ticket of `counter`
// before this one. One thread's acq_rel atomic does the ordering at GPU scope, for the whole block
// through the barriers (cumulativity): the block's writes before its ticket (release), and, for
// the block that takes the last ticket, every earlier block's writes before what it reads next
// (acquire) — no fence.sc (__threadfence) in every warp of every block.
__device__ inline unsigned take_block_ticket(unsigned* counter) {
  __shared__ unsigned ticket;
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned taken;
    asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;" : "=r"(taken) : "l"(counter) : "memory");
    ticket = taken;
  }
  __syncthreads();
  return ticket;
}

// The last block's reset of its counter, once it has read what the others wrote: the next launch
// (a CUDA graph replays it) finds it zeroed.
__device__ inline void reset_block_ticket(unsigned* counter) {
  if (threadIdx.x == 0 && !injected(InjectedBug::ticket_left_set)) *counter = 0;
}

__device__ inline float4 load_float4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ inline void store_float4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }

__device__ inline float4 fma4(float s, float4 v, float4 acc) {
  return make_float4(fmaf(s, v.x, acc.x), fmaf(s, v.y, acc.y), fmaf(s, v.z, acc.z), fmaf(s, v.w, acc.w));
}

__device__ inline float4 scale4(float4 v, float s) { return make_float4(v.x * s, v.y * s, v.z * s, v.w * s); }

// VEC consecutive floats (1 or 4; 4 needs 16-byte alignment).
template <int VEC>
__device__ inline void load_vec(const float* p, float (&out)[VEC]) {
  if constexpr (VEC == 4) {
    const float4 v = load_float4(p);
    out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
  } else {
    for (int e = 0; e < VEC; ++e) out[e] = p[e];
  }
}

template <int VEC>
__device__ inline void store_vec(float* p, const float (&in)[VEC]) {
  if constexpr (VEC == 4) {
    store_float4(p, make_float4(in[0], in[1], in[2], in[3]));
  } else {
    for (int e = 0; e < VEC; ++e) p[e] = in[e];
  }
}

// A group of N floats (a norm group) held in the registers of the TPG threads that normalize it:
// thread `lane` owns vectors lane, lane + TPG, ... of VEC floats, or, where every thread holds
// exactly eight floats (kEightInARow: a row of super-blocks, norm_threads_per_group), floats
// 8·lane .. 8·lane + 7, as a warp quantizes super-block lane / 32. Reading the whole group before
// writing any of it is what lets the norms run in place.
template <int N, int TPG, int VEC>
struct GroupSlice {
  static constexpr int kVectors = N / VEC;
  static constexpr int kItems = (kVectors + TPG - 1) / TPG;
  static constexpr bool kEightInARow = N == 8 * TPG;
  static_assert(N % VEC == 0, "a group is whole vectors");
  float v[kItems][VEC];

  __device__ static bool owns(int lane, int item) { return kEightInARow || lane + item * TPG < kVectors; }
  __device__ static int offset(int lane, int item) {
    return kEightInARow ? lane * 8 + item * VEC : (lane + item * TPG) * VEC;
  }

  // kEightInARow: the thread's eight floats in column order.
  __device__ void eight(float (&out)[8]) const {
    static_assert(kEightInARow, "eight consecutive floats a thread");
    for (int i = 0; i < kItems; ++i)
      for (int e = 0; e < VEC; ++e) out[i * VEC + e] = v[i][e];
  }

  // Loads the thread's share of src, each value passed through `f`; unowned entries are zero.
  template <class F>
  __device__ void load(const float* src, int lane, F f) {
    for (int i = 0; i < kItems; ++i) {
      for (int e = 0; e < VEC; ++e) v[i][e] = 0;
      if (owns(lane, i)) load_vec<VEC>(src + offset(lane, i), v[i]);
      for (int e = 0; e < VEC; ++e) v[i][e] = f(v[i][e]);
    }
  }

  // Fused multiply-adds, spelled out: left to the compiler, the contraction of s + v·v may differ
  // between kernels that sum the same values (a norm chain's values in registers against a norm
  // that loads them), and so may the sums.
  __device__ float sum_of_squares() const {
    float s = 0;
    for (int i = 0; i < kItems; ++i)
      for (int e = 0; e < VEC; ++e) s = __fmaf_rn(v[i][e], v[i][e], s);
    return s;
  }

  // Stores, for each owned vector, `f(values, element offset)` after f rewrites the values.
  template <class F>
  __device__ void store(float* dst, int lane, F f) {
    for (int i = 0; i < kItems; ++i) {
      if (!owns(lane, i)) continue;
      f(v[i], offset(lane, i));
      store_vec<VEC>(dst + offset(lane, i), v[i]);
    }
  }
};

//===----------------------------------------------------------------------===//
// KV cache elements
//===----------------------------------------------------------------------===//

// One IEEE half, widened exactly by the hardware conversion (fp16 → f32 is exact).
__device__ inline float half_bits_to_float(unsigned short bits) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
  return f;
}

__device__ inline float2 half2_bits_to_float2(unsigned word) {
  return make_float2(half_bits_to_float(static_cast<unsigned short>(word & 0xffffu)),
                     half_bits_to_float(static_cast<unsigned short>(word >> 16)));
}

__device__ inline float2 bf162_bits_to_float2(unsigned word) {
  return make_float2(__uint_as_float(word << 16), __uint_as_float(word & 0xffff0000u));
}

// A cache element type as the attention and kv_write kernels use it: `Quad` holds four elements
// (one per output lane quad), a 16-byte chunk holds kChunkElems, and encoding rounds a float the
// way the CPU's KvCacheView::store does (quant_blocks.h, bit for bit).
template <class Elem>
struct CacheElement;

template <>
struct CacheElement<block_f16> {
  using Quad = uint2;
  static constexpr int kChunkElems = 8;
  __device__ static float4 widen(uint2 q) {
    const float2 lo = half2_bits_to_float2(q.x), hi = half2_bits_to_float2(q.y);
    return make_float4(lo.x, lo.y, hi.x, hi.y);
  }
  __device__ static unsigned encode_pair(float lo, float hi) {
    return float_to_fp16(lo) | static_cast<unsigned>(float_to_fp16(hi)) << 16;
  }
};

template <>
struct CacheElement<block_bf16> {
  using Quad = uint2;
  static constexpr int kChunkElems = 8;
  __device__ static float4 widen(uint2 q) {
    const float2 lo = bf162_bits_to_float2(q.x), hi = bf162_bits_to_float2(q.y);
    return make_float4(lo.x, lo.y, hi.x, hi.y);
  }
  __device__ static unsigned encode_pair(float lo, float hi) {
    return float_to_bf16(lo) | static_cast<unsigned>(float_to_bf16(hi)) << 16;
  }
};

template <>
struct CacheElement<block_f32> {
  using Quad = uint4;
  static constexpr int kChunkElems = 4;
  __device__ static float4 widen(uint4 q) {
    return make_float4(__uint_as_float(q.x), __uint_as_float(q.y), __uint_as_float(q.z), __uint_as_float(q.w));
  }
};

// The cache slot a row at position `pos` of sequence `seq` is stored in (a ring keeps position p in
// slot p mod slots), or -1 for a row that stores nothing: padding (seq < 0) and, as a second line
// of defence, one outside the cache (the backends check them first).
template <bool RING>
__device__ inline long long cache_slot(int seq, long long pos, long long slots, int sequences) {
  if (seq < 0 || seq >= sequences || pos < 0 || (!RING && pos >= slots)) return -1;
  return RING ? pos % slots : pos;
}

// kChunkElems floats (16-byte aligned) as the 16 bytes of cache elements that store them.
template <class Elem>
__device__ inline uint4 encode_chunk(const float* src) {
  const float4 a = load_float4(src);
  if constexpr (CacheElement<Elem>::kChunkElems == 4) {
    return make_uint4(__float_as_uint(a.x), __float_as_uint(a.y), __float_as_uint(a.z), __float_as_uint(a.w));
  } else {
    const float4 b = load_float4(src + 4);
    using E = CacheElement<Elem>;
    return make_uint4(E::encode_pair(a.x, a.y), E::encode_pair(a.z, a.w), E::encode_pair(b.x, b.y),
                      E::encode_pair(b.z, b.w));
  }
}

// The elements of a 16-byte chunk as floats, four at a time: quad i of the chunk.
template <class Elem>
__device__ inline float4 chunk_quad(const uint4& chunk, int i) {
  if constexpr (CacheElement<Elem>::kChunkElems == 4) {
    return CacheElement<Elem>::widen(chunk);
  } else {
    return CacheElement<Elem>::widen(i == 0 ? make_uint2(chunk.x, chunk.y) : make_uint2(chunk.z, chunk.w));
  }
}

}  // namespace g4c
