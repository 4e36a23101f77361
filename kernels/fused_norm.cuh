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
// attention_inputs (the attention-inputs fusion): a layer's Q and K norm+RoPE, V norm and KV write
// in one kernel, below.
//
// All round as the unfused ops do (the norm's products, then an add or the rotation with no
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
    quantize_stored_row<QUANTIZE>(slice, a.then_y + base, a.x_q, static_cast<int>(a.groups), static_cast<int>(group),
                                  lane);
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

// A head of HEAD_DIM floats at x normalized [⊙ weight] into `staged` (rms_norm's arithmetic), and
// when `rotate`, its first ROTATED_PAIRS pairs rotated there at `position` (rope's): what
// rms_norm_rope and attention_inputs write. The whole head is read before any of it is written,
// and the group's threads are synchronized on return.
template <int HEAD_DIM, int ROTATED_PAIRS, int VEC>
__device__ void stage_head(const float* x, const float* weight, float eps, bool rotate, int position,
                           const float* table, double theta, int lane, float* partials, float* staged) {
  static_assert(HEAD_DIM % 2 == 0 && ROTATED_PAIRS >= 0 && ROTATED_PAIRS <= HEAD_DIM / 2, "pairs of a head");
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  constexpr int kHalf = HEAD_DIM / 2;
  GroupSlice<HEAD_DIM, kThreads, VEC> slice;
  slice.load(x, lane, [](float v) { return v; });
  float inv = rms_inverse(slice, eps, partials);
  if (!rotate && !weight && injected(InjectedBug::skip_v_norm)) inv = 1.0f;  // V's norm, the unweighted one
  slice.store(staged, lane, [&](float (&v)[VEC], int offset) {
    if (weight)
      apply_rms<true>(v, inv, weight, offset);
    else
      apply_rms<false>(v, inv, weight, offset);
  });
  group_barrier<kThreads>();
  if (!rotate) return;
  const bool swapped = injected(InjectedBug::swap_rope_pairs) || injected(InjectedBug::swap_rope_pairs_fused);
  for (int pair = lane; pair < ROTATED_PAIRS; pair += kThreads) {
    const int angle_pair = swapped ? swapped_rope_pair(pair) : pair;
    rope_rotate(table ? reinterpret_cast<const float2*>(table)[static_cast<long long>(position) * ROTATED_PAIRS + angle_pair]
                      : rope_cos_sin<HEAD_DIM>(theta, position, angle_pair),
                staged[pair], staged[pair + kHalf]);
  }
  group_barrier<kThreads>();
}

// The staged head to y, VEC floats at a time (4: y 16-byte aligned).
template <int HEAD_DIM, int VEC>
__device__ inline void write_staged(const float* staged, float* y, int lane) {
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  for (int i = lane * VEC; i < HEAD_DIM; i += kThreads * VEC) {
    float v[VEC];
    for (int e = 0; e < VEC; ++e) v[e] = staged[i + e];
    store_vec<VEC>(y + i, v);
  }
}

template <int HEAD_DIM, int ROTATED_PAIRS, bool WEIGHTED>
__global__ void __launch_bounds__(norm_threads_per_group(HEAD_DIM) * norm_groups_per_block(HEAD_DIM))
    rms_norm_rope(RmsNormRopeArgs a) {
  wait_for_prior_grids();
  static_assert(HEAD_DIM <= 2048, "a staged head fits in shared memory beside the others of its block");
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  __shared__ float partials[kThreads / 32];
  __shared__ __align__(16) float staged[norm_groups_per_block(HEAD_DIM)][HEAD_DIM];
  float* own = staged[threadIdx.x / kThreads];
  for_norm_group<HEAD_DIM>(a.groups, a.vectorized, [&](auto vec, long long head, int lane) {
    constexpr int kVec = decltype(vec)::value;
    const long long base = head * HEAD_DIM;
    stage_head<HEAD_DIM, ROTATED_PAIRS, kVec>(a.x + base, WEIGHTED ? a.weight : nullptr, a.eps, true,
                                              a.pos[head / a.heads], a.table, a.theta, lane, partials, own);
    write_staged<HEAD_DIM, kVec>(own, a.y + base, lane);
  });
}

