// The CPU implementation of every plan op, float32, row by row: the plan interpreter executes
// plans with these, and the GPU kernels are tested against them. Rows are independent: a row's
// result never depends on the other rows.
#pragma once

#include <cstdint>
#include <vector>
#include <stdexcept>

#include "g4c/kernels/rope_angles.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/weights.h"

namespace g4c::cpu {

// An index outside its table (a token id, a position or a sequence slot) reached an op. The
// backends check every step's rows first (check_step_rows); this is the second line of defence,
// which the interpreter reports as an error instead of reading or writing out of bounds.
struct IndexError : std::out_of_range {
  using std::out_of_range::out_of_range;
};

// y[r, j] = Σ_i x[r, i] · W[j, i] for r < n (x: n × ne0, y: n × ne1), dequantizing W row by row.
void matmul(const HostTensor& w, const float* x, float* y, int64_t n);

// out[r] = dequantized table row ids[r] × scale.
void embed_gather(const HostTensor& table, const int32_t* ids, float scale, float* out, int64_t n);

// RMSNorm over each `group` consecutive elements of `total`; `weight` (group values) may be null.
void rms_norm(const float* x, const float* weight, float* y, int64_t total, int64_t group, float eps);

// NeoX RoPE on every head of each row (row_elems = heads × head_dim); pairs i < rotated_pairs
// rotate by pos · theta^(−2i/head_dim), computed in double.
void rope(const float* x, const int32_t* pos, float* y, int64_t n, int64_t row_elems, int64_t head_dim,
          int64_t rotated_pairs, double theta);

// cos and sin of RoPE pair `pair` at `position`, the angle pos · theta^(−2·pair/head_dim) as
// g4c/kernels/rope_angles.h factors it: those of the coarse and fine angles in double (positions
// reach 262143, past float's precision), each rounded to float, and their rounded product. Every
// RoPE of the CPU ops rotates by these, and the GPU's rope kernels compute the same expression.
using CosSin = RopeCosSin;
CosSin rope_cos_sin(double theta, int64_t head_dim, int64_t position, int64_t pair);
// The device's RoPE table (rope_angles.h's layout): rope_cos_sin of pairs 0 .. rotated_pairs−1 at
// positions 0 .. positions−1, [position][pair], then the fine and the coarse factors. The GPU's
// norm+RoPE kernels and attention over V alone rotate by it.
std::vector<CosSin> rope_table(double theta, int64_t head_dim, int64_t rotated_pairs, int64_t positions);

void geglu(const float* gate, const float* up, float* y, int64_t count);  // gelu_tanh(gate) ⊙ up
void add(const float* a, const float* b, float* y, int64_t count);
void scale(const float* x, float s, float* y, int64_t count);
void softcap(const float* x, float cap, float* y, int64_t count);

// The fused ops (plan ops add_rms_norm, rms_norm_rope), composed of the ops above so that a fused
// plan computes the bits of the unfused one. y may be residual (add_rms_norm) or x.
// y = residual + rms_norm(x) [⊙ weight], over each `group` of `total` elements.
void add_rms_norm(const float* residual, const float* x, const float* weight, float* y, int64_t total, int64_t group,
                  float eps);
// y = rope(rms_norm(x) [⊙ weight]) per head of head_dim elements (the norm's group).
void rms_norm_rope(const float* x, const float* weight, const int32_t* pos, float* y, int64_t n, int64_t row_elems,
                   float eps, int64_t head_dim, int64_t rotated_pairs, double theta);

// §3.2 for n rows: proj and rows are n × (layers · width); out is layer-major [layers][rows][width]
// with `out_rows` rows per layer (the step's width; rows n.. are left alone).
void ple_combine(const float* proj, const float* rows, const float* norm, float* out, int64_t n, int64_t out_rows,
                 int64_t layers, int64_t width, float proj_scale, float eps, float out_scale);

int32_t argmax(const float* row, int64_t count);  // the first maximum

// A KV cache in the layout the GPU uses: for each sequence, `slots` rows of kv_heads × head_dim
// elements of `dtype` (F32, F16 or BF16), K and V in separate arrays. Ring caches keep position p
// in slot p mod slots. A v_only cache (plan::KvStorage) has no K array: the key at position p is
// rope(V ⊙ k_norm) at p, with the cache's k_from_v.
struct KvCacheView {
  void* k = nullptr;  // null on a v_only cache
  void* v = nullptr;
  QuantType dtype = QuantType::F32;
  plan::KvKind kind = plan::KvKind::full;
  int64_t slots = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t sequences = 0;  // sequence slots the arrays hold; 0: not checked
  const float* k_norm = nullptr;  // head_dim floats; set on a v_only cache
  int64_t rotated_pairs = 0;
  double theta = 0;

  bool v_only() const { return k_norm != nullptr; }
  int64_t row_elems() const { return kv_heads * head_dim; }
  // Throws IndexError unless (seq, pos) is a slot of this cache.
  void check(int64_t seq, int64_t pos) const;
  int64_t slot_of(int64_t pos) const { return kind == plan::KvKind::ring ? pos % slots : pos; }
  int64_t element_index(int64_t seq, int64_t pos) const { return (seq * slots + slot_of(pos)) * row_elems(); }
  float load(const void* base, int64_t index) const;
  void store(void* base, int64_t index, float value) const;  // rounds to dtype
  // The key of KV head `head` at position `pos` of sequence `seq` (head_dim floats): K as stored,
  // or on a v_only cache rebuilt from V — each element times k_norm, then pairs i < rotated_pairs
  // rotated at `pos` exactly as rope rotates them.
  void load_key(int64_t seq, int64_t pos, int64_t head, float* key) const;
};

// Stores each row's K and V (already normed and roped) at its position; rows with seq < 0 are
// padding and store nothing. A v_only cache stores V alone (k is not read and may be null).
void kv_write(const float* k, const float* v, const int32_t* pos, const int32_t* seq, int64_t n, KvCacheView& cache);

// Decode attention of each row's query over its sequence's cache: query head h reads KV head
// h / (q_heads / kv_heads), keys at positions [max(0, p − window + 1), p] (window 0: [0, p]),
// softmax(q·k × scale) · v. Padding rows (seq < 0) produce zeros.
void attention(const float* q, const int32_t* pos, const int32_t* seq, int64_t n, const KvCacheView& cache,
               int64_t q_heads, int64_t window, float scale, float* out);

}  // namespace g4c::cpu
