// Norms fused with the op that reads them (compiler/passes/fuse_residual_norm.cpp and
// fuse_norm_rope.cpp): rms_norm's work (norm.cuh), with the neighbour's done on the values still
// in registers instead of in a second kernel that reads them back from memory.
//
// add_rms_norm {group, weighted}: y = residual + rms_norm(x) [⊙ w] over each GROUP floats (a
// sublayer's post-norm and its residual add). Each thread adds the residual elements at the
// offsets it writes, after the whole group of x is loaded, so y may be the residual (the plan's
// in-place add) or x.
//
// rms_norm_rope {head_dim, rotated_pairs, weighted}: each head of HEAD_DIM floats normalized
// [⊙ w], then rotated as rope (rope.cuh) at its row's position, by the (cos, sin) of the host-made
// table (the CPU's rope_cos_sin, as a v_only cache's keys are). The normalized head is staged in
// shared memory, since a RoPE pair (i, i + HEAD_DIM/2) spans lanes; the head is read whole before
// any of it is written, so y may be x.
//
// Both round as the unfused pair does (the norm's products, then an add or the rotation with no
// fused multiply-add), so the GPU's fused and unfused plans agree with the CPU ops alike.
#include "norm.cuh"
#include "rope.cuh"

namespace g4c {

template <int GROUP, bool WEIGHTED, bool SCALED, bool THEN_NORM, int QUANTIZE, int VEC>
__device__ void add_rms_norm_group(const AddRmsNormArgs& a, long long group, int lane, float* partials,
                                   float* then_partials) {
  constexpr int kThreads = norm_threads_per_group(GROUP);
  GroupSlice<GROUP, kThreads, VEC> slice;
  const long long base = group * GROUP;
  slice.load(a.x + base, lane, [](float v) { return v; });
  const float inv = rms_inverse(slice, a.eps, partials);
  const float* residual = a.residual + base;
  float factor = 1.0f;
  if constexpr (SCALED) factor = *a.scale;
  slice.store(a.y + base, lane, [&](float (&v)[VEC], int offset) {
    apply_rms<WEIGHTED>(v, inv, a.weight, offset);
    float r[VEC];
    load_vec<VEC>(residual + offset, r);
    for (int e = 0; e < VEC; ++e) v[e] = __fadd_rn(r[e], v[e]);
    if constexpr (SCALED)
      for (int e = 0; e < VEC; ++e) v[e] = __fmul_rn(v[e], factor);
  });
  if constexpr (THEN_NORM) {  // the slice holds the row just stored: normalize it as rms_norm would
    const float then_inv = rms_inverse(slice, a.then_eps, then_partials);
    slice.store(a.then_y + base, lane,
                [&](float (&v)[VEC], int offset) { apply_rms<true>(v, then_inv, a.then_weight, offset); });
    if constexpr (QUANTIZE != matmul::kActivationsNone) {
      group_barrier<kThreads>();
      quantize_written_row<QUANTIZE, kThreads>(a.then_y + base, GROUP, a.x_q, static_cast<int>(a.groups),
                                                static_cast<int>(group), lane);
    }
  }
}

// SCALED, THEN_NORM, QUANTIZE: the norm-chains launch (op_args.h), each group a whole row.
template <int GROUP, bool WEIGHTED, bool SCALED, bool THEN_NORM, int QUANTIZE>
__global__ void __launch_bounds__(norm_threads_per_group(GROUP) * norm_groups_per_block(GROUP))
    add_rms_norm(AddRmsNormArgs a) {
  wait_for_prior_grids();
  __shared__ float partials[norm_threads_per_group(GROUP) / 32];
  __shared__ float then_partials[THEN_NORM ? norm_threads_per_group(GROUP) / 32 : 1];
  for_norm_group<GROUP>(a.groups, a.vectorized, [&](auto vec, long long group, int lane) {
    add_rms_norm_group<GROUP, WEIGHTED, SCALED, THEN_NORM, QUANTIZE, decltype(vec)::value>(a, group, lane, partials,
                                                                                          then_partials);
  });
}

template <int HEAD_DIM, int ROTATED_PAIRS, bool WEIGHTED, int VEC>
__device__ void rms_norm_rope_head(const RmsNormRopeArgs& a, long long head, int lane, float* partials,
                                   float* staged) {
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  constexpr int kHalf = HEAD_DIM / 2;
  GroupSlice<HEAD_DIM, kThreads, VEC> slice;
  const long long base = head * HEAD_DIM;
  slice.load(a.x + base, lane, [](float v) { return v; });
  const float inv = rms_inverse(slice, a.eps, partials);
  slice.store(staged, lane, [&](float (&v)[VEC], int offset) { apply_rms<WEIGHTED>(v, inv, a.weight, offset); });
  group_barrier<kThreads>();
  const int position = a.pos[head / a.heads];
  for (int pair = lane; pair < kHalf; pair += kThreads) {
    float first = staged[pair], second = staged[pair + kHalf];
    const bool swapped = injected(InjectedBug::swap_rope_pairs) || injected(InjectedBug::swap_rope_pairs_fused);
    const int angle_pair = swapped ? swapped_rope_pair(pair) : pair;
    if (pair < ROTATED_PAIRS)
      rope_rotate(a.table ? reinterpret_cast<const float2*>(a.table)[static_cast<long long>(position) * ROTATED_PAIRS +
                                                                     angle_pair]
                          : rope_cos_sin<HEAD_DIM>(a.theta, position, angle_pair),
                  first, second);
    a.y[base + pair] = first;
    a.y[base + pair + kHalf] = second;
  }
}

template <int HEAD_DIM, int ROTATED_PAIRS, bool WEIGHTED>
__global__ void __launch_bounds__(norm_threads_per_group(HEAD_DIM) * norm_groups_per_block(HEAD_DIM))
    rms_norm_rope(RmsNormRopeArgs a) {
  wait_for_prior_grids();
  static_assert(HEAD_DIM % 2 == 0 && ROTATED_PAIRS >= 0 && ROTATED_PAIRS <= HEAD_DIM / 2, "pairs of a head");
  static_assert(HEAD_DIM <= 2048, "a staged head fits in shared memory beside the others of its block");
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  __shared__ float partials[kThreads / 32];
  __shared__ __align__(16) float staged[norm_groups_per_block(HEAD_DIM)][HEAD_DIM];
  float* own = staged[threadIdx.x / kThreads];
  for_norm_group<HEAD_DIM>(a.groups, a.vectorized, [&](auto vec, long long head, int lane) {
    rms_norm_rope_head<HEAD_DIM, ROTATED_PAIRS, WEIGHTED, decltype(vec)::value>(a, head, lane, partials, own);
  });
}

}  // namespace g4c
