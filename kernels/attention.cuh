// Decode attention (gemma4.md §2, §8 step 3.4) in two kernels, flash-decoding style:
//
// attention.partial {kind, head_dim, q_heads, kv_heads, dtype, window[, storage = v_only,
//   rotated_pairs]}: a block per (row, KV head, split of the row's keys, slice of the GQA group's
//   query heads). Keys [max(0, p−W+1), p] (W = 0: [0, p]) are cut into up to `splits` (the
//   launch's: a power of two from 8 to 128) splits of at least kAttentionMinKeysPerSplit keys;
//   each block runs an online softmax over its split, tile by tile, and leaves the unnormalized accumulators and (max, sum) of each of its
//   query heads in the scratch (layout: op_args.h). Splits past the row's count store an empty
//   marker (−inf, 0).
// attention.combine {head_dim, q_heads}: a block per (query head, row) merges the splits.
// attention.partial {…, combine = last_block} (the attention-combine fusion) does both in one
// launch: the last block of each (row, KV head, head slice) to finish merges its heads' splits.
//
// Inside a partial block every K and V row is read from the cache once, with 16-byte (V: 4-element)
// loads into registers, and reused by all query heads of the block; the next tile's rows are
// loaded while the current one is computed. Shared memory holds only the queries (float), the
// tile's scores and the per-head rescale factors, so every instance fits the static 48 KB.
//   QK: kThreadsPerKey threads share a key; thread `sub` dots 16-byte chunks sub,
//       sub + kThreadsPerKey, … (neighbouring threads read neighbouring chunks: coalesced loads of
//       the key, conflict-free shared loads of the queries), then a butterfly sums the parts.
//   softmax: warp w keeps the running max and sum of heads w, w + 4, … in registers.
//   PV: a thread owns 4-float slices of the output for every head of the block; where a head has
//       fewer slices than the block has threads, kKeyGroups thread groups take alternate keys and
//       add their sums once, at the end.
//
// Instances with `split = mma` (MMA; only where attention_mma_serves: up to 16 query heads a KV head
// over F16) run attention_split_mma (attention_mma.cuh, on the tensor cores) instead.
//
// A v_only cache (partial's `storage = v_only, rotated_pairs = R`) keeps V alone: the QK threads
// load the V row in K's layout and rebuild the key as g4c::cpu::KvCacheView::load_key does — each
// element times the K-norm weight (kept in shared memory), then pairs i < R rotated at the key's
// own position by the (cos, sin) of the host-made table (the CPU's rope_cos_sin, so both backends
// rotate by the same floats). A thread's chunks c and c + kChunksPerThread/2 sit HEAD_DIM/2
// elements apart, so it holds both halves of each of its RoPE pairs.
#include "ops_common.cuh"
#include "quantize_activations.cuh"
#include "rope.cuh"

namespace g4c {

template <int HEAD_DIM, int GROUP, class Elem>
struct AttentionTiling {
  static constexpr int kThreads = kAttentionThreads;
  static constexpr int kWarps = kThreads / 32;
  static constexpr int kHeads = attention_heads_per_block(GROUP);
  static constexpr int kHeadBlocks = GROUP / kHeads;
  static constexpr int kChunkElems = CacheElement<Elem>::kChunkElems;
  static constexpr int kChunkQuads = kChunkElems / 4;
  static constexpr int kChunks = HEAD_DIM / kChunkElems;  // 16-byte chunks of a K row
  static constexpr int kThreadsPerKey = kChunks / 4 < 1 ? 1 : kChunks / 4 > 32 ? 32 : kChunks / 4;
  static constexpr int kTileKeys = kThreads / kThreadsPerKey < 32 ? kThreads / kThreadsPerKey : 32;
  static constexpr int kChunksPerThread = kChunks / kThreadsPerKey;
  static constexpr int kQkThreads = kTileKeys * kThreadsPerKey;
  static constexpr int kQuads = HEAD_DIM / 4;
  static constexpr int kQuadsPerThread = kQuads >= kThreads ? kQuads / kThreads : 1;
  static constexpr int kKeyGroups = kQuads >= kThreads ? 1 : kThreads / kQuads;
  static constexpr int kKeysPerThread = kTileKeys / kKeyGroups;
  static constexpr int kHeadsPerWarp = (kHeads + kWarps - 1) / kWarps;
  static constexpr int kScoreStride = kHeads <= 2 ? kHeads : (kHeads + 3) / 4 * 4;  // scores [key][head]

