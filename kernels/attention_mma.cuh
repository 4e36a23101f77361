// attention.partial's split on the tensor cores (instances with `split = mma`, which the compiler's
// attention-split pass chooses; op_args.h's attention_mma_serves: a GQA group of up to 16 query
// heads over an F16 cache of 256- or 512-value heads — made for the 12B's global layers, 16:1 MQA
// over 512 values, whose CUDA-core split is bound by its FP32 dot products, not by its bytes;
// smaller groups fill the tile's first rows). Included at the end of attention.cuh, whose helpers
// it shares; its partials land in the scratch exactly as attention_split leaves them, so both
// combines serve it unchanged.
//
// A block takes all heads of its KV head — the M side of mma.m16n8k16, zero rows past them — and its four warps
// split the head dimension: in QK warp w owns the 16-value steps s ≡ w (mod 4) of the first half of
// every query and key row and their RoPE partners s + D/32 (so each warp holds both halves of the
// pairs it rotates, and the rotated pairs spread over the warps); in PV it owns output values
// [w·D/4, (w + 1)·D/4).
//   tiles: all threads cp.async the next 16 keys' K and V rows into shared memory (two stages;
//     keys past the split are written as zeros, so 0 · 0 and never a stale NaN), rows padded by 16
//     bytes so that ldmatrix's eight rows fall on distinct banks.
//   QK: each warp's partial scores over its steps into shared memory, summed in warp order by the
//     softmax threads. The queries are split into high and low halves (q = hi + lo to ~22 bits):
//     two mmas against the keys, which F16 holds exactly.
//   softmax: 8 threads a head, 2 keys each: the online max and sum, P and the rescale factor.
//   PV: each warp's quarter of the 16 outputs, P split into halves the same way, V's B fragments by
//     transposed ldmatrix; the accumulators rescaled first.
// A v_only cache's key is RoPE(V ⊙ k_norm) at the key's position, but RoPE turns only the first
// ROTATED_PAIRS pairs: elsewhere q·k = (q ⊙ k_norm)·v, so those queries carry the weight (scaled once
// a block) and meet the V tile as if it were a K tile. Only the steps holding rotated pairs are
// rebuilt, each lane making its own B fragments from the V tile as the CUDA-core split rebuilds
// keys (⊙ k_norm, then RoPE by the table's angles) as high and low halves: three mmas a step there,
// qh·kh + ql·kh + qh·kl. A key's angles are the product of a coarse and a fine factor
// (g4c/kernels/rope_angles.h, the table's own values bit for bit): the block keeps the 16 fine
// rows, and each tile's copies bring the two coarse rows its positions span beside V — 64 bytes of
// table a key, not a 512-byte row.

