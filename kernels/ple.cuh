// ple_combine {width}: the Per-Layer-Embedding pre-pass of gemma4.md §3.2 for every (row, layer):
//   out[layer][row] = ((RMS(proj · proj_scale) ⊙ norm) + ple_rows) · out_scale
// where proj (the projected embedding) and ple_rows (the gathered, scaled PLE table row) are
// rows × (layers · WIDTH) and out is layer-major, so each layer's slice is a plain rows × WIDTH
// activation. One group of WIDTH floats per (row, layer), normalized as rms_norm does.
#include "ops_common.cuh"

namespace g4c {

template <int WIDTH, int VEC>
__device__ void ple_combine_group(const PleCombineArgs& a, long long group, int lane, float* partials) {
  constexpr int kThreads = norm_threads_per_group(WIDTH);
  const long long row = group / a.layers, layer = group % a.layers;
  GroupSlice<WIDTH, kThreads, VEC> slice;
  const float proj_scale = a.proj_scale;
  slice.load(a.proj + group * WIDTH, lane, [=](float v) { return v * proj_scale; });
  const float sum = group_sum<kThreads>(slice.sum_of_squares(), partials);
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(WIDTH) + a.eps);
  const float* ple_row = a.ple_rows + group * WIDTH;
  slice.store(a.out + (layer * a.out_rows + row) * WIDTH, lane, [&](float (&v)[VEC], int offset) {
    float norm[VEC], add[VEC];
    load_vec<VEC>(a.norm + offset, norm);
    load_vec<VEC>(ple_row + offset, add);
    for (int e = 0; e < VEC; ++e) v[e] = (v[e] * inv * norm[e] + add[e]) * a.out_scale;
  });
}

template <int WIDTH>
__global__ void __launch_bounds__(norm_threads_per_group(WIDTH) * norm_groups_per_block(WIDTH))
    ple_combine(PleCombineArgs a) {
  wait_for_prior_grids();
  constexpr int kThreads = norm_threads_per_group(WIDTH);
  __shared__ float partials[kThreads / 32];
  const long long group = static_cast<long long>(blockIdx.x) * norm_groups_per_block(WIDTH) + threadIdx.x / kThreads;
  if (group >= static_cast<long long>(a.rows) * a.layers) return;
  const int lane = threadIdx.x % kThreads;
  if constexpr (WIDTH % 4 == 0) {
    if (a.vectorized) return ple_combine_group<WIDTH, 4>(a, group, lane, partials);
  }
  ple_combine_group<WIDTH, 1>(a, group, lane, partials);
}

}  // namespace g4c
