// What `g4c import` reads from a gemma4 GGUF file, in the declaration's terms, before it is
// written out as TOML (import.cpp) and checked against the file's tensors.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "g4c/gguf/file.h"
#include "g4c/spec/model_spec.h"

namespace g4c::gguf::detail {

struct ImportedKind {
  bool present = false;  // some layer is of this kind
  int64_t head_dim = 0;
  int64_t kv_heads = 0;
  int64_t window = 0;      // sliding only
  std::string rope_theta;  // TOML float text of the stored value
  double rope_fraction = 1.0;
  bool k_eq_v = false;  // global only
};

struct ImportedModel {
  std::string name;
  int64_t vocab = 0;
  int64_t hidden = 0;
  int layers = 0;
  int64_t context = 0;
  std::string rms_eps;  // TOML float text
  std::optional<std::string> final_softcap;
  bool tied_embeddings = true;
  bool layer_output_scale = true;
  int64_t query_heads = 0;
  std::vector<LayerKind> kinds;  // one per layer
  int shared_kv_layers = 0;
  ImportedKind sliding;
  ImportedKind global;
  std::vector<int64_t> ffn_widths;                     // one per layer
  int64_t ple_width = 0;                               // 0: no per-layer embeddings
  std::optional<int64_t> ple_vocab;                    // only when per_layer_token_embd's rows differ from vocab
  std::vector<std::pair<int, bool>> attn_v_overrides;  // (layer, has attn_v) where it departs from k_eq_v
  std::vector<std::string> notes;                      // `# note:` lines for the output

  const ImportedKind& kind(LayerKind k) const { return k == LayerKind::sliding ? sliding : global; }
};

// Reads the gemma4.* metadata and the tensor facts the metadata does not carry (tied embeddings,
// layer_output_scale, k_eq_v, rope_freqs). Reports the first problem at the file and returns
// nullopt.
std::optional<ImportedModel> read_imported_model(const File& file, DiagnosticEngine& diag);


}  // namespace g4c::gguf::detail