namespace g4c {

template <class Elem>
inline constexpr bool kIsF16Cache = false;
template <>
inline constexpr bool kIsF16Cache<block_f16> = true;

// Blocks an SM the kernel is compiled to fit in registers (≤ 168 a thread). Shared memory at 512
// values with the default three stages (attention_mma_shared_bytes) allows three over V alone
// (67.8 KB), two over K and V (105 KB).
inline constexpr int kAttentionMmaBlocksPerSm = 3;

template <int HEAD_DIM, bool V_ONLY, int ROTATED_PAIRS>
struct MmaAttentionTiling {
  static constexpr int kWarps = kAttentionThreads / 32;
  static constexpr int kHeads = kAttentionMmaHeads;
  static constexpr int kTileKeys = kAttentionMmaTileKeys;
  static constexpr int kWarpDims = HEAD_DIM / kWarps;
  static constexpr int kHalfSteps = HEAD_DIM / 32;  // QK: 16 values a step, half of them in each half
  static constexpr int kKSteps = kWarpDims / 16;     // a warp's: kKSteps / 2 steps and their partners
  static constexpr int kDimTiles = kWarpDims / 8;    // PV: 8 values a tile
  static constexpr int kKeyTiles = kTileKeys / 8;
  static constexpr int kRowBytes = attention_mma_row_bytes(HEAD_DIM);
  static constexpr int kTileBytes = attention_mma_tile_bytes(HEAD_DIM);
  static constexpr int kRowChunks = HEAD_DIM * 2 / 16;
  static constexpr int kRotatedPairs = V_ONLY ? ROTATED_PAIRS : 0;
  static constexpr int kRebuiltSteps = (kRotatedPairs + 15) / 16;  // first-half steps holding rotated pairs
  static constexpr int kAngleRowBytes = attention_mma_angle_row_bytes(kRotatedPairs);
  // Shared memory, in bytes: the floats, the fine angle rows ([position % 16][pair] float2, v_only),
  // then stage s at kStagesOffset + s · kStageBytes holding its K tile and its V tile (a v_only
  // stage: its V tile and the coarse angle rows of tile_begin / 16 and the next, [row][pair]).
  static constexpr int kScoresOffset = 0;                                               // [warp][head][key]
  static constexpr int kProbsOffset = kScoresOffset + kWarps * kHeads * kTileKeys * 4;  // [head][key]
  static constexpr int kAlphaOffset = kProbsOffset + kHeads * kTileKeys * 4;            // [head]
  static constexpr int kFineOffset = kAlphaOffset + kHeads * 4;
  static constexpr int kStagesOffset = kFineOffset + attention_mma_fine_bytes(V_ONLY, kRotatedPairs);
  static constexpr int kStageBytes = attention_mma_stage_bytes(HEAD_DIM, V_ONLY, kRotatedPairs);
  static constexpr int kAnglesOffset = kTileBytes;  // in a v_only stage
  static_assert(kFineOffset == attention_mma_float_bytes() && kStagesOffset % 16 == 0 &&
                    kStagesOffset + 2 * kStageBytes == attention_mma_shared_bytes(HEAD_DIM, V_ONLY, kRotatedPairs, 2),
                "the launcher's size");
  static_assert(kAngleRowBytes % 16 == 0 && kRopeFinePositions == kTileKeys,
                "16-byte loads of two pairs' angles; a tile's positions span two coarse rows at most");
  static_assert(kKSteps % 2 == 0 && kDimTiles % 2 == 0 && kKeyTiles == 2 && kHeads * 8 == kAttentionThreads &&
                    kHalfSteps % kWarps == 0 && 2 * kRotatedPairs <= HEAD_DIM,
                "ldmatrix_x4 loads a step and its partner, or two value tiles; 8 softmax threads a head");
};

// A fragments (rows g and g + 8, values 2t.. and 2t + 8..) of a 16 × 16 float tile at `tile`
// (row stride `stride` floats), each value times its column's `weights` where given, as high and
// low halves; rows from `rows` on are zeros.
__device__ inline void a_fragments(const float* tile, int stride, int rows, unsigned (&hi)[4], unsigned (&lo)[4],
                                   const float* weights = nullptr) {
  const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
#pragma unroll
  for (int i = 0; i < 4; ++i) {  // fragment i: row g (+ 8 for odd i), values 2t (+ 8 from i = 2)
    const int r = g + i % 2 * 8, column = i / 2 * 8 + 2 * t;
    float2 x = r < rows ? *reinterpret_cast<const float2*>(tile + r * stride + column) : make_float2(0, 0);
    if (weights) x = make_float2(__fmul_rn(x.x, __ldg(weights + column)), __fmul_rn(x.y, __ldg(weights + column + 1)));
    const mm::HalfPairs h = mm::split_halves(x.x, x.y);
    hi[i] = h.hi, lo[i] = h.lo;
  }
}

// Copies `rows` angle rows of the table from `table_row` on into shared rows of kAngleRowBytes, a
// pair's (cos, sin) a copy.
template <class Tiling>
__device__ inline void copy_angle_rows(unsigned shared_rows, const float* table_row, int rows) {
  for (int c = threadIdx.x; c < rows * Tiling::kRotatedPairs; c += kAttentionThreads) {
    const int row = c / Tiling::kRotatedPairs, pair = c % Tiling::kRotatedPairs;
    mm::cp_async_8_or_zero(shared_rows + row * Tiling::kAngleRowBytes + pair * 8, table_row + 2ll * c, true);
  }
}

// Tile [tile_begin, tile_begin + 16) ∩ [·, end)'s K and V rows into a stage; for v_only its V rows
// and the two coarse angle rows its positions span (rope_angles.h: rows tile_begin / 16 and the
// next, which the table holds for every tile).
template <class Tiling, bool RING, int HEAD_DIM, int KV_HEADS, bool V_ONLY>
__device__ inline void issue_mma_tile(unsigned stage, const TileRows& rows, const float* rope_coarse, int tile_begin,
                                      int end) {
  const int tile_slot = RING ? tile_begin % rows.slots : tile_begin;
  if (tile_begin >= end) {  // past the split: an empty group keeps the count of groups per tile
    mm::cp_async_commit();
    return;
  }
  for (int c = threadIdx.x; c < Tiling::kTileKeys * Tiling::kRowChunks; c += kAttentionThreads) {
    const int key = c / Tiling::kRowChunks, chunk = c % Tiling::kRowChunks;
    const bool valid = tile_begin + key < end;
    const int slot = valid ? key_slot<RING>(tile_slot, key, rows.slots) : 0;
    const unsigned dst = stage + key * Tiling::kRowBytes + chunk * 16;
    if constexpr (!V_ONLY)
      mm::cp_async_16_or_zero(dst, slot_row<HEAD_DIM, KV_HEADS, block_f16>(rows.k, slot) + chunk * 16, valid);
    mm::cp_async_16_or_zero(dst + (V_ONLY ? 0 : Tiling::kTileBytes),
                            slot_row<HEAD_DIM, KV_HEADS, block_f16>(rows.v, slot) + chunk * 16, valid);
  }
  if constexpr (Tiling::kRotatedPairs > 0)
    copy_angle_rows<Tiling>(stage + Tiling::kAnglesOffset,
                            rope_coarse + static_cast<long long>(tile_begin / kRopeFinePositions) * Tiling::kRotatedPairs * 2,
                            kAttentionMmaCoarseRows);
  mm::cp_async_commit();
}

// Lane (g, t)'s B fragments of a rebuilt first-half step `step` and of its partner, key g of the
// 8 from `key` (of the tile from tile_begin): elements e = 16·step + 2t, +1, +8, +9 and their
// partners e + HEAD_DIM/2 of the V row, each times the K-norm weight, the pairs below the rotated
// count turned by the angles of the key's position (its coarse row in the stage times its fine
// row); as high and low halves (b[0], b[1] the step's, b[2], b[3] the partner's).
template <class Tiling, int HEAD_DIM>
__device__ inline void rebuilt_b_fragments(const unsigned char* stage, const unsigned char* fine, int step, int key,
                                           int tile_begin, const float* k_norm, unsigned (&hi)[4], unsigned (&lo)[4]) {
  constexpr int kHalf = HEAD_DIM / 2, kPairs = Tiling::kRotatedPairs;
  const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const unsigned char* v_row = stage + (key + g) * Tiling::kRowBytes;
  const int position = tile_begin + key + g;
  const int coarse_row = position / kRopeFinePositions - tile_begin / kRopeFinePositions;
  const unsigned char* coarse = stage + Tiling::kAnglesOffset + coarse_row * Tiling::kAngleRowBytes;
  const unsigned char* fine_row = fine + position % kRopeFinePositions * Tiling::kAngleRowBytes;
#pragma unroll
  for (int i = 0; i < 2; ++i) {  // elements e, e + 1 (i = 0) and e + 8, e + 9 (i = 1)
    const int e = step * 16 + 2 * t + 8 * i;
    const float2 v1 = half2_bits_to_float2(*reinterpret_cast<const unsigned*>(v_row + e * 2));
    const float2 v2 = half2_bits_to_float2(*reinterpret_cast<const unsigned*>(v_row + (e + kHalf) * 2));
    float a[2] = {__fmul_rn(v1.x, __ldg(k_norm + e)), __fmul_rn(v1.y, __ldg(k_norm + e + 1))};
    float b[2] = {__fmul_rn(v2.x, __ldg(k_norm + e + kHalf)), __fmul_rn(v2.y, __ldg(k_norm + e + kHalf + 1))};
    if (e < kPairs) {  // the rows hold a pair's angles past kPairs too (padding), unused
      const float4 c = *reinterpret_cast<const float4*>(coarse + e * 8), f = *reinterpret_cast<const float4*>(fine_row + e * 8);
      const RopeCosSin angle0 = rope_angle_sum({c.x, c.y}, {f.x, f.y}), angle1 = rope_angle_sum({c.z, c.w}, {f.z, f.w});
      float2 cs[2] = {make_float2(angle0.cos, angle0.sin), make_float2(angle1.cos, angle1.sin)};
      if (injected(InjectedBug::swap_rope_pairs) && swapped_rope_pair(e) == e + 1 && e + 1 < kPairs) {
        const float2 first = cs[0];
        cs[0] = cs[1], cs[1] = first;
      }
      for (int j = 0; j < 2; ++j)
        if (e + j < kPairs) rope_rotate(cs[j], a[j], b[j]);
    }
    const mm::HalfPairs first = mm::split_halves(a[0], a[1]), second = mm::split_halves(b[0], b[1]);
    hi[i] = first.hi, lo[i] = first.lo, hi[2 + i] = second.hi, lo[2 + i] = second.lo;
  }
}

// Warp w's partial scores (its steps) of the 16 queries × the tile's keys, into the shared
// [warp][head][key] floats. `k_tile` is the stage's K tile (its V tile for v_only, whose queries
// carry the K-norm weight); a v_only key's rotated steps are rebuilt from the stage instead. Each
// 8-key tile sums the high halves' products and the low halves' apart (two chains of dependent
// mmas a key tile instead of one), adding them at the end.
template <class Tiling, int HEAD_DIM>
__device__ inline void mma_tile_scores(const unsigned (&q_hi)[Tiling::kKSteps][4], const unsigned (&q_lo)[Tiling::kKSteps][4],
                                       const unsigned char* stage, const unsigned char* fine, int tile_begin,
                                       unsigned k_tile, const float* k_norm, float* scores) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4, t = lane % 4;
  float hi[Tiling::kKeyTiles][4] = {}, lo[Tiling::kKeyTiles][4] = {};
#pragma unroll
  for (int kt = 0; kt < Tiling::kKeyTiles; ++kt) {
    // Lanes 8i..8i+7 address keys kt·8.. at values +8i of the step pair: the step (b0, b1), then
    // its partner HEAD_DIM/2 further on (b2, b3).
    const unsigned row = (kt * 8 + lane % 8) * Tiling::kRowBytes + ((lane / 16) * (HEAD_DIM / 2) + lane / 8 % 2 * 8) * 2;
#pragma unroll
    for (int j = 0; j < Tiling::kKSteps; j += 2) {
      const int step = warp + j / 2 * Tiling::kWarps;
      const bool rebuilt = step < Tiling::kRebuiltSteps;  // warp-uniform
      unsigned b[4], b_lo[4];
      if (rebuilt)
        rebuilt_b_fragments<Tiling, HEAD_DIM>(stage, fine, step, kt * 8, tile_begin, k_norm, b, b_lo);
      else
        mm::ldmatrix_x4(b, k_tile + row + step * 32);
      mm::mma_f16_k16(hi[kt], q_hi[j], b[0], b[1]);
      mm::mma_f16_k16(lo[kt], q_lo[j], b[0], b[1]);
      mm::mma_f16_k16(hi[kt], q_hi[j + 1], b[2], b[3]);
      mm::mma_f16_k16(lo[kt], q_lo[j + 1], b[2], b[3]);
      if (rebuilt) {
        mm::mma_f16_k16(lo[kt], q_hi[j], b_lo[0], b_lo[1]);
        mm::mma_f16_k16(lo[kt], q_hi[j + 1], b_lo[2], b_lo[3]);
      }
    }
  }
#pragma unroll
  for (int kt = 0; kt < Tiling::kKeyTiles; ++kt) {
    float* head_g = scores + (warp * Tiling::kHeads + g) * Tiling::kTileKeys + kt * 8 + 2 * t;
    *reinterpret_cast<float2*>(head_g) = make_float2(hi[kt][0] + lo[kt][0], hi[kt][1] + lo[kt][1]);
    *reinterpret_cast<float2*>(head_g + 8 * Tiling::kTileKeys) = make_float2(hi[kt][2] + lo[kt][2], hi[kt][3] + lo[kt][3]);
  }
}

