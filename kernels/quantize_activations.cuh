// The activations of the mmq and mma16 routes (matmul_args.h has the layouts), quantized per 32
// values as q8_1 rounds them, and of mma16h (fp16 in its K order): by the routes' own kernels
// (quantize_q8_1, quantize_mma16, quantize_mma16h) from f32 rows in memory, or by the op producing
// those rows (the plan's `quantize = q8_1 | mma16 | mma16h`:
// rms_norm, geglu) from the values it has just computed. Both go through store_activation_lane,
// so a matmul reads the same bytes whichever kernel wrote them.
#pragma once

#include "g4c/kernels/injected_bugs.h"
#include "g4c/kernels/matmul_args.h"
#include "matmul_ptx.cuh"

namespace g4c {

namespace mm {

// Eight activations of a lane, quantized as q8_1 rounds the 32-value block that it and the next
// three lanes of its quad share: d = fp16(max|x| / 127) (also its fp16 bits), q = round(x / d)
// clamped to ±127 packed into two words, and the block's Σq (every lane of the quad gets it).
struct Q81Lane {
  unsigned packed[2];
  unsigned d_bits;
  float d;
  int sum;
};

__device__ __forceinline__ Q81Lane quantize_q8_1_lane(const float (&v)[8]) {
  float amax = 0.0f;
#pragma unroll
  for (int i = 0; i < 8; ++i) amax = fmaxf(amax, fabsf(v[i]));
  amax = fmaxf(amax, __shfl_xor_sync(kFullMask, amax, 1));
  amax = fmaxf(amax, __shfl_xor_sync(kFullMask, amax, 2));
  Q81Lane r{{0u, 0u}, float_to_half_bits(amax / 127.0f), 0.0f, 0};
  r.d = half_to_float(r.d_bits);
  const float inverse = r.d > 0.0f ? 1.0f / r.d : 0.0f;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int q = max(-127, min(127, __float2int_rn(v[i] * inverse)));
    r.sum += q;
    r.packed[i / 4] |= (static_cast<unsigned>(q) & 0xffu) << (8 * (i % 4));
  }
  r.sum += __shfl_xor_sync(kFullMask, r.sum, 1);
  r.sum += __shfl_xor_sync(kFullMask, r.sum, 2);
  return r;
}

}  // namespace mm

// Eight values of row n, columns 8·lane .. 8·lane + 7 of super-block kb, quantized into the
// activations of `width` rows at x_q in FORMAT (matmul::kActivationsQ81, kActivationsMma16 or
// kActivationsMma16h).
// The four lanes of a quad share a 32-value block: a whole warp calls it for one (row,
// super-block).
template <int FORMAT>
__device__ inline void store_activation_lane(float (&v)[8], void* x_q, int width, int n, long long kb, int lane) {
  static_assert(FORMAT == matmul::kActivationsQ81 || FORMAT == matmul::kActivationsMma16 ||
                    FORMAT == matmul::kActivationsMma16h,
                "an activation format");
  using namespace mm;
  const long long column = kb * matmul::kQ8SuperBlock + 8 * lane;
  if (injected_drop(column, FORMAT == matmul::kActivationsQ81))
    for (float& e : v) e = 0.0f;  // a dropped weight block: its activations never meet the weights

  if constexpr (FORMAT == matmul::kActivationsMma16h) {
    // Columns p = 8m..8m+3 and 8m+4..8m+7 of block L / 4 (m = L % 4): each four an 8-byte slot
    // in the route's K order (4t, 4t+2, 4t+1, 4t+3).
    unsigned char* record = static_cast<unsigned char*>(x_q) + kb * width * matmul::kMma16hRowBytes;
    const int block = lane / 4, m = lane % 4;
    *reinterpret_cast<uint2*>(record + matmul::mma16h_half_byte(n, block, 8 * m)) =
        make_uint2(pack_half2(v[0], v[2]), pack_half2(v[1], v[3]));
    *reinterpret_cast<uint2*>(record + matmul::mma16h_half_byte(n, block, 8 * m + 4)) =
        make_uint2(pack_half2(v[4], v[6]), pack_half2(v[5], v[7]));
    return;
  }
  const Q81Lane q = quantize_q8_1_lane(v);

  if constexpr (FORMAT == matmul::kActivationsQ81) {
    unsigned char* super_block = static_cast<unsigned char*>(x_q) + kb * width * matmul::kQ8RowBytes;
    *reinterpret_cast<uint2*>(super_block + n * matmul::kQ8CodeBytes + 8 * lane) = make_uint2(q.packed[0], q.packed[1]);
    if (lane % 4 == 0) {
      unsigned short* record =
          reinterpret_cast<unsigned short*>(super_block + width * matmul::kQ8CodeBytes + n * matmul::kQ8ScaleBytes);
      record[lane / 4] = static_cast<unsigned short>(q.d_bits);
      record[8 + lane / 4] = static_cast<unsigned short>(q.sum);  // |Σq| ≤ 32 · 127: an int16
    }
  } else {
    // This lane's columns p = 8m..8m+3 and 8m+4..8m+7 of its block (m = L % 4) are two words.
    unsigned char* record = static_cast<unsigned char*>(x_q) + kb * width * matmul::kMma16RowBytes;
    const int block = lane / 4, m = lane % 4;
    *reinterpret_cast<unsigned*>(record + matmul::mma16_code_byte(n, block, 8 * m)) = q.packed[0];
    *reinterpret_cast<unsigned*>(record + matmul::mma16_code_byte(n, block, 8 * m + 4)) = q.packed[1];
    if (m == 0) {
      float* scales = reinterpret_cast<float*>(record + matmul::mma16_scales_byte(width, n));
      scales[block] = q.d;
      scales[8 + block] = q.d * static_cast<float>(q.sum);  // exact: 11 + 12 bits
    }
  }
}

