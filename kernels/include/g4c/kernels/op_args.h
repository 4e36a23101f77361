// The argument structs of every non-matmul kernel (kernels/*.cuh) and the launch geometry both
// sides must agree on. One definition for the host launchers (runtime/gpu/launch_ops.cpp, g++) and
// the kernels (NVRTC): no standard library, only fixed-size scalars and pointers, so the layout of
// each struct is the same to both compilers. Every kernel takes exactly one of these by value.
#pragma once

#include "g4c/kernels/random_blocks.h"
#include "g4c/kernels/rope_angles.h"

namespace g4c {

//===----------------------------------------------------------------------===//
// Launch geometry shared by kernels and launchers
//===----------------------------------------------------------------------===//

// Threads of one attention.partial block and the flash-decoding split layout: each row's keys are
// divided over at most `splits` blocks (AttentionPartialArgs::splits: a power of two from 8 to 128,
// which the launcher picks from the rows, heads and SM count; the scratch holds kAttentionMaxSplits partials
// per query head, compiler/plan/kernels.h), each split taking at least kAttentionMinKeysPerSplit
// keys so short rows do not pay for 32 nearly empty splits. The launcher passes the minimum
// (AttentionPartialArgs::min_keys_per_split): 32 measured faster than 64 and 16 (docs/perf.md,
// "Attention splits"); -DG4C_ATTENTION_MIN_KEYS_PER_SPLIT=N builds another to repeat that.
#ifndef G4C_ATTENTION_MIN_KEYS_PER_SPLIT
#define G4C_ATTENTION_MIN_KEYS_PER_SPLIT 32
#endif
inline constexpr int kAttentionThreads = 128;
inline constexpr int kAttentionMinSplits = 8;  // the combine loads the partials 8 splits at a time
inline constexpr int kAttentionMaxSplits = 128;
inline constexpr int kAttentionMinKeysPerSplit = G4C_ATTENTION_MIN_KEYS_PER_SPLIT;

// Query heads one attention.partial block serves: the largest divisor of the GQA group size (query
// heads per KV head) up to 8. A block loads each K/V row once for all of its heads; groups above
// 8 (12B's 16:1 MQA) are served by several blocks reading the same rows, which doubles the block
// count where a single sequence would otherwise leave most SMs idle, at the price of L2 hits.
G4C_HD constexpr int attention_heads_per_block(int group) {
  for (int heads = group < 8 ? group : 8; heads > 1; --heads)
    if (group % heads == 0) return heads;
  return 1;
}

// attention.partial's tensor-core split (kernels/attention_mma.cuh; kernels built with
// G4C_ATTENTION_MMA, `g4run --attention-mma`): a whole GQA group of up to 16 query heads — the
// rows of one m16n8k16 A tile — over an F16 cache of 256- or 512-value heads in one block (made
// for the 12B's global layers, 16:1).
inline constexpr int kAttentionMmaHeads = 16;
inline constexpr int kAttentionMmaTileKeys = 16;
G4C_HD constexpr bool attention_mma_serves(int group, int head_dim, bool f16_cache) {
  return group >= 1 && group <= kAttentionMmaHeads && kAttentionMmaHeads % group == 0 && f16_cache &&
         (head_dim == 256 || head_dim == 512);
}
// Query heads of a block of either split.
G4C_HD constexpr int attention_block_heads(int group, bool mma) { return mma ? group : attention_heads_per_block(group); }
// The tensor-core split's dynamic shared memory: each warp's partial scores, the probabilities and
// the rescale factors of a tile; for a v_only cache whose keys rotate, the 16 fine angle rows of
// its RoPE table (rope_angles.h), copied once; then the stages of K and V tiles (for a v_only
// cache: of V tiles and the two coarse angle rows a tile's positions span). Rows are padded so
// that ldmatrix's eight rows (and the angle loads' lanes) fall on distinct banks.
G4C_HD constexpr int attention_mma_row_bytes(int head_dim) { return head_dim * 2 + 16; }
G4C_HD constexpr int attention_mma_tile_bytes(int head_dim) { return kAttentionMmaTileKeys * attention_mma_row_bytes(head_dim); }
G4C_HD constexpr int attention_mma_angle_row_bytes(int rotated_pairs) {
  return rotated_pairs == 0 ? 0 : (rotated_pairs * 8 + 127) / 128 * 128 + 64;
}
inline constexpr int kAttentionMmaCoarseRows = 2;  // a tile's 16 positions span two coarse rows at most
G4C_HD constexpr int attention_mma_fine_bytes(bool v_only, int rotated_pairs) {
  return v_only ? kRopeFinePositions * attention_mma_angle_row_bytes(rotated_pairs) : 0;
}
G4C_HD constexpr int attention_mma_stage_bytes(int head_dim, bool v_only, int rotated_pairs) {
  return v_only ? attention_mma_tile_bytes(head_dim) + kAttentionMmaCoarseRows * attention_mma_angle_row_bytes(rotated_pairs)
                : 2 * attention_mma_tile_bytes(head_dim);
}
// The floats come first (their offsets do not depend on the stage count), then `stages` stages:
// three by default (two blocks an SM at 512 values; measured 3% off the 12B's step at N = 8 over a
// 32k cache on an H100), two to kAttentionMmaMaxStages (AttentionPartialArgs::mma_stages, A/B).
inline constexpr int kAttentionMmaMinStages = 2;
inline constexpr int kAttentionMmaDefaultStages = 3;
inline constexpr int kAttentionMmaMaxStages = 4;
G4C_HD constexpr int attention_mma_float_bytes() {
  return 4 * (kAttentionThreads / 32 * kAttentionMmaHeads * kAttentionMmaTileKeys +  // partial scores
              kAttentionMmaHeads * kAttentionMmaTileKeys + kAttentionMmaHeads);      // P, alpha
}
G4C_HD constexpr int attention_mma_shared_bytes(int head_dim, bool v_only, int rotated_pairs,
                                                int stages = kAttentionMmaDefaultStages) {
  return attention_mma_float_bytes() + attention_mma_fine_bytes(v_only, v_only ? rotated_pairs : 0) +
         stages * attention_mma_stage_bytes(head_dim, v_only, v_only ? rotated_pairs : 0);
}

// attention.combine: one block per (query head, row), a thread per four output elements.
G4C_HD constexpr int attention_combine_threads(int head_dim) {
  const int quads = head_dim / 4;
  return quads < 32 ? 32 : quads > 128 ? 128 : quads;
}

// rms_norm, add_rms_norm, rms_norm_rope (a group is a head) and ple_combine: a warp per group up
// to 1024 elements (four groups per block), else a block per group; each thread keeps its share of
// the group in registers. A larger group of whole 256-float super-blocks (a hidden row), up to 32
// of them, takes a warp per super-block, eight consecutive floats a thread: the matmuls'
// activation layout (quantize_activations.cuh), so a norm quantizes its row from registers, and
// fewer serial loads per thread on the one block a row gets at N = 1. Other groups: 256 threads.
G4C_HD constexpr int norm_threads_per_group(long long group) {
  return group <= 1024 ? 32 : group % 256 == 0 && group <= 32 * 256 ? static_cast<int>(group / 8) : 256;
}
G4C_HD constexpr int norm_groups_per_block(long long group) { return group <= 1024 ? 4 : 1; }

inline constexpr int kElementwiseThreads = 256;
inline constexpr int kElementwiseMaxBlocks = 4096;  // grid-stride beyond this
inline constexpr int kSampleThreads = 1024;         // one block per row
inline constexpr int kGatherThreads = 256;
inline constexpr int kKvWriteThreads = 128;
inline constexpr int kRandomThreads = 128;

//===----------------------------------------------------------------------===//
// Argument structs
//===----------------------------------------------------------------------===//

// out[r, i] = dequantize(table row ids[r])[i] × scale for i < row_elems.
struct EmbedGatherArgs {
  const void* table;  // rows of row_elems / Block::kElems blocks
  const int* ids;
  float* out;
  long long row_elems;
  int rows;
  float scale;
  long long table_rows;  // ids outside 0..table_rows-1 give a NaN row (the backends check ids first)
};

// §3.2 of gemma4.md for each (row, layer): out[layer][row] = ((RMS(proj·proj_scale) ⊙ norm) +
// ple_rows) · out_scale, where proj and ple_rows are rows × (layers · width), row-major, and out
// is layer-major with out_rows rows per layer.
struct PleCombineArgs {
  const float* proj;
  const float* ple_rows;
  const float* norm;  // width floats
  float* out;
  int rows;
  int out_rows;
  int layers;
  float proj_scale;
  float eps;
  float out_scale;
  int vectorized;  // 1: every pointer 16-byte aligned and width % 4 == 0
};

// RMSNorm over each GROUP consecutive floats; y may equal x.
struct RmsNormArgs {
  const float* x;
  const float* weight;  // GROUP floats, or null when the instance is unweighted
  float* y;
  long long groups;
  float eps;
  int vectorized;  // 1: x, y, weight 16-byte aligned and GROUP % 4 == 0
  void* x_q;       // quantize-in-producer: the int8 activations of the rows (a group is a row)
};

// y = residual + RMSNorm(x) [⊙ weight] over each GROUP consecutive floats; y may equal residual
// or x.
// norm-chains: a group is a row, and the launch goes on with it: y ·= *scale (the layer scale, in
// place), then then_y = RMSNorm(y) ⊙ then_weight, and then_y's int8 activations at x_q.
struct AddRmsNormArgs {
  const float* residual;
  const float* x;
  const float* weight;  // GROUP floats, or null when the instance is unweighted
  float* y;
  long long groups;
  float eps;
  int vectorized;  // 1: residual, x, y, weight (and the chain's rows) 16-byte aligned and GROUP % 4 == 0
  const float* scale;
  const float* then_weight;
  float* then_y;
  float then_eps;
  void* x_q;
};

// RMSNorm of each head (HEAD_DIM floats) [⊙ weight], then NeoX RoPE of it at its row's position;
// y may equal x.
struct RmsNormRopeArgs {
  const float* x;
  const float* weight;  // HEAD_DIM floats, or null when the instance is unweighted
  float* y;
  const int* pos;
  double theta;
  long long groups;  // heads of all rows
  int heads;         // per row
  float eps;
  int vectorized;  // 1: x, y and weight 16-byte aligned and HEAD_DIM % 4 == 0
  // The (cos, sin) of every rotated pair at every position, [position][pair] (cpu::rope_table):
  // the CPU's own floats, looked up instead of a double pow and sincos per pair and head; null:
  // computed so (`g4run --no-rope-tables`, for A/B timing).
  const float* table;
};

// One kind of head of attention_inputs: `heads` heads of HEAD_DIM floats a row, normalized
// [⊙ weight] from x into y (y may equal x).
struct AttentionHeadsArgs {
  const float* x;
  const float* weight;  // HEAD_DIM floats, or null: unweighted
  float* y;
  float eps;
  int heads;  // per row; 0: none (K into a v_only cache)
};

// attention-inputs: a layer's Q heads normalized and roped, K heads (none into a v_only cache)
// the same, V heads normalized, and each row's K and V stored as kv_write stores them (KvWriteArgs).
struct AttentionInputsArgs {
  AttentionHeadsArgs q, k, v;
  const int* pos;
  const int* seq;
  const float* table;  // RmsNormRopeArgs::table (null: angles computed)
  double theta;
  void* k_cache;  // null for a v_only cache
  void* v_cache;
  long long slots;
  int rows;
  int sequences;
  int vectorized;  // 1: every x, y and weight 16-byte aligned and HEAD_DIM % 4 == 0
};

// NeoX RoPE of every head of each row; y may equal x.
struct RopeArgs {
  const float* x;
  float* y;
  const int* pos;
  int heads;  // per row
  int rows;
  double theta;
};

// K and V rows (rows × KV_HEADS·HEAD_DIM floats) into the caches of g4c::cpu::KvCacheView's
// layout: per sequence, `slots` rows of KV_HEADS·HEAD_DIM elements. A v_only instance stores V
// alone (k and k_cache are null).
struct KvWriteArgs {
  const float* k;
  const float* v;
  const int* pos;
  const int* seq;
  void* k_cache;
  void* v_cache;
  long long slots;
  int rows;
  int sequences;  // rows whose seq or pos fall outside the cache store nothing (the backends check them first)
};

// The split partials of one row occupy q_heads × kAttentionMaxSplits × (head_dim + 2) floats of the
// scratch: first the accumulators, [head][split][head_dim] (unnormalized Σ exp(s − m)·v), then
// [head][split] pairs (m, l) of running max and sum; a launch of `splits` uses splits [0, splits).
// An empty split stores (−inf, 0).
// A v_only instance reads no K cache (k_cache is null): it rebuilds each key from its V row as
// rope(V ⊙ k_norm) at the key's position, with (cos, sin) of its first ROTATED_PAIRS pairs from
// rope_table, [position][ROTATED_PAIRS] float pairs as g4c::cpu::rope_table makes them — the
// tensor-core split from their factors, rope_fine and rope_coarse (rope_angles.h: the same table's
// fine and coarse rows).
struct AttentionPartialArgs {
  const float* q;  // rows × Q_HEADS·HEAD_DIM, normed and roped
  const int* pos;
  const int* seq;
  const void* k_cache;
  const void* v_cache;
  float* scratch;
  const float* k_norm;      // v_only: HEAD_DIM floats
  const float* rope_table;  // v_only with ROTATED_PAIRS > 0
  long long slots;
  float scale;
  int min_keys_per_split;  // kAttentionMinKeysPerSplit
  int splits;              // the grid's splits per (row, KV head, head slice): 8 .. 128, a power of two
  int block_heads;         // query heads a block takes (attention_block_heads), checked by the kernel
  // combine = last_block: the output (rows × Q_HEADS·HEAD_DIM) and a zeroed counter per (row, KV
  // head, head slice), left zeroed; unused otherwise.
  float* out;
  unsigned* tickets;
  // The tensor-core split's shared-memory stages (2 .. kAttentionMmaMaxStages): tiles in flight
  // while one is computed are one fewer. The launcher sizes the dynamic shared memory by it.
  int mma_stages;
  const float* rope_fine;    // v_only with ROTATED_PAIRS > 0: [16][ROTATED_PAIRS] float pairs
  const float* rope_coarse;  // [position / 16][ROTATED_PAIRS], rows up to the last tile's second
};

struct AttentionCombineArgs {
  const float* scratch;
  const int* seq;
  float* out;  // rows × Q_HEADS·HEAD_DIM
  void* x_q;   // quantize-in-producer: the int8 (or fp16) activations of the rows
  int rows;
  int splits;  // the partial launch's
};

// geglu: y = gelu_tanh(a) · b; add: y = a + b; scale_by: y = a · *factor; softcap: y =
// cap · tanh(a / cap). y may equal a or b.
struct ElementwiseArgs {
  const float* a;
  const float* b;
  const float* factor;  // scale_by: one float in device memory (the layer_output_scale weight)
  float* y;
  long long count;
  float cap;
  int vectorized;  // 1: a, b, y 16-byte aligned (the kernel handles any count)
};

// geglu {quantize}: y = gelu_tanh(gate) · up over `rows` rows of `cols` floats (cols % 256 == 0,
// every pointer 16-byte aligned; y may be gate or up), and y's int8 activations at x_q.
struct GegluQuantizeArgs {
  const float* gate;
  const float* up;
  float* y;
  void* x_q;
  long long cols;
  int rows;
};

// tokens[r] = the first index of the largest of logits[r, 0 .. vocab).
struct SampleArgs {
  const float* logits;
  int* tokens;
  long long vocab;
  int vectorized;  // 1: logits 16-byte aligned and vocab % 4 == 0
};

// blocks[i] = random_block(params, i) for i < count (random_blocks.h).
struct RandomWeightsArgs {
  RandomTensorParams params;
  void* blocks;
  long long count;
};

// The host launchers and NVRTC must lay every struct out alike (LP64 on both sides); each
// compiler checks the sizes when it reads this header.
static_assert(sizeof(EmbedGatherArgs) == 48 && sizeof(PleCombineArgs) == 64 && sizeof(RmsNormArgs) == 48 &&
                  sizeof(AddRmsNormArgs) == 88 && sizeof(RmsNormRopeArgs) == 72 &&
                  sizeof(AttentionHeadsArgs) == 32 && sizeof(AttentionInputsArgs) == 168 &&
                  sizeof(RopeArgs) == 40 && sizeof(KvWriteArgs) == 64 && sizeof(AttentionPartialArgs) == 128 &&
                  sizeof(AttentionCombineArgs) == 40 && sizeof(ElementwiseArgs) == 48 && sizeof(GegluQuantizeArgs) == 48 && sizeof(SampleArgs) == 32 &&
                  sizeof(RandomWeightsArgs) == 40,
              "kernel argument layouts");

}  // namespace g4c