  static_assert(HEAD_DIM >= 32 && HEAD_DIM <= 1024 && (HEAD_DIM & (HEAD_DIM - 1)) == 0,
                "attention serves power-of-two head dims from 32 to 1024");
  static_assert(kQkThreads % 32 == 0 && kQkThreads <= kThreads, "QK uses whole warps");
  static_assert(kTileKeys % kKeyGroups == 0, "key groups split a tile evenly");
};

// The scratch floats of one row: accumulators, then (max, sum) pairs.
template <int HEAD_DIM, int Q_HEADS>
inline constexpr long long kAttentionRowScratch = static_cast<long long>(Q_HEADS) * kAttentionMaxSplits * (HEAD_DIM + 2);

// The keys [begin, end) of one split of a row at `pos`; empty past the row's split count.
struct KeyRange {
  int begin, end;
};

template <int WINDOW>
__device__ inline KeyRange split_keys(int pos, int split, int max_splits, int slots, int min_keys_per_split) {
  int window = WINDOW;
  if (WINDOW > 0 && injected(InjectedBug::ring_size_as_window)) window = slots;
  if (WINDOW > 0 && injected(InjectedBug::window_plus_one)) window += 1;
  const int first = window > 0 && pos >= window ? pos - window + 1 : 0;
  const int keys = pos - first + 1;
  const int wanted = (keys + min_keys_per_split - 1) / min_keys_per_split;
  const int splits = wanted < max_splits ? wanted : max_splits;
  if (split >= splits) return {0, 0};
  const int per_split = (keys + splits - 1) / splits;
  const int begin = first + split * per_split;
  return {begin, begin + per_split < pos + 1 ? begin + per_split : pos + 1};
}

// Where a block's K or V rows start: the cache of its sequence, at its KV head.
template <int HEAD_DIM, int KV_HEADS, class Elem>
__device__ inline const char* sequence_rows(const void* cache, long long slots, int seq, int kv_head) {
  return static_cast<const char*>(cache) + ((seq * slots * KV_HEADS + kv_head) * HEAD_DIM) * sizeof(Elem);
}

// The slot of key tile_begin + offset, given tile_slot, the slot of tile_begin. A split holds at
// most `slots` keys of a ring (slots ≥ window), so one wrap at most; keys past the split may get a
// slot past the cache, but they are never loaded.
template <bool RING>
__device__ inline int key_slot(int tile_slot, int offset, int slots) {
  const int slot = tile_slot + offset;
  return RING && slot >= slots ? slot - slots : slot;
}

template <int HEAD_DIM, int KV_HEADS, class Elem>
__device__ inline const char* slot_row(const char* rows, int slot) {
  return rows + static_cast<long long>(slot) * (KV_HEADS * HEAD_DIM * static_cast<int>(sizeof(Elem)));
}

// One tile's K chunks (QK layout) and V quads (PV layout) of a thread; keys past the split are
// zero, so they contribute 0 · 0 and never a stale NaN.
template <class Tiling, class Elem>
struct TileStage {
  uint4 k[Tiling::kChunksPerThread];
  typename CacheElement<Elem>::Quad v[Tiling::kKeysPerThread][Tiling::kQuadsPerThread];
};

// The rows of keys [tile_begin, tile_begin + kTileKeys) ∩ [·, end) of one sequence and KV head.
struct TileRows {
  const char* k;  // sequence_rows of the K and V caches (of V alone for both on a v_only cache)
  const char* v;
  int slots;
};

// What rebuilds a v_only cache's keys: the K-norm weight (HEAD_DIM floats, in shared memory) and
// the (cos, sin) of the rotated pairs, [position][ROTATED_PAIRS].
struct KeyRebuild {
  const float* k_norm;
  const float2* rope_table;
};

template <class Tiling, bool RING, int HEAD_DIM, int KV_HEADS, class Elem>
__device__ inline void load_tile(TileStage<Tiling, Elem>& stage, const TileRows& rows, int tile_begin, int end) {
  using Quad = typename CacheElement<Elem>::Quad;
  const int tid = threadIdx.x;
  const int tile_slot = RING ? tile_begin % rows.slots : tile_begin;
  if (tid < Tiling::kQkThreads) {
    const int offset = tid / Tiling::kThreadsPerKey, sub = tid % Tiling::kThreadsPerKey;
    const bool valid = tile_begin + offset < end;
    const uint4* row = reinterpret_cast<const uint4*>(
        slot_row<HEAD_DIM, KV_HEADS, Elem>(rows.k, key_slot<RING>(tile_slot, offset, rows.slots)));
    for (int c = 0; c < Tiling::kChunksPerThread; ++c)
      stage.k[c] = valid ? __ldg(row + sub + c * Tiling::kThreadsPerKey) : make_uint4(0, 0, 0, 0);
  }
  const int quad = tid % Tiling::kQuads, key_group = tid / Tiling::kQuads;
  for (int m = 0; m < Tiling::kKeysPerThread; ++m) {
    const int offset = key_group + m * Tiling::kKeyGroups;
    const bool valid = tile_begin + offset < end;
    const Quad* row = reinterpret_cast<const Quad*>(
        slot_row<HEAD_DIM, KV_HEADS, Elem>(rows.v, key_slot<RING>(tile_slot, offset, rows.slots)));
    for (int i = 0; i < Tiling::kQuadsPerThread; ++i)
      stage.v[m][i] = valid ? __ldg(row + quad + i * Tiling::kThreads) : Quad{};
  }
}

__device__ inline float dot4(float4 q, float4 k, float sum) {
  return fmaf(q.x, k.x, fmaf(q.y, k.y, fmaf(q.z, k.z, fmaf(q.w, k.w, sum))));
}

// Rotates pair `pair` (< ROTATED_PAIRS: elements pair and pair + HEAD_DIM/2) of a rebuilt key at
// `position` by the host-made table's (cos, sin).
template <int ROTATED_PAIRS>
__device__ inline void rotate_rebuilt_pair(const float2* rope_table, int position, int pair, float& first, float& second) {
  const float2* angles = rope_table + static_cast<long long>(position) * ROTATED_PAIRS;
  const int swapped = injected(InjectedBug::swap_rope_pairs) ? swapped_rope_pair(pair) : pair;
  rope_rotate(__ldg(angles + (swapped < ROTATED_PAIRS ? swapped : pair)), first, second);
}

// Quad `part` of the thread's chunk c of a v_only key (first half of the head) and of chunk
// c + kChunksPerThread/2 (the second half: element i's pair is i + HEAD_DIM/2), rebuilt from the V
// elements there: each times the K-norm weight, then each pair below ROTATED_PAIRS rotated at the
// key's position, in g4c::cpu::KvCacheView::load_key's order of operations.
template <class Tiling, int HEAD_DIM, int ROTATED_PAIRS, class Elem>
__device__ inline void rebuilt_key_quads(const TileStage<Tiling, Elem>& stage, int c, int part, int chunk, int position,
                                         bool valid, const KeyRebuild& r, float4& first, float4& second) {
  const int e = chunk * Tiling::kChunkElems + part * 4;  // the element of first.x
  const float4 v1 = chunk_quad<Elem>(stage.k[c], part);
  const float4 v2 = chunk_quad<Elem>(stage.k[c + Tiling::kChunksPerThread / 2], part);
  const float4 w1 = *reinterpret_cast<const float4*>(r.k_norm + e);  // e and HEAD_DIM / 2: multiples of 4
  const float4 w2 = *reinterpret_cast<const float4*>(r.k_norm + e + HEAD_DIM / 2);
  float a[4] = {__fmul_rn(v1.x, w1.x), __fmul_rn(v1.y, w1.y), __fmul_rn(v1.z, w1.z), __fmul_rn(v1.w, w1.w)};
  float b[4] = {__fmul_rn(v2.x, w2.x), __fmul_rn(v2.y, w2.y), __fmul_rn(v2.z, w2.z), __fmul_rn(v2.w, w2.w)};
  if (valid && e < ROTATED_PAIRS)  // keys past the split hold zeros and need no angle
    for (int j = 0; j < 4 && e + j < ROTATED_PAIRS; ++j)
      rotate_rebuilt_pair<ROTATED_PAIRS>(r.rope_table, position, e + j, a[j], b[j]);
  first = make_float4(a[0], a[1], a[2], a[3]);
  second = make_float4(b[0], b[1], b[2], b[3]);
}

// Scores of the tile's keys × the block's heads, scaled; −inf for keys past the split.
template <class Tiling, class Elem, int HEAD_DIM, bool V_ONLY, int ROTATED_PAIRS>
__device__ inline void tile_scores(const TileStage<Tiling, Elem>& stage, const float4* queries, float* scores,
                                   int tile_begin, int end, float scale, const KeyRebuild& rebuild) {
  const int tid = threadIdx.x;
  if (tid >= Tiling::kQkThreads) return;  // whole warps
  const int key = tid / Tiling::kThreadsPerKey, sub = tid % Tiling::kThreadsPerKey;
  float dot[Tiling::kHeads] = {};
  auto query = [&](int h, int part, int chunk) {
    return queries[(h * Tiling::kChunkQuads + part) * Tiling::kChunks + chunk];
  };
  if constexpr (V_ONLY) {
    for (int c = 0; c < Tiling::kChunksPerThread / 2; ++c) {
      const int chunk = sub + c * Tiling::kThreadsPerKey, partner = chunk + Tiling::kChunks / 2;
      for (int part = 0; part < Tiling::kChunkQuads; ++part) {
        float4 k1, k2;
        rebuilt_key_quads<Tiling, HEAD_DIM, ROTATED_PAIRS>(stage, c, part, chunk, tile_begin + key,
                                                           tile_begin + key < end, rebuild, k1, k2);
        for (int h = 0; h < Tiling::kHeads; ++h)
          dot[h] = dot4(query(h, part, partner), k2, dot4(query(h, part, chunk), k1, dot[h]));
      }
    }
  } else {
    for (int c = 0; c < Tiling::kChunksPerThread; ++c) {
      const int chunk = sub + c * Tiling::kThreadsPerKey;
      for (int part = 0; part < Tiling::kChunkQuads; ++part) {
        const float4 k = chunk_quad<Elem>(stage.k[c], part);
        for (int h = 0; h < Tiling::kHeads; ++h) dot[h] = dot4(query(h, part, chunk), k, dot[h]);
      }
    }
  }
  for (int h = 0; h < Tiling::kHeads; ++h)
    for (int offset = Tiling::kThreadsPerKey / 2; offset > 0; offset /= 2)
      dot[h] += __shfl_xor_sync(kFullWarp, dot[h], offset);
  if (sub != 0) return;
  const bool valid = tile_begin + key < end;
  for (int h = 0; h < Tiling::kHeads; ++h)
    scores[key * Tiling::kScoreStride + h] = valid ? dot[h] * scale : negative_infinity();
}

// The online-softmax step of the heads this warp owns: scores become exp(s − m_new), and alpha
// receives exp(m_old − m_new) to rescale the accumulators. Every processed tile has a valid key,
// so m_new is finite and exp(−inf − m_new) = 0 covers both the first tile and padding keys.
template <class Tiling>
__device__ inline void tile_softmax(float* scores, float* alpha, float (&running_max)[Tiling::kHeadsPerWarp],
                                    float (&running_sum)[Tiling::kHeadsPerWarp]) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int i = 0; i < Tiling::kHeadsPerWarp; ++i) {
    const int h = warp + i * Tiling::kWarps;
    if (h >= Tiling::kHeads) break;  // warp-uniform
    float* score = scores + lane * Tiling::kScoreStride + h;
    const float s = lane < Tiling::kTileKeys ? *score : negative_infinity();
    const float new_max = fmaxf(running_max[i], warp_max(s));
    const float p = expf(s - new_max);
    const float rescale = expf(running_max[i] - new_max);
    running_sum[i] = running_sum[i] * rescale + warp_sum(p);
    running_max[i] = new_max;
    if (lane < Tiling::kTileKeys) *score = p;
    if (lane == 0) alpha[h] = rescale;
  }
}