// A route's own quantization of x f32 [width][cols], by the warp of this thread: one warp per
// (row, super-block), eight values a lane (lane L holds columns 8L..8L+7 of block L / 4). Grid:
// ceil(width · cols / 256 · 32 / matmul::kThreads) blocks of matmul::kThreads threads.
template <int FORMAT>
__device__ inline void quantize_rows(const float* x_rows, void* x_q, long long cols, int width) {
  const long long super_blocks = cols / matmul::kQ8SuperBlock;
  const long long item = (static_cast<long long>(blockIdx.x) * matmul::kThreads + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (item >= super_blocks * width) return;
  const int n = static_cast<int>(item % width);
  const long long kb = item / width;
  const float* x = x_rows + n * cols + kb * matmul::kQ8SuperBlock + 8 * lane;
  const float4 first = __ldg(reinterpret_cast<const float4*>(x)), second = __ldg(reinterpret_cast<const float4*>(x + 4));
  float v[8] = {first.x, first.y, first.z, first.w, second.x, second.y, second.z, second.w};
  store_activation_lane<FORMAT>(v, x_q, width, n, kb, lane);
}

// Super-block kb of row n of `width` rows (`row`: the row's floats, 16-byte aligned), which this
// warp's block has just written (a barrier has passed since), quantized into x_q by the whole warp.
// The loads go to L2 (ld.global.cg), never to a read-only path that could predate the writes.
template <int FORMAT>
__device__ inline void quantize_written_super_block(const float* row, void* x_q, int width, int n, long long kb, int lane) {
  const float* x = row + kb * matmul::kQ8SuperBlock + 8 * lane;
  const float4 first = __ldcg(reinterpret_cast<const float4*>(x)), second = __ldcg(reinterpret_cast<const float4*>(x + 4));
  float v[8] = {first.x, first.y, first.z, first.w, second.x, second.y, second.z, second.w};
  store_activation_lane<FORMAT>(v, x_q, width, n, kb, lane);
}

// Row n of `width` rows (`cols` floats at `row`), which this group of THREADS threads has just
// written, quantized into x_q: each warp of the group takes every (THREADS / 32)-th super-block.
template <int FORMAT, int THREADS>
__device__ inline void quantize_written_row(const float* row, long long cols, void* x_q, int width, int n, int thread) {
  static_assert(THREADS % 32 == 0, "whole warps");
  for (long long kb = thread / 32; kb < cols / matmul::kQ8SuperBlock; kb += THREADS / 32)
    quantize_written_super_block<FORMAT>(row, x_q, width, n, kb, thread % 32);
}

}  // namespace g4c