// The online-softmax step: thread 8h + i sums keys 2i, 2i + 1 of head h over the warps, scales
// them (−inf past the split), and with the head's other 7 threads updates the running max and sum
// (each of the 8 holds them), leaving exp(s − m_new) in `probs` and exp(m_old − m_new) in `alpha`.
// Every tile has a valid key, so m_new is finite.
template <class Tiling>
__device__ inline void mma_tile_softmax(const float* scores, float* probs, float* alpha, int tile_begin, int end,
                                        float scale, float& running_max, float& running_sum) {
  const int head = threadIdx.x / 8, key = threadIdx.x % 8 * 2;
  float2 s = *reinterpret_cast<const float2*>(scores + head * Tiling::kTileKeys + key);
  for (int w = 1; w < Tiling::kWarps; ++w) {
    const float2 part = *reinterpret_cast<const float2*>(scores + (w * Tiling::kHeads + head) * Tiling::kTileKeys + key);
    s.x += part.x, s.y += part.y;
  }
  s.x = tile_begin + key < end ? s.x * scale : negative_infinity();
  s.y = tile_begin + key + 1 < end ? s.y * scale : negative_infinity();
  float tile_max = fmaxf(s.x, s.y);
  for (int offset = 4; offset > 0; offset /= 2) tile_max = fmaxf(tile_max, __shfl_xor_sync(kFullWarp, tile_max, offset));
  const float new_max = fmaxf(running_max, tile_max);
  const float2 p = make_float2(expf(s.x - new_max), expf(s.y - new_max));
  float sum = p.x + p.y;
  for (int offset = 4; offset > 0; offset /= 2) sum += __shfl_xor_sync(kFullWarp, sum, offset);
  const float rescale = expf(running_max - new_max);
  running_sum = running_sum * rescale + sum;
  running_max = new_max;
  *reinterpret_cast<float2*>(probs + head * Tiling::kTileKeys + key) = p;
  if (key == 0) alpha[head] = rescale;
}