// Head `head` of row `row`'s K or V, staged, into `cache` as kv_write stores it.
template <bool RING, int HEAD_DIM, int KV_HEADS, class Elem>
__device__ inline void store_cache_head(const AttentionInputsArgs& a, void* cache, int row, int head,
                                        const float* staged, int lane) {
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  constexpr int kChunkElems = CacheElement<Elem>::kChunkElems;
  static_assert(HEAD_DIM % kChunkElems == 0, "cache heads are whole 16-byte chunks");
  const long long slot = cache_slot<RING>(a.seq[row], a.pos[row], a.slots, a.sequences);
  if (slot < 0) return;
  const long long first = ((a.seq[row] * a.slots + slot) * KV_HEADS + head) * HEAD_DIM;
  for (int offset = lane * kChunkElems; offset < HEAD_DIM; offset += kThreads * kChunkElems)
    *reinterpret_cast<uint4*>(static_cast<char*>(cache) + (first + offset) * (16 / kChunkElems)) =
        encode_chunk<Elem>(staged + offset);
}

// attention_inputs {kind, head_dim, kv_heads, dtype, rotated_pairs[, storage = v_only]}: each row's
// Q heads, then K heads (none when V_ONLY), then KV_HEADS V heads, a norm group each: Q and K
// normalized and rotated as rms_norm_rope does, V normalized as rms_norm does, each written to its
// buffer, and K and V also into the cache at the row's position, as kv_write stores them — bit for
// bit the four kernels' results, in one launch.
template <bool RING, int HEAD_DIM, int KV_HEADS, class Elem, int ROTATED_PAIRS, bool V_ONLY>
__global__ void __launch_bounds__(norm_threads_per_group(HEAD_DIM) * norm_groups_per_block(HEAD_DIM))
    attention_inputs(AttentionInputsArgs a) {
  wait_for_prior_grids();
  static_assert(HEAD_DIM <= 2048, "a staged head fits in shared memory beside the others of its block");
  constexpr int kThreads = norm_threads_per_group(HEAD_DIM);
  constexpr int kKeyHeads = V_ONLY ? 0 : KV_HEADS;
  __shared__ float partials[kThreads / 32];
  __shared__ __align__(16) float staged[norm_groups_per_block(HEAD_DIM)][HEAD_DIM];
  float* own = staged[threadIdx.x / kThreads];
  const int per_row = a.q.heads + kKeyHeads + KV_HEADS;
  for_norm_group<HEAD_DIM>(static_cast<long long>(a.rows) * per_row, a.vectorized, [&](auto vec, long long group, int lane) {
    constexpr int kVec = decltype(vec)::value;
    const int row = static_cast<int>(group / per_row);
    const int index = static_cast<int>(group % per_row);
    const bool query = index < a.q.heads, key = !query && index < a.q.heads + kKeyHeads;
    const int head = query ? index : key ? index - a.q.heads : index - a.q.heads - kKeyHeads;
    const AttentionHeadsArgs h = query ? a.q : key ? a.k : a.v;
    const long long base = (static_cast<long long>(row) * h.heads + head) * HEAD_DIM;
    stage_head<HEAD_DIM, ROTATED_PAIRS, kVec>(h.x + base, h.weight, h.eps, query || key, a.pos[row], a.table, a.theta,
                                              lane, partials, own);
    write_staged<HEAD_DIM, kVec>(own, h.y + base, lane);
    if (!query) store_cache_head<RING, HEAD_DIM, KV_HEADS, Elem>(a, key ? a.k_cache : a.v_cache, row, head, own, lane);
  });
}

}  // namespace g4c
