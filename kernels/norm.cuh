// rms_norm {group, weighted}: y = x · (mean(x²) + eps)^(−1/2) [⊙ w] over each GROUP consecutive
// floats (gemma4.md §5): the hidden state (GROUP = hidden) or each head (GROUP = head_dim).
//
// A warp normalizes a group of up to 1024 floats, a block of 256 threads a larger one; every
// thread loads its share into registers before the reduction and writes only what it loaded, so
// y may be x (the plan's in_place norms).
#include "ops_common.cuh"

namespace g4c {

template <int GROUP, bool WEIGHTED, int VEC>
__device__ void rms_norm_group(const RmsNormArgs& a, long long group, int lane, float* partials) {
  constexpr int kThreads = norm_threads_per_group(GROUP);
  GroupSlice<GROUP, kThreads, VEC> slice;
  const long long base = group * GROUP;
  slice.load(a.x + base, lane, [](float v) { return v; });
  const float sum = group_sum<kThreads>(slice.sum_of_squares(), partials);
  // As the CPU op: the mean in float, then a correctly rounded square root and division.
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(GROUP) + a.eps);
  slice.store(a.y + base, lane, [&](float (&v)[VEC], int offset) {
    for (int e = 0; e < VEC; ++e) v[e] = v[e] * inv;
    if constexpr (WEIGHTED) {
      float w[VEC];
      load_vec<VEC>(a.weight + offset, w);
      for (int e = 0; e < VEC; ++e) v[e] = v[e] * w[e];
    }
  });
}

template <int GROUP, bool WEIGHTED>
__global__ void __launch_bounds__(norm_threads_per_group(GROUP) * norm_groups_per_block(GROUP))
    rms_norm(RmsNormArgs a) {
  constexpr int kThreads = norm_threads_per_group(GROUP);
  __shared__ float partials[kThreads / 32];
  const long long group = static_cast<long long>(blockIdx.x) * norm_groups_per_block(GROUP) + threadIdx.x / kThreads;
  if (group >= a.groups) return;  // whole warps (or the whole block of a large group) leave together
  const int lane = threadIdx.x % kThreads;
  if constexpr (GROUP % 4 == 0) {
    if (a.vectorized) return rms_norm_group<GROUP, WEIGHTED, 4>(a, group, lane, partials);
  }
  rms_norm_group<GROUP, WEIGHTED, 1>(a, group, lane, partials);
}

}  // namespace g4c