template <class Tiling, class Elem>
__device__ inline void tile_values(const TileStage<Tiling, Elem>& stage, const float* scores, const float* alpha,
                                   float4 (&acc)[Tiling::kHeads][Tiling::kQuadsPerThread]) {
  const int key_group = threadIdx.x / Tiling::kQuads;
  for (int h = 0; h < Tiling::kHeads; ++h) {
    const float rescale = alpha[h];
    for (int i = 0; i < Tiling::kQuadsPerThread; ++i) acc[h][i] = scale4(acc[h][i], rescale);
  }
  for (int m = 0; m < Tiling::kKeysPerThread; ++m) {
    const float* p = scores + (key_group + m * Tiling::kKeyGroups) * Tiling::kScoreStride;
    float weight[Tiling::kHeads];
    for (int h = 0; h < Tiling::kHeads; ++h) weight[h] = p[h];
    for (int i = 0; i < Tiling::kQuadsPerThread; ++i) {
      const float4 v = CacheElement<Elem>::widen(stage.v[m][i]);
      for (int h = 0; h < Tiling::kHeads; ++h) acc[h][i] = fma4(weight[h], v, acc[h][i]);
    }
  }
}

// One block's split: its heads' unnormalized accumulators and (max, sum) in the row's scratch, or
// the empty marker past the row's split count.
template <bool RING, int HEAD_DIM, int Q_HEADS, int KV_HEADS, class Elem, int WINDOW, bool V_ONLY, int ROTATED_PAIRS>
__device__ inline void attention_split(const AttentionPartialArgs& a, int split, int kv_head, int row, int first_head,
                                       int seq) {
  using Tiling = AttentionTiling<HEAD_DIM, Q_HEADS / KV_HEADS, Elem>;
  static_assert(!V_ONLY || (Tiling::kChunksPerThread % 2 == 0 && 2 * ROTATED_PAIRS <= HEAD_DIM),
                "a thread holds both halves of its RoPE pairs");
  constexpr int kHeads = Tiling::kHeads;
  __shared__ float4 queries[kHeads * HEAD_DIM / 4];  // [head][chunk quad][chunk]
  __shared__ __align__(16) float k_norm[V_ONLY ? HEAD_DIM : 4];
  __shared__ float scores[2][Tiling::kTileKeys * Tiling::kScoreStride];
  __shared__ float alpha[2][kHeads];
  __shared__ float4 key_group_sums[Tiling::kKeyGroups > 1 ? Tiling::kKeyGroups * kHeads * Tiling::kQuads : 1];

  const KeyRange range = split_keys<WINDOW>(a.pos[row], split, a.splits, static_cast<int>(a.slots), a.min_keys_per_split);
  float* partials = a.scratch + row * kAttentionRowScratch<HEAD_DIM, Q_HEADS>;
  float2* max_sum = reinterpret_cast<float2*>(partials + static_cast<long long>(Q_HEADS) * kAttentionMaxSplits * HEAD_DIM);
  const int tid = threadIdx.x;
  if (range.begin >= range.end) {
    if (tid < kHeads) max_sum[(first_head + tid) * kAttentionMaxSplits + split] = make_float2(negative_infinity(), 0.0f);
    return;
  }

  const float* q = a.q + (static_cast<long long>(row) * Q_HEADS + first_head) * HEAD_DIM;
  for (int i = tid; i < kHeads * HEAD_DIM / 4; i += Tiling::kThreads) {
    const int h = i / (HEAD_DIM / 4), d = i % (HEAD_DIM / 4) * 4;
    const int chunk = d / Tiling::kChunkElems, part = d % Tiling::kChunkElems / 4;
    queries[(h * Tiling::kChunkQuads + part) * Tiling::kChunks + chunk] = load_float4(q + h * HEAD_DIM + d);
  }
  if constexpr (V_ONLY)
    for (int i = tid; i < HEAD_DIM; i += Tiling::kThreads) k_norm[i] = a.k_norm[i];
  const KeyRebuild rebuild{k_norm, reinterpret_cast<const float2*>(a.rope_table)};

  const char* v_rows = sequence_rows<HEAD_DIM, KV_HEADS, Elem>(a.v_cache, a.slots, seq, kv_head);
  const TileRows rows{V_ONLY ? v_rows : sequence_rows<HEAD_DIM, KV_HEADS, Elem>(a.k_cache, a.slots, seq, kv_head),
                      v_rows, static_cast<int>(a.slots)};
  TileStage<Tiling, Elem> current, next;
  load_tile<Tiling, RING, HEAD_DIM, KV_HEADS>(current, rows, range.begin, range.end);
  float running_max[Tiling::kHeadsPerWarp], running_sum[Tiling::kHeadsPerWarp];
  for (int i = 0; i < Tiling::kHeadsPerWarp; ++i) running_max[i] = negative_infinity(), running_sum[i] = 0;
  float4 acc[kHeads][Tiling::kQuadsPerThread] = {};
  __syncthreads();  // queries and the K-norm weight

  // Two score/alpha buffers: tile i + 1's scores may be written while a slow thread still reads
  // tile i's in tile_values, so two barriers per tile suffice.
  int buffer = 0;
  for (int tile = range.begin; tile < range.end; tile += Tiling::kTileKeys, buffer ^= 1) {
    const bool more = tile + Tiling::kTileKeys < range.end;
    if (more) load_tile<Tiling, RING, HEAD_DIM, KV_HEADS>(next, rows, tile + Tiling::kTileKeys, range.end);
    tile_scores<Tiling, Elem, HEAD_DIM, V_ONLY, ROTATED_PAIRS>(current, queries, scores[buffer], tile, range.end,
                                                              a.scale, rebuild);
    __syncthreads();
    tile_softmax<Tiling>(scores[buffer], alpha[buffer], running_max, running_sum);
    __syncthreads();
    tile_values<Tiling, Elem>(current, scores[buffer], alpha[buffer], acc);
    if (more) current = next;
  }

  const int lane = tid % 32, warp = tid / 32;
  for (int i = 0; i < Tiling::kHeadsPerWarp; ++i) {
    const int h = warp + i * Tiling::kWarps;
    if (h < kHeads && lane == 0)
      max_sum[(first_head + h) * kAttentionMaxSplits + split] = make_float2(running_max[i], running_sum[i]);
  }
  auto out = [&](int h, int quad) {
    return partials + (static_cast<long long>(first_head + h) * kAttentionMaxSplits + split) * HEAD_DIM + quad * 4;
  };
  const int quad = tid % Tiling::kQuads;
  if constexpr (Tiling::kKeyGroups == 1) {
    for (int h = 0; h < kHeads; ++h)
      for (int i = 0; i < Tiling::kQuadsPerThread; ++i) store_float4(out(h, quad + i * Tiling::kThreads), acc[h][i]);
  } else {
    const int key_group = tid / Tiling::kQuads;
    for (int h = 0; h < kHeads; ++h) key_group_sums[(key_group * kHeads + h) * Tiling::kQuads + quad] = acc[h][0];
    __syncthreads();
    for (int i = tid; i < kHeads * Tiling::kQuads; i += Tiling::kThreads) {
      float4 sum = key_group_sums[i];
      for (int g = 1; g < Tiling::kKeyGroups; ++g) {
        const float4 part = key_group_sums[g * kHeads * Tiling::kQuads + i];
        sum = make_float4(sum.x + part.x, sum.y + part.y, sum.z + part.z, sum.w + part.w);
      }
      store_float4(out(i / Tiling::kQuads, i % Tiling::kQuads), sum);
    }
  }
}

