// geglu, add, scale_by, softcap: elementwise over `count` floats (gemma4.md §6, §3.4, §8 step 6).
// y may be a or b (the plan runs them in place). A grid-stride loop over float4s when every
// pointer is 16-byte aligned, then the last count % 4 elements one by one.
#pragma once

#include "ops_common.cuh"
#include "quantize_activations.cuh"

namespace g4c {

template <bool BINARY, class Op>
__device__ inline void elementwise(const ElementwiseArgs& a, Op op) {
  const long long stride = static_cast<long long>(gridDim.x) * kElementwiseThreads;
  const long long start = static_cast<long long>(blockIdx.x) * kElementwiseThreads + threadIdx.x;
  long long scalar_begin = 0;
  if (a.vectorized) {
    const long long vectors = a.count / 4;
    for (long long i = start; i < vectors; i += stride) {
      const float4 x = load_float4(a.a + 4 * i);
      const float4 y = BINARY ? load_float4(a.b + 4 * i) : x;
      store_float4(a.y + 4 * i, make_float4(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w)));
    }
    scalar_begin = vectors * 4;
  }
  for (long long i = scalar_begin + start; i < a.count; i += stride) a.y[i] = op(a.a[i], BINARY ? a.b[i] : 0.0f);
}

// gelu_tanh(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with the CPU op's float constants.
__device__ inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608f;
  return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

__global__ void __launch_bounds__(kElementwiseThreads) geglu(ElementwiseArgs a) {
  wait_for_prior_grids();
  elementwise<true>(a, [](float gate, float up) { return gelu_tanh(gate) * up; });
}

// Where a lane's eight values of row n's super-block kb of a geglu start.
__device__ inline long long geglu_lane_offset(long long cols, int n, long long kb, int lane) {
  return n * cols + kb * matmul::kQ8SuperBlock + 8 * lane;
}

// One lane's eight gate and up values of a (row, 256-value super-block) of geglu, at `at`.
// COHERENT reads them from L2: a matmul epilogue reads what other blocks of its grid just wrote.
struct GegluLaneInputs {
  float4 gate[2], up[2];
};
template <bool COHERENT>
__device__ inline GegluLaneInputs load_geglu_lane(const float* gate, const float* up, long long at) {
  GegluLaneInputs in;
  for (int h = 0; h < 2; ++h) {
    in.gate[h] = COHERENT ? __ldcg(reinterpret_cast<const float4*>(gate + at + 4 * h)) : load_float4(gate + at + 4 * h);
    in.up[h] = COHERENT ? __ldcg(reinterpret_cast<const float4*>(up + at + 4 * h)) : load_float4(up + at + 4 * h);
  }
  return in;
}

// Row n's super-block kb of geglu from a lane's inputs: computed, written to y and, for QUANTIZE
// other than kActivationsNone, quantized into the next matmul's activations (a whole warp calls it).
template <int QUANTIZE>
__device__ inline void finish_geglu_lane(const GegluLaneInputs& in, float* y, void* x_q, long long cols, int rows,
                                         int n, long long kb, int lane) {
  const long long at = geglu_lane_offset(cols, n, kb, lane);
  float v[8];
  for (int h = 0; h < 2; ++h) {
    const float4 g = in.gate[h], u = in.up[h];
    const float4 r =
        make_float4(gelu_tanh(g.x) * u.x, gelu_tanh(g.y) * u.y, gelu_tanh(g.z) * u.z, gelu_tanh(g.w) * u.w);
    store_float4(y + at + 4 * h, r);
    v[4 * h] = r.x, v[4 * h + 1] = r.y, v[4 * h + 2] = r.z, v[4 * h + 3] = r.w;
  }
  if constexpr (QUANTIZE != matmul::kActivationsNone) store_activation_lane<QUANTIZE>(v, x_q, rows, n, kb, lane);
}

// geglu {quantize = F}: a warp per (row, 256-value super-block), eight values a lane, computed as
// geglu computes them, written, and quantized into the down matmul's activations. Grid:
// ceil(rows · cols / 256 · 32 / kElementwiseThreads) blocks.
template <int QUANTIZE>
__global__ void __launch_bounds__(kElementwiseThreads) geglu_quantize(GegluQuantizeArgs a) {
  wait_for_prior_grids();
  const long long super_blocks = a.cols / matmul::kQ8SuperBlock;
  const long long item = (static_cast<long long>(blockIdx.x) * kElementwiseThreads + threadIdx.x) / 32;
  if (item >= super_blocks * a.rows) return;
  const int n = static_cast<int>(item / super_blocks), lane = threadIdx.x % 32;
  const long long kb = item % super_blocks;
  const GegluLaneInputs in = load_geglu_lane<false>(a.gate, a.up, geglu_lane_offset(a.cols, n, kb, lane));
  finish_geglu_lane<QUANTIZE>(in, a.y, a.x_q, a.cols, a.rows, n, kb, lane);
}

__global__ void __launch_bounds__(kElementwiseThreads) add(ElementwiseArgs a) {
  wait_for_prior_grids();
  elementwise<true>(a, [](float x, float y) { return x + y; });
}

__global__ void __launch_bounds__(kElementwiseThreads) scale_by(ElementwiseArgs a) {
  wait_for_prior_grids();
  const float factor = *a.factor;
  elementwise<false>(a, [=](float x, float) { return x * factor; });
}

__global__ void __launch_bounds__(kElementwiseThreads) softcap(ElementwiseArgs a) {
  wait_for_prior_grids();
  const float cap = a.cap;
  elementwise<false>(a, [=](float x, float) { return cap * tanhf(x / cap); });
}

}  // namespace g4c