// Warp w's quarter of the outputs: acc · alpha + P · V over the tile.
template <class Tiling>
__device__ inline void mma_tile_values(const float* probs, const float* alpha, unsigned v_tile,
                                       float (&acc)[Tiling::kDimTiles][4]) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, g = lane / 4;
  const float rescale_g = alpha[g], rescale_g8 = alpha[g + 8];
  for (int n = 0; n < Tiling::kDimTiles; ++n)
    acc[n][0] *= rescale_g, acc[n][1] *= rescale_g, acc[n][2] *= rescale_g8, acc[n][3] *= rescale_g8;
  unsigned p_hi[4], p_lo[4];
  a_fragments(probs, Tiling::kTileKeys, Tiling::kHeads, p_hi, p_lo);
  // Lanes 8i..8i+7 address keys (i & 1)·8.. at values +(i >> 1)·8: b0, b1 of tile 2p, then of 2p + 1.
  const unsigned row = ((lane / 8 & 1) * 8 + lane % 8) * Tiling::kRowBytes + (warp * Tiling::kWarpDims + lane / 16 * 8) * 2;
#pragma unroll
  for (int n = 0; n < Tiling::kDimTiles; n += 2) {
    unsigned b[4];
    mm::ldmatrix_x4_trans(b, v_tile + row + n * 16);
    mm::mma_f16_k16(acc[n], p_hi, b[0], b[1]);
    mm::mma_f16_k16(acc[n], p_lo, b[0], b[1]);
    mm::mma_f16_k16(acc[n + 1], p_hi, b[2], b[3]);
    mm::mma_f16_k16(acc[n + 1], p_lo, b[2], b[3]);
  }
}

