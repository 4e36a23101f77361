// Host launchers of every non-matmul kernel (kernels/*.cuh). The caller resolves each op's kernel
// instances from a KernelLibrary (plan::kernels_for names them) and passes device pointers into
// its arena, weights and caches.
//
// Every launcher only hands its kernel's record to `target` (launch_record.h: enqueued on a stream,
// or kept): no allocation, no synchronization and no read of device memory (row positions,
// sequences and token ids stay on the device), so a whole decode step can be captured into a CUDA
// graph or printed without a device. Each returns the launch's error, or cudaErrorInvalidValue
// for a call that breaks the stated preconditions (checked on the host from sizes and pointer
// values alone).
//
// Element counts are floats. "Aligned" means 16-byte aligned, which every arena buffer, cache and
// cudaMalloc'd weight is; kernels that can take unaligned operands fall back to scalar access.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "g4c/kernels/random_blocks.h"
#include "g4c/runtime/gpu/launch_record.h"
#include "g4c/spec/quant_type.h"

namespace g4c::gpu {

// embed_gather {type}: out[r, :] = dequantized table row ids[r] × scale, for r < rows.
struct EmbedGatherCall {
  const void* table = nullptr;  // ne1 rows of row_elems elements in the instance's type
  const int32_t* ids = nullptr;
  float* out = nullptr;  // rows × row_elems
  int64_t row_elems = 0;  // ne0, a multiple of the type's block
  int64_t rows = 0;
  float scale = 1;
  int64_t table_rows = 0;  // the table's rows (ids past them give NaN rows); 0: not checked
  // The table is repacked in the mma16 layout (a tied embedding the LM head reads on mma16): the
  // kernel is embed_gather {type, layout = mma16}, and row_elems a multiple of 256.
  bool mma16_layout = false;
};
cudaError_t launch_embed_gather(cudaKernel_t kernel, const EmbedGatherCall& c, LaunchTarget target);

// ple_combine {width}: gemma4.md §3.2 for rows 0..rows−1; proj and ple_rows are rows ×
// (layers · width); out is layer-major [layers][out_rows][width] (rows ≤ out_rows; rows past
// `rows` are left alone).
struct PleCombineCall {
  const float* proj = nullptr;
  const float* ple_rows = nullptr;
  const float* norm = nullptr;  // width floats (F32)
  float* out = nullptr;
  int64_t rows = 0, out_rows = 0, layers = 0, width = 0;
  float proj_scale = 1, eps = 1e-6f, out_scale = 1;
};
cudaError_t launch_ple_combine(cudaKernel_t kernel, const PleCombineCall& c, LaunchTarget target);

// rms_norm {group, weighted}: over each `group` floats of x (total floats, a multiple of group);
// y may equal x. weight: group floats (F32), null for an unweighted instance.
struct RmsNormCall {
  const float* x = nullptr;
  const float* weight = nullptr;
  float* y = nullptr;
  int64_t total = 0, group = 0;
  float eps = 1e-6f;
  void* x_q = nullptr;  // quantize-in-producer: the int8 activations of the rows (group = a row)
};
cudaError_t launch_rms_norm(cudaKernel_t kernel, const RmsNormCall& c, LaunchTarget target);

// add_rms_norm {group, weighted}: y = residual + rms_norm(x) [⊙ weight] over each `group` floats
// (total floats, a multiple of group); y may equal residual or x. weight: group floats (F32), null
// for an unweighted instance.
struct AddRmsNormCall {
  const float* residual = nullptr;
  const float* x = nullptr;
  const float* weight = nullptr;
  float* y = nullptr;
  int64_t total = 0, group = 0;
  float eps = 1e-6f;
  // norm-chains (the instance's scale / then_norm / quantize; group = a row): the layer scale (one
  // float on the device), the next norm's weight, output and eps, and its int8 activations.
  const float* scale = nullptr;
  const float* then_weight = nullptr;
  float* then_y = nullptr;
  float then_eps = 1e-6f;
  void* x_q = nullptr;
};
cudaError_t launch_add_rms_norm(cudaKernel_t kernel, const AddRmsNormCall& c, LaunchTarget target);

// rms_norm_rope {head_dim, rotated_pairs, weighted}: each head of head_dim floats (at most 2048)
// of rows × row_elems normalized [⊙ weight, head_dim floats (F32)], then roped at the device
// position pos[r] of its row; y may equal x.
struct RmsNormRopeCall {
  const float* x = nullptr;
  const float* weight = nullptr;
  float* y = nullptr;
  const int32_t* pos = nullptr;
  int64_t rows = 0, row_elems = 0, head_dim = 0;
  float eps = 1e-6f;
  double theta = 10000;
  // cpu::rope_table(theta, head_dim, rotated_pairs, positions) on the device, covering every
  // pos[r]; null: each angle computed in double in the kernel.
  const float* table = nullptr;
};
cudaError_t launch_rms_norm_rope(cudaKernel_t kernel, const RmsNormRopeCall& c, LaunchTarget target);

// rope {head_dim, rotated_pairs}: rows × row_elems floats (row_elems a multiple of head_dim), at
// the device positions pos[r]; y may equal x.
struct RopeCall {
  const float* x = nullptr;
  float* y = nullptr;
  const int32_t* pos = nullptr;
  int64_t rows = 0, row_elems = 0, head_dim = 0;
  double theta = 10000;
};
cudaError_t launch_rope(cudaKernel_t kernel, const RopeCall& c, LaunchTarget target);

// A layer's KV cache on the device, in g4c::cpu::KvCacheView's layout (cpu_ops.h): for each
// sequence, `slots` rows of kv_heads × head_dim elements of `dtype` (F16, BF16 or F32, as the
// kernel instance says); K and V separate, aligned. A v_only cache (instances with `storage =
// v_only`) has no K: k is null and k_norm set, with the (cos, sin) table of its rotated pairs
// (g4c::cpu::rope_table over rope_positions, the plan's context; null when no pair rotates).
struct KvCacheRef {
  void* k = nullptr;
  void* v = nullptr;
  QuantType dtype = QuantType::F16;
  int64_t slots = 0;
  int64_t kv_heads = 0, head_dim = 0;
  int64_t sequences = 0;  // sequences the cache holds (rows of other slots store nothing); 0: not checked
  const float* k_norm = nullptr;      // head_dim floats (F32)
  const float* rope_table = nullptr;  // [position][rotated pairs] float pairs, then their factors
  int64_t rope_positions = 0;         // the table's (rope_angles.h's layout)
  int64_t rotated_pairs = 0;          // of a v_only cache's keys (the table's row length)
  bool v_only() const { return k == nullptr; }
};

// One kind of head of attention_inputs: rows × heads heads of the cache's head_dim floats,
// normalized [⊙ weight, head_dim floats (F32)] from x into y (y may equal x; all aligned).
struct AttentionHeads {
  const float* x = nullptr;
  const float* weight = nullptr;
  float* y = nullptr;
  float eps = 1e-6f;
  int64_t heads = 0;
};

// attention_inputs {kind, head_dim, kv_heads, dtype, rotated_pairs[, storage = v_only]}
// (attention-inputs): the Q heads normalized and roped at pos[r] (as rms_norm_rope, with `table`
// or `theta`), the K heads the same (none into a v_only cache: k.heads = 0), the V heads
// normalized, and K and V stored as kv_write stores them (cache.kv_heads heads of each a row).
struct AttentionInputsCall {
  AttentionHeads q, k, v;
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;
  const float* table = nullptr;
  double theta = 10000;
  KvCacheRef cache;
  int64_t rows = 0;
};
cudaError_t launch_attention_inputs(cudaKernel_t kernel, const AttentionInputsCall& c, LaunchTarget target);

// kv_write {kind, head_dim, kv_heads, dtype[, storage = v_only]}: row r's K and V (rows ×
// kv_heads·head_dim floats, aligned) at position pos[r] of sequence seq[r]; rows with seq < 0
// store nothing. Into a v_only cache V alone: k is null.
struct KvWriteCall {
  const float* k = nullptr;
  const float* v = nullptr;
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;
  KvCacheRef cache;
  int64_t rows = 0;
};
cudaError_t launch_kv_write(cudaKernel_t kernel, const KvWriteCall& c, LaunchTarget target);

// attention.partial + attention.combine: decode attention of rows × q_heads·head_dim queries
// (aligned) over their sequences' caches (the instance fixes kind, dtype, window and, for a
// v_only cache, its rotated pairs); padding rows (seq < 0) produce zeros. scratch: rows × q_heads ×
// kAttentionMaxSplits × (head_dim + 2) floats, aligned (the op's scratch buffer).
struct AttentionCall {
  const float* q = nullptr;
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;
  KvCacheRef cache;
  int64_t q_heads = 0;
  float* out = nullptr;
  float* scratch = nullptr;
  int64_t rows = 0;
  float scale = 1;
  // A partial kernel of `combine = last_block` (combine null): rows × attention_tickets(…) zeroed
  // counters, which the kernel leaves zeroed.
  unsigned* tickets = nullptr;
  // A combine instance with `quantize` (quantize-in-producer; head_dim a multiple of 256): the O
  // projection's activations of the rows, in that format.
  void* x_q = nullptr;
  // Splits of each row's keys (a power of two from 8 to 128); 0: attention_splits for the SM count
  // of `limits`.
  int64_t splits = 0;
  DeviceLimits limits;
  // The partial instance has `split = mma` (attention-split; only where attention_mma_serves): its
  // blocks take a whole GQA group on the tensor cores.
  bool mma = false;
};
// The splits a launch cuts each row's keys into: 8, doubled up to kAttentionMaxSplits while the
// grid has fewer than two blocks an SM and the cache holds enough keys (`slots`) to give every
// split of the doubled count kAttentionMinKeysPerSplit. The 12B on 132 SMs: 128 on its global
// layers at N ≤ 2, 32 on the sliding ones at N = 1 (their 1024-key window caps them), 8 from N = 8
// where rows and KV heads fill the GPU (longer splits measured faster there: docs/perf.md).
int64_t attention_splits(int64_t rows, int64_t q_heads, int64_t kv_heads, int64_t slots, int sm_count,
                         bool mma = false);
// Whether the call's partial kernel runs the tensor-core split (c.mma, and an instance it serves).
bool attention_runs_mma(const AttentionCall& c);
// Whether the kernels serve `splits` splits (AttentionCall::splits other than 0): a power of two
// from 8 to kAttentionMaxSplits.
bool is_attention_split_count(int64_t splits);
// The counters per row a `combine = last_block` partial kernel takes: one per (KV head, head slice);
// `mma`: of the tensor-core split (a slice is the whole group).
int64_t attention_tickets(int64_t q_heads, int64_t kv_heads, bool mma = false);
// `combine` null: `partial` is a combine = last_block instance, and the one launch does both.
cudaError_t launch_attention(cudaKernel_t partial, cudaKernel_t combine, const AttentionCall& c,
                             LaunchTarget target);

// geglu (gelu_tanh(a) · b), add (a + b), scale_by (a · *factor, one F32 in device memory),
// softcap (cap · tanh(a / cap)) over `count` floats; y may equal a or b.
struct ElementwiseCall {
  const float* a = nullptr;
  const float* b = nullptr;
  const float* factor = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  float cap = 0;
};
cudaError_t launch_geglu(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target);
cudaError_t launch_add(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target);
// geglu {quantize}: also y's int8 activations of `rows` rows of `cols` floats at x_q.
struct GegluQuantizeCall {
  const float* gate = nullptr;
  const float* up = nullptr;
  float* y = nullptr;
  void* x_q = nullptr;
  int64_t rows = 0, cols = 0;
};
cudaError_t launch_geglu_quantize(cudaKernel_t kernel, const GegluQuantizeCall& c, LaunchTarget target);
cudaError_t launch_scale_by(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target);
cudaError_t launch_softcap(cudaKernel_t kernel, const ElementwiseCall& c, LaunchTarget target);

// sample: tokens[r] = the first index of the largest of logits[r, 0 .. vocab).
struct SampleCall {
  const float* logits = nullptr;
  int32_t* tokens = nullptr;
  int64_t rows = 0, vocab = 0;
};
cudaError_t launch_sample(cudaKernel_t kernel, const SampleCall& c, LaunchTarget target);

// random_weights {type}: `blocks` blocks of the instance's type, as g4c::random_weights draws them
// for a tensor with these params (random_tensor_params).
struct RandomWeightsCall {
  RandomTensorParams params;
  void* out = nullptr;
  int64_t blocks = 0;
};
cudaError_t launch_random_weights(cudaKernel_t kernel, const RandomWeightsCall& c, LaunchTarget target);

}  // namespace g4c::gpu