// Merges the `splits` splits of kHeads query heads from `first_head` of one row: out = Σ_s
// e^(m_s − M) acc_s / Σ_s e^(m_s − M) l_s over the splits that saw keys (l_s > 0; the others'
// accumulators were never written). Warp w weighs heads w, w + warps, …, lane i splits i, i + 32, …
// (32 splits: one a lane, the arithmetic of a lane's sum of one term); then every thread sums
// output quads of any head over the splits in order, their loads issued kCombineBatch at a time.
// The partials are read past L1 (other blocks of the same grid may have written them: the combine
// of a partial kernel's last block). `weights` is shared memory for kHeads × kAttentionMaxSplits
// factors.
inline constexpr int kCombineBatch = 8;
inline constexpr int kSplitsPerLane = kAttentionMaxSplits / 32;

template <int HEAD_DIM, int Q_HEADS, int kThreads, int kHeads>
__device__ inline void combine_heads(const float* partials, int first_head, int splits, float* out,
                                     float (*weights)[kAttentionMaxSplits]) {
  static_assert(kAttentionMinSplits % kCombineBatch == 0 && kAttentionMaxSplits % 32 == 0 && kThreads % 32 == 0,
                "lanes hold whole rounds of splits, loaded in whole batches");
  const int tid = threadIdx.x, lane = tid % 32;
  const float2* max_sum = reinterpret_cast<const float2*>(partials + static_cast<long long>(Q_HEADS) * kAttentionMaxSplits * HEAD_DIM);
  for (int h = tid / 32; h < kHeads; h += kThreads / 32) {
    float2 ms[kSplitsPerLane];
    float lane_max = negative_infinity();
#pragma unroll
    for (int j = 0; j < kSplitsPerLane; ++j) {
      const int split = lane + 32 * j;
      ms[j] = split < splits ? __ldcg(max_sum + (first_head + h) * kAttentionMaxSplits + split)
                             : make_float2(negative_infinity(), 0.0f);
      if (ms[j].y > 0) lane_max = fmaxf(lane_max, ms[j].x);
    }
    const float global_max = warp_max(lane_max);
    float rescale[kSplitsPerLane], lane_total = 0.0f;
#pragma unroll
    for (int j = 0; j < kSplitsPerLane; ++j) {
      rescale[j] = ms[j].y > 0 ? expf(ms[j].x - global_max) : 0.0f;
      lane_total += rescale[j] * ms[j].y;
    }
    const float total = warp_sum(lane_total);
#pragma unroll
    for (int j = 0; j < kSplitsPerLane; ++j)
      if (lane + 32 * j < splits) weights[h][lane + 32 * j] = rescale[j] / total;
  }
  __syncthreads();
  constexpr int kQuads = HEAD_DIM / 4;
  for (int i = tid; i < kHeads * kQuads; i += kThreads) {
    const int h = i / kQuads, quad = i % kQuads;
    const float* head_partials = partials + static_cast<long long>(first_head + h) * kAttentionMaxSplits * HEAD_DIM + quad * 4;
    float4 sum = make_float4(0, 0, 0, 0);
    for (int s0 = 0; s0 < splits; s0 += kCombineBatch) {
      float4 part[kCombineBatch];
#pragma unroll
      for (int b = 0; b < kCombineBatch; ++b)
        part[b] = weights[h][s0 + b] != 0 ? __ldcg(reinterpret_cast<const float4*>(head_partials + (s0 + b) * HEAD_DIM))
                                          : make_float4(0, 0, 0, 0);
#pragma unroll
      for (int b = 0; b < kCombineBatch; ++b)
        if (weights[h][s0 + b] != 0) sum = fma4(weights[h][s0 + b], part[b], sum);
    }
    store_float4(out + h * HEAD_DIM + quad * 4, sum);
  }
}