// One block's split over the tensor cores: the GROUP heads from `first_head` (all of kv_head's),
// as rows of a 16-row tile whose rows from GROUP on are zero queries, computed and dropped.
template <bool RING, int HEAD_DIM, int Q_HEADS, int KV_HEADS, int WINDOW, bool V_ONLY, int ROTATED_PAIRS>
__device__ inline void attention_split_mma(const AttentionPartialArgs& a, int split, int kv_head, int row,
                                           int first_head, int seq) {
  using Tiling = MmaAttentionTiling<HEAD_DIM, V_ONLY, ROTATED_PAIRS>;
  constexpr int kGroup = Q_HEADS / KV_HEADS;
  const KeyRange range = split_keys<WINDOW>(a.pos[row], split, a.splits, static_cast<int>(a.slots), a.min_keys_per_split);
  float* partials = a.scratch + row * kAttentionRowScratch<HEAD_DIM, Q_HEADS>;
  float2* max_sum = reinterpret_cast<float2*>(partials + static_cast<long long>(Q_HEADS) * kAttentionMaxSplits * HEAD_DIM);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, g = lane / 4, t = lane % 4;
  if (range.begin >= range.end) {
    if (tid < kGroup) max_sum[(first_head + tid) * kAttentionMaxSplits + split] = make_float2(negative_infinity(), 0.0f);
    return;
  }

  // The launcher sizes the stages by their count and the cache's rotated pairs; other pairs or a
  // count past what it sized would overrun them.
  const int stages = a.mma_stages;
  if (stages < 2 || stages > kAttentionMmaMaxStages ||
      mm::dynamic_shared_bytes() < attention_mma_shared_bytes(HEAD_DIM, V_ONLY, ROTATED_PAIRS, stages))
    __trap();
  unsigned char* shared = mm::dynamic_shared_memory();
  const unsigned base = mm::shared_address(shared);
  float* scores = reinterpret_cast<float*>(shared + Tiling::kScoresOffset);
  float* probs = reinterpret_cast<float*>(shared + Tiling::kProbsOffset);
  float* alpha = reinterpret_cast<float*>(shared + Tiling::kAlphaOffset);
  const char* v_rows = sequence_rows<HEAD_DIM, KV_HEADS, block_f16>(a.v_cache, a.slots, seq, kv_head);
  const TileRows rows{V_ONLY ? v_rows : sequence_rows<HEAD_DIM, KV_HEADS, block_f16>(a.k_cache, a.slots, seq, kv_head),
                      v_rows, static_cast<int>(a.slots)};
  const unsigned stages_base = base + Tiling::kStagesOffset;
  if constexpr (Tiling::kRotatedPairs > 0)  // in tile 0's copy group
    copy_angle_rows<Tiling>(base + Tiling::kFineOffset, a.rope_fine, kRopeFinePositions);
  for (int i = 0; i < stages - 1; ++i)  // tiles 0 .. stages − 2 in flight; tile i + stages − 1 issued at i
    issue_mma_tile<Tiling, RING, HEAD_DIM, KV_HEADS, V_ONLY>(stages_base + i * Tiling::kStageBytes, rows, a.rope_coarse,
                                                             range.begin + i * Tiling::kTileKeys, range.end);

  // Step j / 2 of the warp's (value 16 · (warp + 4 · (j / 2))) for even j, its partner for odd j; a
  // v_only query carries the K-norm weight where its key is the V row itself.
  unsigned q_hi[Tiling::kKSteps][4], q_lo[Tiling::kKSteps][4];
  const float* q = a.q + (static_cast<long long>(row) * Q_HEADS + first_head) * HEAD_DIM;
#pragma unroll
  for (int j = 0; j < Tiling::kKSteps; ++j) {
    const int step = warp + j / 2 * Tiling::kWarps, value = step * 16 + j % 2 * (HEAD_DIM / 2);
    const bool folded = V_ONLY && step >= Tiling::kRebuiltSteps;
    a_fragments(q + value, HEAD_DIM, kGroup, q_hi[j], q_lo[j], folded ? a.k_norm + value : nullptr);
  }
  float running_max = negative_infinity(), running_sum = 0;
  float acc[Tiling::kDimTiles][4] = {};

  for (int tile = range.begin, i = 0; tile < range.end; tile += Tiling::kTileKeys, ++i) {
    const int stage = i % stages, ahead = (i + stages - 1) % stages;  // ahead: the stage tile i − 1 left
    issue_mma_tile<Tiling, RING, HEAD_DIM, KV_HEADS, V_ONLY>(stages_base + ahead * Tiling::kStageBytes, rows,
                                                             a.rope_coarse, tile + (stages - 1) * Tiling::kTileKeys, range.end);
    mm::cp_async_wait_pending(stages - 1);
    __syncthreads();  // the tile's rows, from every thread's copies
    const unsigned stage_base = stages_base + stage * Tiling::kStageBytes;
    const unsigned v_tile = stage_base + (V_ONLY ? 0 : Tiling::kTileBytes);
    mma_tile_scores<Tiling, HEAD_DIM>(q_hi, q_lo, shared + Tiling::kStagesOffset + stage * Tiling::kStageBytes,
                                      shared + Tiling::kFineOffset, tile, stage_base, a.k_norm, scores);
    __syncthreads();
    mma_tile_softmax<Tiling>(scores, probs, alpha, tile, range.end, a.scale, running_max, running_sum);
    __syncthreads();
    mma_tile_values<Tiling>(probs, alpha, v_tile, acc);
    __syncthreads();  // the stage (tile i + stages's) and the scores are free for the next tiles
  }

  if (tid % 8 == 0 && tid / 8 < kGroup)
    max_sum[(first_head + tid / 8) * kAttentionMaxSplits + split] = make_float2(running_max, running_sum);
  auto out = [&](int h, int value) {
    return reinterpret_cast<float2*>(partials + (static_cast<long long>(first_head + h) * kAttentionMaxSplits + split) * HEAD_DIM + value);
  };
  for (int n = 0; n < Tiling::kDimTiles; ++n) {
    const int value = warp * Tiling::kWarpDims + n * 8 + 2 * t;
    if (g < kGroup) *out(g, value) = make_float2(acc[n][0], acc[n][1]);
    if (g + 8 < kGroup) *out(g + 8, value) = make_float2(acc[n][2], acc[n][3]);
  }
}

}  // namespace g4c
