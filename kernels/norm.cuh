// rms_norm {group, weighted}: y = x · (mean(x²) + eps)^(−1/2) [⊙ w] over each GROUP consecutive
// floats (gemma4.md §5): the hidden state (GROUP = hidden) or each head (GROUP = head_dim).
//
// A warp normalizes a group of up to 1024 floats, a block a larger one (a warp per 256-float
// super-block of a hidden row, else 256 threads: norm_threads_per_group); every
// thread loads its share into registers before the reduction and writes only what it loaded, so
// y may be x (the plan's in_place norms). The pieces below are shared with the fused norms
// (fused_norm.cuh), which do the same work and something more on the way out.
#pragma once

#include "ops_common.cuh"
#include "quantize_activations.cuh"

namespace g4c {

template <int N>
struct Vec {
  static constexpr int value = N;
};

// The frame of a kernel over norm groups: finds this thread's group and its lane in it, and
// calls body(Vec<VEC>{}, group, lane) with VEC = 4 when the kernel's pointers allow float4 access
// (`vectorized`), else 1. Threads past the last group return at once, whole warps (or the whole
// block of a large group) together, so the group's reductions see all their threads.
template <int GROUP, class Body>
__device__ inline void for_norm_group(long long groups, int vectorized, Body body) {
  constexpr int kThreads = norm_threads_per_group(GROUP);
  const long long group = static_cast<long long>(blockIdx.x) * norm_groups_per_block(GROUP) + threadIdx.x / kThreads;
  if (group >= groups) return;
  const int lane = threadIdx.x % kThreads;
  if constexpr (GROUP % 4 == 0) {
    if (vectorized) return body(Vec<4>{}, group, lane);
  }
  body(Vec<1>{}, group, lane);
}

// 1 / sqrt(mean(x²) + eps) of the group in `slice`, to every thread of the group. As the CPU op:
// the mean in float, then a correctly rounded square root and division.
template <int GROUP, int THREADS, int VEC>
__device__ inline float rms_inverse(const GroupSlice<GROUP, THREADS, VEC>& slice, float eps, float* partials) {
  const float sum = group_sum<THREADS>(slice.sum_of_squares(), partials);
  return 1.0f / sqrtf(sum / static_cast<float>(GROUP) + eps);
}

// One vector of a normalized group: v · inv [· w at the vector's offset], each product rounded
// as the CPU op rounds it.
template <bool WEIGHTED, int VEC>
__device__ inline void apply_rms(float (&v)[VEC], float inv, const float* weight, int offset) {
  for (int e = 0; e < VEC; ++e) v[e] = v[e] * inv;
  if constexpr (WEIGHTED) {
    float w[VEC];
    load_vec<VEC>(weight + offset, w);
    for (int e = 0; e < VEC; ++e) v[e] = v[e] * w[e];
  }
}

// Orders the writes of a group's threads before their reads: a warp, or the block of a group
// over 1024 floats.
template <int THREADS>
__device__ inline void group_barrier() {
  if constexpr (THREADS > 32)
    __syncthreads();
  else
    __syncwarp();
}

// QUANTIZE (quantize-in-producer, matmul::kActivations*): row n of `width` rows, which the group's
// threads have just stored from `slice` at `row`, into the matmuls' activations at x_q: from the
// registers where each thread holds eight consecutive columns (the layout a warp quantizes a
// super-block in), else re-read from memory by whole warps after the group's barrier. The same
// lane function either way, so the bytes are those of the routes' own quantization of the row.
template <int QUANTIZE, int GROUP, int THREADS, int VEC>
__device__ inline void quantize_stored_row(const GroupSlice<GROUP, THREADS, VEC>& slice, const float* row, void* x_q,
                                           int width, int n, int lane) {
  if constexpr (QUANTIZE == matmul::kActivationsNone) {
    return;
  } else if constexpr (GroupSlice<GROUP, THREADS, VEC>::kEightInARow) {
    float v[8];
    slice.eight(v);
    store_activation_lane<QUANTIZE>(v, x_q, width, n, lane / 32, lane % 32);
  } else {
    group_barrier<THREADS>();
    quantize_written_row<QUANTIZE, THREADS>(row, GROUP, x_q, width, n, lane);
  }
}

template <int GROUP, bool WEIGHTED, int QUANTIZE, int VEC>
__device__ void rms_norm_group(const RmsNormArgs& a, long long group, int lane, float* partials) {
  constexpr int kThreads = norm_threads_per_group(GROUP);
  GroupSlice<GROUP, kThreads, VEC> slice;
  const long long base = group * GROUP;
  slice.load(a.x + base, lane, [](float v) { return v; });
  float inv = rms_inverse(slice, a.eps, partials);
  if (!WEIGHTED && injected(InjectedBug::skip_v_norm)) inv = 1.0f;
  slice.store(a.y + base, lane, [&](float (&v)[VEC], int offset) { apply_rms<WEIGHTED>(v, inv, a.weight, offset); });
  quantize_stored_row<QUANTIZE>(slice, a.y + base, a.x_q, static_cast<int>(a.groups), static_cast<int>(group), lane);
}

// QUANTIZE (quantize-in-producer, matmul::kActivations*): each group is a whole row, and once it
// is written its threads quantize it into the matmuls' int8 activations at a.x_q.
template <int GROUP, bool WEIGHTED, int QUANTIZE>
__global__ void __launch_bounds__(norm_threads_per_group(GROUP) * norm_groups_per_block(GROUP))
    rms_norm(RmsNormArgs a) {
  wait_for_prior_grids();
  constexpr int kThreads = norm_threads_per_group(GROUP);
  __shared__ float partials[kThreads / 32];
  for_norm_group<GROUP>(a.groups, a.vectorized, [&](auto vec, long long group, int lane) {
    rms_norm_group<GROUP, WEIGHTED, QUANTIZE, decltype(vec)::value>(a, group, lane, partials);
  });
}

}  // namespace g4c