template <int HEAD_DIM, int kThreads>
__device__ inline void zero_head(float* out) {
  for (int quad = threadIdx.x; quad < HEAD_DIM / 4; quad += kThreads) store_float4(out + quad * 4, make_float4(0, 0, 0, 0));
}

}  // namespace g4c

#include "attention_mma.cuh"  // the tensor-core split, which shares the helpers above

namespace g4c {

// FUSED_COMBINE (`combine = last_block`): the block that finishes a (row, KV head, head slice) last
// — its ticket, taken after every block's partials are fenced, is the `splits`-th — merges the splits of
// the slice's heads itself and resets the counter for the next launch (a CUDA graph replays it).
template <bool RING, int HEAD_DIM, int Q_HEADS, int KV_HEADS, class Elem, int WINDOW, bool V_ONLY, int ROTATED_PAIRS,
          bool MMA, bool FUSED_COMBINE>
__global__ void __launch_bounds__(kAttentionThreads, MMA ? kAttentionMmaBlocksPerSm : 0)
    attention_partial(AttentionPartialArgs a) {
  wait_for_prior_grids();
  static_assert(Q_HEADS % KV_HEADS == 0, "query heads form whole GQA groups");
  constexpr int kGroup = Q_HEADS / KV_HEADS;
  static_assert(!MMA || attention_mma_serves(kGroup, HEAD_DIM, kIsF16Cache<Elem>), "the tensor-core split serves it");
  constexpr bool kMma = MMA;
  constexpr int kHeads = attention_block_heads(kGroup, kMma), kHeadBlocks = kGroup / kHeads;
  if (a.block_heads != kHeads) __trap();  // the launcher shaped the grid for the other split
  const int split = blockIdx.x / kHeadBlocks, kv_head = blockIdx.y, row = blockIdx.z;
  const int head_block = blockIdx.x % kHeadBlocks;
  const int first_head = kv_head * kGroup + head_block * kHeads;
  const int seq = a.seq[row];
  float* out = a.out + (static_cast<long long>(row) * Q_HEADS + first_head) * HEAD_DIM;
  if (seq < 0) {  // padding: zeros, from the combine kernel or here
    if (FUSED_COMBINE && split == 0)
      for (int h = 0; h < kHeads; ++h) zero_head<HEAD_DIM, kAttentionThreads>(out + h * HEAD_DIM);
    return;
  }
  if constexpr (kMma)
    attention_split_mma<RING, HEAD_DIM, Q_HEADS, KV_HEADS, WINDOW, V_ONLY, ROTATED_PAIRS>(a, split, kv_head, row,
                                                                                           first_head, seq);
  else
    attention_split<RING, HEAD_DIM, Q_HEADS, KV_HEADS, Elem, WINDOW, V_ONLY, ROTATED_PAIRS>(a, split, kv_head, row,
                                                                                          first_head, seq);
  if constexpr (FUSED_COMBINE) {
    __shared__ float weights[kHeads][kAttentionMaxSplits];
    unsigned* counter = a.tickets + (static_cast<long long>(row) * KV_HEADS + kv_head) * kHeadBlocks + head_block;
    if (take_block_ticket(counter) != static_cast<unsigned>(a.splits - 1)) return;
    const float* partials = a.scratch + row * kAttentionRowScratch<HEAD_DIM, Q_HEADS>;
    combine_heads<HEAD_DIM, Q_HEADS, kAttentionThreads, kHeads>(partials, first_head, a.splits, out, weights);
    reset_block_ticket(counter);
  }
}

// QUANTIZE (quantize-in-producer, matmul::kActivations*): once the head is written, warp w
// quantizes its super-block w into the O projection's activations at a.x_q (the row's super-blocks
// head · HEAD_DIM / 256 + w), as the route's own kernel would from the row in memory.
template <int HEAD_DIM, int Q_HEADS, int QUANTIZE>
__global__ void __launch_bounds__(attention_combine_threads(HEAD_DIM)) attention_combine(AttentionCombineArgs a) {
  wait_for_prior_grids();
  constexpr int kThreads = attention_combine_threads(HEAD_DIM);
  __shared__ float weights[1][kAttentionMaxSplits];
  const int head = blockIdx.x, row = blockIdx.y;
  float* out = a.out + (static_cast<long long>(row) * Q_HEADS + head) * HEAD_DIM;
  if (a.seq[row] < 0)
    zero_head<HEAD_DIM, kThreads>(out);
  else
    combine_heads<HEAD_DIM, Q_HEADS, kThreads, 1>(a.scratch + row * kAttentionRowScratch<HEAD_DIM, Q_HEADS>, head, a.splits,
                                                  out, weights);
  if constexpr (QUANTIZE != matmul::kActivationsNone) {
    constexpr int kSuperBlocks = HEAD_DIM / matmul::kQ8SuperBlock;
    static_assert(HEAD_DIM % matmul::kQ8SuperBlock == 0 && kSuperBlocks <= kThreads / 32, "a warp per super-block");
    __syncthreads();
    const int warp = threadIdx.x / 32;
    if (warp < kSuperBlocks)
      quantize_written_super_block<QUANTIZE>(out - head * HEAD_DIM, a.x_q, a.rows, row,
                                             static_cast<long long>(head) * kSuperBlocks + warp, threadIdx.x % 32);
  }
}

}  // namespace g4c
