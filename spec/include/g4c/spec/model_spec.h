// ModelSpec: one Gemma 4 text decoder, as declared in TOML and fully derived per layer.
//
// The declared part mirrors the schema in docs/model-schema.md. The derived part (layers,
// tensors) is what every later stage reads: no stage re-derives a layer's kind, cache source,
// V projection or tensor type from the declaration.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/spec/quant_type.h"
#include "g4c/support/config_reader.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

enum class LayerKind : uint8_t { sliding, global };
std::string_view name(LayerKind k);

// Where a shared-KV tail layer reads its cache from.
enum class SharedKvSource : uint8_t {
  last_of_kind,  // transformers: the last layer of the same kind before the shared range
  llama_cpp,     // llama.cpp: sliding layers read n_kv_start−2, global ones n_kv_start−1
};
std::string_view name(SharedKvSource s);

// The tensor classes a quant recipe assigns types to. `norms` covers every vector
// (norm weights, layer_output_scale, rope_freqs, per_layer_proj_norm).
enum class TensorClass : uint8_t {
  token_embd, output, attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down,
  per_layer_token_embd, per_layer_model_proj, inp_gate, proj, norms,
};
inline constexpr int kTensorClassCount = 14;
std::string_view name(TensorClass c);
std::optional<TensorClass> parse_tensor_class(std::string_view s);
bool is_ple_class(TensorClass c);
// Classes with one tensor per layer (the ones quant rules and [[layer]] overrides select).
bool is_per_layer_class(TensorClass c);

// Per layer kind attention parameters ([attention.sliding] / [attention.global]).
struct AttentionKindSpec {
  bool declared = false;
  int head_dim = 0;
  int kv_heads = 0;
  int window = 0;  // sliding only; 0 on global layers (they see the whole context)
  double rope_theta = 0;
  double rope_fraction = 1.0;
  bool k_eq_v = false;

  // Rotated RoPE pairs: int(fraction · head_dim / 2), as transformers' proportional RoPE.
  int rotated_pairs() const { return static_cast<int>(rope_fraction * head_dim / 2); }
};

struct QuantRule {
  std::vector<TensorClass> classes;
  enum class Select : uint8_t { use_more_bits, layers } select = Select::layers;
  std::vector<int> layers;  // for Select::layers
  QuantType type = QuantType::F32;
  std::string key_path;     // "quant.rule[0]"
};

struct LayerOverride {
  int index = 0;
  std::optional<LayerKind> kind;
  std::optional<bool> attn_v;
  std::optional<int> ffn_width;
  std::map<TensorClass, QuantType> quant;
  std::string key_path;  // "layer[0]"
};

// One layer, fully derived.
struct LayerSpec {
  int index = 0;
  LayerKind kind = LayerKind::sliding;
  int head_dim = 0;
  int q_heads = 0;
  int kv_heads = 0;
  int window = 0;  // 0: the whole context
  double rope_theta = 0;
  int rotated_pairs = 0;  // < head_dim/2 means proportional RoPE
  bool owns_kv = true;    // false on shared-KV tail layers
  int kv_source = 0;      // the layer whose cache this layer reads (itself when it owns one)
  bool has_v_proj = true; // false on k_eq_v layers and shared-KV layers
  int ffn_width = 0;

  bool k_eq_v() const { return owns_kv && !has_v_proj; }
  bool proportional_rope() const { return rotated_pairs < head_dim / 2; }
};

// One weight tensor of the model, named as llama.cpp's gemma4 GGUF names it.
struct TensorSpec {
  std::string name;     // "blk.5.attn_q.weight"
  TensorClass cls;
  int layer = -1;       // -1 for model-wide tensors
  int64_t ne0 = 0;      // input features (the row length)
  int64_t ne1 = 1;      // output features (rows); 1 for vectors
  QuantType type = QuantType::F32;
  std::string type_from;  // the declaration key that chose the type: "quant.default", "quant.rule[0]"

  int64_t elements() const { return ne0 * ne1; }
  int64_t bytes() const { return row_bytes(type, ne0) * ne1; }
  bool is_matrix() const { return ne1 > 1; }
};

struct ModelSpec {
  // ---- declared ----
  std::string name;
  std::string source_path;  // the file the user named
  std::vector<std::string> source_files;  // every file read: source_path, then the files it extends
  int64_t vocab = 0;
  int64_t hidden = 0;
  int num_layers = 0;
  int64_t context = 0;
  double rms_eps = 1e-6;
  bool tied_embeddings = true;
  double embedding_scale = 0;         // resolved number (√hidden unless declared)
  bool embedding_scale_is_sqrt_hidden = true;
  bool layer_output_scale = true;
  std::optional<double> final_softcap;

  int query_heads = 0;
  AttentionKindSpec sliding;
  AttentionKindSpec global;
  QuantType kv_dtype = QuantType::F16;
  std::optional<int> pattern_period;      // layer_pattern = {period, global}
  std::vector<int> pattern_global;
  std::vector<LayerKind> explicit_kinds;  // layer_kinds = [...]
  int shared_kv_layers = 0;
  SharedKvSource shared_kv_source = SharedKvSource::last_of_kind;

  std::vector<int> ffn_widths;  // declared: one entry (all layers) or one per layer
  bool ffn_double_wide_shared_kv = false;

  int ple_width = 0;      // 0: no per-layer embeddings
  int64_t ple_vocab = 0;

  QuantType quant_default = QuantType::F32;
  std::map<TensorClass, QuantType> quant_class;
  std::vector<QuantRule> quant_rules;
  std::vector<LayerOverride> overrides;

  // Where each declared key was written: "attention.sliding.window" → file:line:col.
  KeyLocations key_locs;

  // ---- derived (resolve_model) ----
  std::vector<LayerSpec> layers;
  std::vector<TensorSpec> tensors;

  bool has_ple() const { return ple_width > 0; }
  int first_shared_layer() const { return num_layers - shared_kv_layers; }
  const AttentionKindSpec& kind_spec(LayerKind k) const { return k == LayerKind::sliding ? sliding : global; }
  SourceLoc loc(std::string_view key_path) const;  // the key's location, or the nearest declared parent's
  const TensorSpec* find_tensor(std::string_view name) const;
};

// llama.cpp's rule for giving some layers more bits in Q4_K_M/Q5_K_M mixes: the first and last
// eighth of the tensors of a class, and every third one in between.
bool use_more_bits(int ordinal, int count);

}  // namespace g4c
