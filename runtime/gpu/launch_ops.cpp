#include "g4c/runtime/gpu/launch_ops.h"

#include <algorithm>
#include <limits>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/op_args.h"
#include "g4c/kernels/weight_layouts.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/gpu/launch_record.h"

namespace g4c::gpu {

static_assert(kAttentionMaxSplits == plan::kAttentionMaxSplits,
              "the attention kernels' partials fit the plan's scratch");

namespace {

constexpr int64_t kMaxGridY = 65535;  // rows ride on gridDim.y / gridDim.z

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <class... P>
bool all_aligned(const P*... p) {
  return (aligned(p) && ...);
}

unsigned blocks_for(int64_t items, int64_t per_block) { return static_cast<unsigned>((items + per_block - 1) / per_block); }

// The grid of an elementwise pass over `count` floats, 4 per thread when vectorized; a grid-stride
// loop covers whatever the cap leaves.
unsigned elementwise_blocks(int64_t count, bool vectorized) {
  int64_t items = vectorized ? std::max<int64_t>(count / 4, 1) : count;
  return static_cast<unsigned>(std::min<int64_t>(blocks_for(items, kElementwiseThreads), kElementwiseMaxBlocks));
}

// The grid of a kernel over `groups` norm groups of `group` floats: a warp per group (several per
// block) or a block per group (op_args.h).
LaunchDims norm_group_dims(int64_t groups, int64_t group) {
  const int64_t groups_per_block = norm_groups_per_block(group);
  return {dim3(blocks_for(groups, groups_per_block)),
          dim3(static_cast<unsigned>(norm_threads_per_group(group) * groups_per_block))};
}

int64_t element_bytes(QuantType dtype) { return dtype == QuantType::F32 ? 4 : 2; }

bool is_cache_dtype(QuantType dtype) {
  return dtype == QuantType::F16 || dtype == QuantType::BF16 || dtype == QuantType::F32;
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

cudaError_t launch_elementwise(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target, bool binary) {
  if (c.count < 0 || !c.a || !c.y || (binary && !c.b)) return cudaErrorInvalidValue;
  if (c.count == 0) return cudaSuccess;
  ElementwiseArgs args{c.a, c.b, c.factor, c.y, c.count, c.cap, all_aligned(c.a, c.b, c.y)};
  LaunchDims dims{dim3(elementwise_blocks(c.count, args.vectorized)), dim3(kElementwiseThreads)};
  return launch(kernel, dims, args, target);
}

}  // namespace

cudaError_t launch_embed_gather(cudaKernel_t kernel, const EmbedGatherCall& c, LaunchTarget target) {
  if (c.rows < 0 || c.rows > kMaxGridY || c.row_elems <= 0) return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  EmbedGatherArgs args{c.table, c.ids,   c.out, c.row_elems, static_cast<int>(c.rows), c.scale,
                       c.table_rows > 0 ? c.table_rows : std::numeric_limits<long long>::max()};
  if (c.mma16_layout && c.row_elems % layout::kMma16SuperBlock != 0) return cudaErrorInvalidValue;
  // mma16: a block per 256-column super-block; else a thread per element.
  const int64_t blocks = c.mma16_layout ? c.row_elems / layout::kMma16SuperBlock : blocks_for(c.row_elems, kGatherThreads);
  LaunchDims dims{dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(c.rows)), dim3(kGatherThreads)};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_ple_combine(cudaKernel_t kernel, const PleCombineCall& c, LaunchTarget target) {
  if (c.rows < 0 || c.rows > c.out_rows || c.layers <= 0 || c.width <= 0) return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  const bool vectorized = c.width % 4 == 0 && all_aligned(c.proj, c.ple_rows, c.norm, c.out);
  PleCombineArgs args{c.proj,         c.ple_rows, c.norm, c.out, static_cast<int>(c.rows), static_cast<int>(c.out_rows),
                      static_cast<int>(c.layers), c.proj_scale, c.eps, c.out_scale, vectorized};
  const int64_t groups_per_block = norm_groups_per_block(c.width);
  LaunchDims dims{dim3(blocks_for(c.rows * c.layers, groups_per_block)),
                  dim3(static_cast<unsigned>(norm_threads_per_group(c.width) * groups_per_block))};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_rms_norm(cudaKernel_t kernel, const RmsNormCall& c, LaunchTarget target) {
  if (c.group <= 0 || c.total < 0 || c.total % c.group != 0) return cudaErrorInvalidValue;
  if (c.total == 0) return cudaSuccess;
  const bool vectorized = c.group % 4 == 0 && all_aligned(c.x, c.y, c.weight);
  // Quantizing: each group is a row of whole super-blocks, re-read as float4s.
  if (c.x_q && (c.group % matmul::kQ8SuperBlock != 0 || c.total / c.group > INT32_MAX || !all_aligned(c.y, c.x_q)))
    return cudaErrorInvalidValue;
  RmsNormArgs args{c.x, c.weight, c.y, c.total / c.group, c.eps, vectorized, c.x_q};
  return launch(kernel, norm_group_dims(args.groups, c.group), args, target);
}

cudaError_t launch_add_rms_norm(cudaKernel_t kernel, const AddRmsNormCall& c, LaunchTarget target) {
  if (c.group <= 0 || c.total < 0 || c.total % c.group != 0 || !c.residual || !c.x || !c.y) return cudaErrorInvalidValue;
  if (c.total == 0) return cudaSuccess;
  const bool vectorized = c.group % 4 == 0 && all_aligned(c.residual, c.x, c.y, c.weight, c.then_weight, c.then_y);
  if ((c.then_y && !c.then_weight) || (c.x_q && (!c.then_y || c.group % matmul::kQ8SuperBlock != 0 ||
                                                 c.total / c.group > INT32_MAX || !all_aligned(c.then_y, c.x_q))))
    return cudaErrorInvalidValue;
  AddRmsNormArgs args{c.residual, c.x,     c.weight,      c.y,      c.total / c.group, c.eps,
                      vectorized, c.scale, c.then_weight, c.then_y, c.then_eps,        c.x_q};
  return launch(kernel, norm_group_dims(args.groups, c.group), args, target);
}

cudaError_t launch_rms_norm_rope(cudaKernel_t kernel, const RmsNormRopeCall& c, LaunchTarget target) {
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 2048 || c.row_elems % c.head_dim != 0 || c.rows < 0 ||
      c.row_elems / c.head_dim > INT32_MAX || !c.x || !c.y || !c.pos)
    return cudaErrorInvalidValue;
  if (c.rows == 0 || c.row_elems == 0) return cudaSuccess;
  const int64_t heads = c.row_elems / c.head_dim;
  const bool vectorized = c.head_dim % 4 == 0 && all_aligned(c.x, c.y, c.weight);
  RmsNormRopeArgs args{c.x,     c.weight, c.y,  c.pos,     c.theta, c.rows * heads, static_cast<int>(heads),
                       c.eps,   vectorized, c.table};
  return launch(kernel, norm_group_dims(args.groups, c.head_dim), args, target);
}

cudaError_t launch_rope(cudaKernel_t kernel, const RopeCall& c, LaunchTarget target) {
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 2048 || c.row_elems % c.head_dim != 0 || c.rows < 0)
    return cudaErrorInvalidValue;
  if (c.rows == 0 || c.row_elems == 0) return cudaSuccess;
  RopeArgs args{c.x, c.y, c.pos, static_cast<int>(c.row_elems / c.head_dim), static_cast<int>(c.rows), c.theta};
  LaunchDims dims{dim3(static_cast<unsigned>(c.rows)), dim3(static_cast<unsigned>(c.head_dim / 2))};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_kv_write(cudaKernel_t kernel, const KvWriteCall& c, LaunchTarget target) {
  const KvCacheRef& cache = c.cache;
  const int64_t row_elems = cache.kv_heads * cache.head_dim;
  if (!is_cache_dtype(cache.dtype) || row_elems <= 0 || cache.slots <= 0 || c.rows < 0 || c.rows > kMaxGridY ||
      !all_aligned(c.k, c.v, cache.k, cache.v) || (row_elems * element_bytes(cache.dtype)) % 16 != 0 || !c.v ||
      !cache.v || (c.k == nullptr) != cache.v_only())
    return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  const int sequences = cache.sequences > 0 && cache.sequences < std::numeric_limits<int>::max()
                            ? static_cast<int>(cache.sequences)
                            : std::numeric_limits<int>::max();
  KvWriteArgs args{c.k, c.v, c.pos, c.seq, cache.k, cache.v, cache.slots, static_cast<int>(c.rows), sequences};
  const int64_t chunk_elems = 16 / element_bytes(cache.dtype);
  LaunchDims dims{dim3(blocks_for(row_elems / chunk_elems, kKvWriteThreads), static_cast<unsigned>(c.rows)),
                  dim3(kKvWriteThreads)};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_attention_inputs(cudaKernel_t kernel, const AttentionInputsCall& c, LaunchTarget target) {
  const KvCacheRef& cache = c.cache;
  const int64_t head_dim = cache.head_dim;
  const bool keys = c.k.heads > 0;
  const AttentionHeads* kinds[] = {&c.q, &c.k, &c.v};
  bool heads_ok = c.q.heads > 0 && c.v.heads == cache.kv_heads && keys == !cache.v_only() &&
                  (!keys || c.k.heads == cache.kv_heads) && c.q.heads + 2 * cache.kv_heads <= INT32_MAX;
  bool aligned_all = head_dim % 4 == 0;
  for (const AttentionHeads* h : kinds) {
    if (h->heads == 0) continue;
    heads_ok = heads_ok && h->x && h->y;
    aligned_all = aligned_all && all_aligned(h->x, h->y, h->weight);
  }
  if (!is_cache_dtype(cache.dtype) || head_dim <= 0 || head_dim % 2 != 0 || head_dim > 2048 || !heads_ok ||
      (head_dim * element_bytes(cache.dtype)) % 16 != 0 || cache.slots <= 0 || c.rows < 0 || c.rows > INT32_MAX ||
      c.rows * (c.q.heads + 2 * cache.kv_heads) > INT32_MAX || !cache.v || !all_aligned(cache.k, cache.v) ||
      !c.pos || !c.seq)
    return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  const int sequences = cache.sequences > 0 && cache.sequences < std::numeric_limits<int>::max()
                            ? static_cast<int>(cache.sequences)
                            : std::numeric_limits<int>::max();
  auto heads = [](const AttentionHeads& h) {
    return AttentionHeadsArgs{h.x, h.weight, h.y, h.eps, static_cast<int>(h.heads)};
  };
  AttentionInputsArgs args{heads(c.q), heads(c.k), heads(c.v),     c.pos,
                           c.seq,      c.table,    c.theta,        cache.k,
                           cache.v,    cache.slots, static_cast<int>(c.rows), sequences,
                           aligned_all};
  const int64_t groups = c.rows * (c.q.heads + c.k.heads + c.v.heads);
  return launch(kernel, norm_group_dims(groups, head_dim), args, target);
}

int64_t attention_tickets(int64_t q_heads, int64_t kv_heads, bool mma) {
  const int group = static_cast<int>(q_heads / kv_heads);
  return kv_heads * (group / attention_block_heads(group, mma));
}

bool attention_runs_mma(const AttentionCall& c) {
  const int64_t group = c.q_heads / c.cache.kv_heads;
  return c.mma && attention_mma_serves(static_cast<int>(group), static_cast<int>(c.cache.head_dim),
                                       c.cache.dtype == QuantType::F16);
}

int64_t attention_splits(int64_t rows, int64_t q_heads, int64_t kv_heads, int64_t slots, int sm_count, bool mma) {
  const int64_t blocks_per_split = rows * attention_tickets(q_heads, kv_heads, mma);
  int64_t splits = kAttentionMinSplits;
  while (splits < kAttentionMaxSplits && blocks_per_split * splits < 2 * int64_t{sm_count} &&
         2 * splits * kAttentionMinKeysPerSplit <= slots)
    splits *= 2;
  return splits;
}

bool is_attention_split_count(int64_t splits) {
  return splits >= kAttentionMinSplits && splits <= kAttentionMaxSplits && is_power_of_two(splits);
}

cudaError_t launch_attention(cudaKernel_t partial, cudaKernel_t combine, const AttentionCall& c,
                             LaunchTarget target) {
  const KvCacheRef& cache = c.cache;
  if (!is_cache_dtype(cache.dtype) || !is_power_of_two(cache.head_dim) || cache.head_dim < 32 ||
      cache.head_dim > 1024 || cache.kv_heads <= 0 || c.q_heads <= 0 || c.q_heads % cache.kv_heads != 0 ||
      cache.slots <= 0 || cache.slots > INT32_MAX || c.rows < 0 || c.rows > kMaxGridY ||
      !all_aligned(c.q, c.out, c.scratch, cache.k, cache.v) || !cache.v || cache.v_only() != (cache.k_norm != nullptr) ||
      (cache.v_only() && cache.rotated_pairs > 0 && (!cache.rope_table || cache.rope_positions <= 0)))
    return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  if ((!combine && !c.tickets) || (c.x_q && (!combine || cache.head_dim % matmul::kQ8SuperBlock != 0 || !aligned(c.x_q))))
    return cudaErrorInvalidValue;
  if (c.splits != 0 && !is_attention_split_count(c.splits)) return cudaErrorInvalidValue;
  const bool mma = attention_runs_mma(c);
  if (c.mma != mma) return cudaErrorInvalidValue;  // a tensor-core instance the split cannot serve
  const int splits = static_cast<int>(c.splits ? c.splits
                                               : attention_splits(c.rows, c.q_heads, cache.kv_heads, cache.slots,
                                                                  device_limits(c.limits).sm_count, mma));
  const int group = static_cast<int>(c.q_heads / cache.kv_heads);
  AttentionPartialArgs partial_args{c.q,         c.pos,        c.seq,           cache.k,     cache.v,
                                    c.scratch,   cache.k_norm, cache.rope_table, cache.slots, c.scale,
                                    kAttentionMinKeysPerSplit, splits, attention_block_heads(group, mma), c.out, c.tickets};
  const unsigned head_blocks = static_cast<unsigned>(group / partial_args.block_heads);
  const auto mma_shared_bytes = [&](int stages) {
    return attention_mma_shared_bytes(static_cast<int>(cache.head_dim), cache.v_only(),
                                      static_cast<int>(cache.rotated_pairs), stages);
  };
  if (cache.rope_table) {
    partial_args.rope_fine = cache.rope_table + rope_fine_offset(cache.rope_positions, cache.rotated_pairs);
    partial_args.rope_coarse = cache.rope_table + rope_coarse_offset(cache.rope_positions, cache.rotated_pairs);
  }
  partial_args.mma_stages = attention_stages();
  if (partial_args.mma_stages != kAttentionMmaMinStages &&
      mma_shared_bytes(partial_args.mma_stages) > device_limits(c.limits).max_shared_bytes)
    partial_args.mma_stages = kAttentionMmaMinStages;
  LaunchDims partial_dims{dim3(static_cast<unsigned>(splits) * head_blocks, static_cast<unsigned>(cache.kv_heads),
                               static_cast<unsigned>(c.rows)),
                          dim3(kAttentionThreads),
                          mma ? static_cast<unsigned>(mma_shared_bytes(partial_args.mma_stages)) : 0u};
  if (cudaError_t e = launch(partial, partial_dims, partial_args, target); e != cudaSuccess || !combine) return e;
  AttentionCombineArgs combine_args{c.scratch, c.seq, c.out, c.x_q, static_cast<int>(c.rows), splits};
  LaunchDims combine_dims{dim3(static_cast<unsigned>(c.q_heads), static_cast<unsigned>(c.rows)),
                          dim3(static_cast<unsigned>(attention_combine_threads(static_cast<int>(cache.head_dim))))};
  return launch(combine, combine_dims, combine_args, target);
}

cudaError_t launch_geglu(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target) {
  return launch_elementwise(kernel, c, target, true);
}

cudaError_t launch_geglu_quantize(cudaKernel_t kernel, const GegluQuantizeCall& c, LaunchTarget target) {
  if (c.rows < 0 || c.rows > INT32_MAX || c.cols <= 0 || c.cols % matmul::kQ8SuperBlock != 0 ||
      !all_aligned(c.gate, c.up, c.y, c.x_q) || !c.x_q)
    return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  GegluQuantizeArgs args{c.gate, c.up, c.y, c.x_q, c.cols, static_cast<int>(c.rows)};
  const int64_t warps = c.rows * (c.cols / matmul::kQ8SuperBlock);
  LaunchDims dims{dim3(blocks_for(warps * 32, kElementwiseThreads)), dim3(kElementwiseThreads)};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_add(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target) {
  return launch_elementwise(kernel, c, target, true);
}

cudaError_t launch_scale_by(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target) {
  if (!c.factor) return cudaErrorInvalidValue;
  return launch_elementwise(kernel, c, target, false);
}

cudaError_t launch_softcap(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target) {
  if (!(c.cap > 0)) return cudaErrorInvalidValue;
  return launch_elementwise(kernel, c, target, false);
}

cudaError_t launch_sample(cudaKernel_t kernel, const SampleCall& c, LaunchTarget target) {
  if (c.rows < 0 || c.vocab <= 0 || c.vocab > INT32_MAX) return cudaErrorInvalidValue;
  if (c.rows == 0) return cudaSuccess;
  SampleArgs args{c.logits, c.tokens, c.vocab, c.vocab % 4 == 0 && aligned(c.logits)};
  LaunchDims dims{dim3(static_cast<unsigned>(c.rows)), dim3(kSampleThreads)};
  return launch(kernel, dims, args, target);
}

cudaError_t launch_random_weights(cudaKernel_t kernel, const RandomWeightsCall& c, LaunchTarget target) {
  if (c.blocks < 0) return cudaErrorInvalidValue;
  if (c.blocks == 0) return cudaSuccess;
  constexpr int64_t kMaxBlocks = 16384;  // grid-stride beyond
  RandomWeightsArgs args{c.params, c.out, c.blocks};
  LaunchDims dims{dim3(static_cast<unsigned>(std::min<int64_t>(blocks_for(c.blocks, kRandomThreads), kMaxBlocks))),
                  dim3(kRandomThreads)};
  return launch(kernel, dims, args, target);
}

}  // namespace g4c::gpu
