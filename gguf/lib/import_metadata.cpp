// gemma4 GGUF metadata (shared/reference/gemma4.md §7.1) and tensor presence → ImportedModel.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <span>

#include "g4c/spec/limits.h"
#include "g4c/support/text.h"
#include "imported_model.h"

namespace g4c::gguf::detail {

namespace {

// rope_freqs factors at least this large hold a pair still (ggml divides the angle by the factor).
constexpr double kStillFactor = 1e20;

std::string layer_key(int layer, std::string_view tensor) {
  return "blk." + std::to_string(layer) + "." + std::string(tensor) + ".weight";
}

std::string index_list(const std::vector<int>& v) {
  std::vector<std::string> parts;
  for (int i : v) parts.push_back(std::to_string(i));
  return join(parts);
}

// Typed access to the file's metadata; every problem is one keyed error at the file.
class MetadataReader {
 public:
  MetadataReader(const File& file, DiagnosticEngine& diag)
      : file_(file), diag_(diag), loc_{std::make_shared<const std::string>(file.path()), 0, 0} {}

  const File& file() const { return file_; }
  std::optional<std::vector<uint8_t>> tensor_bytes(const TensorInfo& t) { return file_.read_tensor(t, diag_); }

  bool fail(std::string_view key, std::string_view what, std::string_view got = {}, std::string_view expected = {}) {
    diag_.error(loc_, keyed_message(key, what, got, expected));
    return false;
  }

  const Value* get(std::string_view key, bool required, std::string_view expected) {
    const Value* v = file_.find(key);
    if (!v && required) fail(key, "missing from the file's metadata", {}, expected);
    return v;
  }

  std::optional<int64_t> integer(std::string_view key, bool required, int64_t min, int64_t max,
                                 std::string_view meaning) {
    const Value* v = get(key, required, meaning);
    if (!v) return std::nullopt;
    return checked_int(key, *v, min, max, meaning);
  }

  std::optional<double> number(std::string_view key, bool required, std::string_view meaning) {
    const Value* v = get(key, required, meaning);
    if (!v) return std::nullopt;
    auto x = v->as_float();
    if (!x || !std::isfinite(*x)) {
      fail(key, "not a number", v->summary(), meaning);
      return std::nullopt;
    }
    return x;
  }

  // The value as TOML float text: f32 values print as the float the file stored ("1e-06").
  std::string float_text(std::string_view key) {
    const Value* v = file_.find(key);
    if (v->type == ValueType::f32) return g4c::float_text(format_float32(static_cast<float>(*v->as_float())));
    return g4c::float_text(format_double(*v->as_float()));
  }

  // A scalar (the same on every layer) or an array of one value per layer.
  std::optional<std::vector<int64_t>> per_layer(std::string_view key, int layers, int64_t min, int64_t max,
                                                std::string_view meaning) {
    const Value* v = get(key, true, meaning);
    if (!v) return std::nullopt;
    if (!v->is_array()) {
      auto x = checked_int(key, *v, min, max, meaning);
      if (!x) return std::nullopt;
      return std::vector<int64_t>(layers, *x);
    }
    if (v->items.size() != static_cast<size_t>(layers)) {
      fail(key, "needs one entry per layer", std::to_string(v->items.size()) + " entries",
           std::to_string(layers) + " (gemma4.block_count)");
      return std::nullopt;
    }
    std::vector<int64_t> out;
    for (size_t i = 0; i < v->items.size(); ++i) {
      auto x = checked_int(std::string(key) + "[" + std::to_string(i) + "]", v->items[i], min, max, meaning);
      if (!x) return std::nullopt;
      out.push_back(*x);
    }
    return out;
  }

  std::optional<std::vector<bool>> bool_per_layer(std::string_view key, int layers, std::string_view meaning) {
    const Value* v = get(key, true, meaning);
    if (!v) return std::nullopt;
    auto bools = v->as_bool_array();
    if (!bools) {
      fail(key, "not an array of booleans", v->summary(), meaning);
      return std::nullopt;
    }
    if (bools->size() != static_cast<size_t>(layers)) {
      fail(key, "needs one entry per layer", std::to_string(bools->size()) + " entries",
           std::to_string(layers) + " (gemma4.block_count)");
      return std::nullopt;
    }
    return bools;
  }

 private:
  std::optional<int64_t> checked_int(std::string_view key, const Value& v, int64_t min, int64_t max,
                                     std::string_view meaning) {
    auto x = v.as_int();
    if (!x) {
      fail(key, "not an integer", v.summary() + " (" + value_type_name(v.type) + ")", meaning);
      return std::nullopt;
    }
    if (*x < min || *x > max) {
      fail(key, "out of range", std::to_string(*x), std::to_string(min) + ".." + std::to_string(max));
      return std::nullopt;
    }
    return x;
  }

  const File& file_;
  DiagnosticEngine& diag_;
  SourceLoc loc_;
};

// A model name the schema accepts: letters, digits, '-', '_', '.'; anything else becomes '-'.
std::string model_name(const File& file) {
  std::string raw;
  if (const Value* v = file.find("general.name"); v && v->is_string()) raw = v->text;
  if (raw.empty()) {
    raw = file.path().substr(file.path().find_last_of('/') + 1);
    if (raw.ends_with(".gguf")) raw.resize(raw.size() - 5);
  }
  std::string name;
  for (char c : raw) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (ok || (!name.empty() && name.back() != '-')) name += ok ? c : '-';
  }
  if (name.size() > kMaxModelNameBytes) name.resize(kMaxModelNameBytes);
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name.empty() ? "imported" : name;
}

bool read_dimensions(MetadataReader& m, ImportedModel& out) {
  const Value* arch = m.get("general.architecture", true, "\"gemma4\"");
  if (!arch) return false;
  if (!arch->is_string() || arch->text != "gemma4")
    return m.fail("general.architecture", "not a Gemma 4 file", arch->summary(), "\"gemma4\"");
  // A MoE file (26B-A4B) also has the dense FFN tensors; importing it as dense would be wrong.
  if (const Value* experts = m.file().find("gemma4.expert_count"); experts && experts->as_int() != 0)
    return m.fail("gemma4.expert_count", "mixture-of-experts models are not supported by g4c", experts->summary(),
                  "0 or absent (a dense model)");
  auto layers = m.integer("gemma4.block_count", true, 1, kMaxLayers, "the number of layers");
  if (!layers) return false;
  out.layers = static_cast<int>(*layers);
  auto hidden = m.integer("gemma4.embedding_length", true, 1, kMaxDim, "the residual width");
  auto context = hidden ? m.integer("gemma4.context_length", true, 1, kMaxDim, "the context length") : std::nullopt;
  if (!context) return false;
  out.hidden = *hidden;
  out.context = *context;
  auto heads = m.per_layer("gemma4.attention.head_count", out.layers, 1, kMaxHeads, "the query heads");
  if (!heads) return false;
  for (int i = 1; i < out.layers; ++i)
    if ((*heads)[i] != (*heads)[0])
      return m.fail("gemma4.attention.head_count", "layers differ",
                    std::to_string((*heads)[0]) + " on layer 0, " + std::to_string((*heads)[i]) + " on layer " +
                        std::to_string(i),
                    "one query head count for every layer");
  out.query_heads = (*heads)[0];
  auto shared = m.integer("gemma4.attention.shared_kv_layers", false, 0, out.layers - 1, "the KV-shared tail");
  if (!shared && m.file().find("gemma4.attention.shared_kv_layers")) return false;
  out.shared_kv_layers = static_cast<int>(shared.value_or(0));
  return true;
}

// An embedding table's rows, which count a vocabulary when the metadata does not: held to the
// limit the metadata's own vocab_size is held to.
std::optional<int64_t> table_rows(MetadataReader& m, const TensorInfo& t) {
  if (t.ne(1) >= 1 && t.ne(1) <= kMaxDim) return t.ne(1);
  m.fail(t.name, "rows (one per token) out of range", std::to_string(t.ne(1)), "1.." + std::to_string(kMaxDim));
  return std::nullopt;
}

bool read_vocab(MetadataReader& m, ImportedModel& out) {
  const TensorInfo* embd = m.file().find_tensor("token_embd.weight");
  if (m.file().find("gemma4.vocab_size")) {
    auto vocab = m.integer("gemma4.vocab_size", true, 1, kMaxDim, "the vocabulary size");
    if (!vocab) return false;
    out.vocab = *vocab;
  } else if (embd) {
    auto rows = table_rows(m, *embd);
    if (!rows) return false;
    out.vocab = *rows;
  } else {
    return m.fail("gemma4.vocab_size", "missing from the file's metadata, and there is no token_embd.weight to count",
                  {}, "the vocabulary size");
  }
  const TensorInfo* ple = m.file().find_tensor("per_layer_token_embd.weight");
  if (out.ple_width == 0 || !ple) return true;
  auto ple_rows = table_rows(m, *ple);
  if (!ple_rows) return false;
  if (*ple_rows != out.vocab) out.ple_vocab = *ple_rows;
  return true;
}

// The layers whose head_count_kv entry describes a cache of `kind`: the layers that own one, or
// all layers of the kind when every one of them is shared (a shared layer's entry may describe
// the cache it reads, or nothing).
std::vector<int> kv_head_layers(const ImportedModel& out, LayerKind kind) {
  std::vector<int> owners, all;
  for (int i = 0; i < out.layers; ++i) {
    if (out.kinds[i] != kind) continue;
    all.push_back(i);
    if (i < out.layers - out.shared_kv_layers) owners.push_back(i);
  }
  return owners.empty() ? all : owners;
}

bool read_layer_kinds(MetadataReader& m, ImportedModel& out) {
  auto sliding = m.bool_per_layer("gemma4.attention.sliding_window_pattern", out.layers,
                                  "one boolean per layer, true for sliding layers");
  if (!sliding) return false;
  for (bool s : *sliding) out.kinds.push_back(s ? LayerKind::sliding : LayerKind::global);
  auto kv = m.per_layer("gemma4.attention.head_count_kv", out.layers, 0, kMaxHeads, "the KV heads");
  if (!kv) return false;
  for (LayerKind kind : {LayerKind::sliding, LayerKind::global}) {
    std::vector<int> layers = kv_head_layers(out, kind);
    if (layers.empty()) continue;
    ImportedKind& k = kind == LayerKind::sliding ? out.sliding : out.global;
    k.present = true;
    int first = layers.front();
    k.kv_heads = (*kv)[first];
    if (k.kv_heads < 1)
      return m.fail("gemma4.attention.head_count_kv", "layer " + std::to_string(first) + " has no KV heads", "0",
                    "1.." + std::to_string(kMaxHeads));
    for (int i : layers)
      if ((*kv)[i] != k.kv_heads)
        return m.fail("gemma4.attention.head_count_kv", std::string(name(kind)) + " layers differ",
                      std::to_string(k.kv_heads) + " on layer " + std::to_string(first) + ", " +
                          std::to_string((*kv)[i]) + " on layer " + std::to_string(i),
                      "one KV head count per layer kind");
  }
  return true;
}

// A factor of rope_freqs as a double (F32, F16 or BF16 storage).
double rope_factor(const TensorInfo& t, std::span<const uint8_t> data, int64_t i) {
  if (t.ggml_type == ggml::F32) {
    float f;
    std::memcpy(&f, data.data() + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, data.data() + 2 * i, 2);
  if (t.ggml_type == ggml::BF16) return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double magnitude = exponent == 0    ? std::ldexp(mantissa, -24)
                     : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                      : std::ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

// rope_freqs holds 1 for every rotated pair and a huge factor for the rest (gemma4.md §2.4);
// only a prefix of rotated pairs is proportional RoPE.
std::optional<int64_t> rotated_pairs_from_freqs(MetadataReader& m, const TensorInfo& t) {
  if (t.ggml_type != ggml::F32 && t.ggml_type != ggml::F16 && t.ggml_type != ggml::BF16) {
    m.fail(t.name, "RoPE factors must be floats", ggml_type_name(t.ggml_type), "F32, F16 or BF16");
    return std::nullopt;
  }
  int64_t n = t.elements();
  if (n > kMaxHeadDim / 2) {  // checked before the factors are read into memory
    m.fail(t.name, "more RoPE factors than a head has pairs", std::to_string(n), "at most " + std::to_string(kMaxHeadDim / 2));
    return std::nullopt;
  }
  auto data = m.tensor_bytes(t);
  if (!data) return std::nullopt;
  int64_t ones = 0;
  while (ones < n && rope_factor(t, *data, ones) == 1.0) ++ones;
  for (int64_t i = ones; i < n; ++i) {
    double f = rope_factor(t, *data, i);
    if (!(f >= kStillFactor)) {
      m.fail(t.name,
             "factor " + format_double(f) + " of pair " + std::to_string(i) +
                 " is neither 1 (rotated) nor >= 1e20 (held still)",
             {}, "proportional RoPE: factors of 1 on the first pairs, then very large ones");
      return std::nullopt;
    }
  }
  if (ones == 0) {
    m.fail(t.name, "no pair rotates (no factor is 1)", {}, "factors of 1 on the rotated pairs");
    return std::nullopt;
  }
  return ones;
}

// The smallest fraction f with int(f · head_dim / 2) == pairs, as the schema computes it.
double fraction_for_pairs(int64_t pairs, int64_t head_dim) {
  double f = 2.0 * static_cast<double>(pairs) / static_cast<double>(head_dim);
  while (static_cast<int64_t>(f * static_cast<double>(head_dim) / 2) < pairs) f = std::nextafter(f, 2.0);
  return f;
}

bool read_kind(MetadataReader& m, LayerKind kind, ImportedModel& out) {
  ImportedKind& k = kind == LayerKind::sliding ? out.sliding : out.global;
  if (!k.present) return true;
  std::string suffix = kind == LayerKind::sliding ? "_swa" : "";
  std::string key_length = "gemma4.attention.key_length" + suffix;
  auto head_dim = m.integer(key_length, true, 1, kMaxHeadDim, "the " + std::string(name(kind)) + " head_dim");
  if (!head_dim) return false;
  k.head_dim = *head_dim;
  std::string value_length = "gemma4.attention.value_length" + suffix;
  if (m.file().find(value_length)) {
    auto v = m.integer(value_length, true, 1, kMaxHeadDim, "the V head size");
    if (!v) return false;
    if (*v != k.head_dim)
      return m.fail(value_length, "V heads differ from K heads", std::to_string(*v),
                    std::to_string(k.head_dim) + " (" + key_length + ")");
  }
  std::string freq_base = "gemma4.rope.freq_base" + suffix;
  auto theta = m.number(freq_base, true, "the " + std::string(name(kind)) + " RoPE base");
  if (!theta) return false;
  if (*theta <= 0) return m.fail(freq_base, "must be positive", format_double(*theta), "a RoPE base such as 10000");
  k.rope_theta = m.float_text(freq_base);
  if (kind == LayerKind::sliding) {
    auto window = m.integer("gemma4.attention.sliding_window", true, 1, kMaxDim, "the sliding window");
    if (!window) return false;
    k.window = *window;
  }
  // g4c's RoPE rotates int(fraction · d/2) pairs with the exponent over the full head, which is
  // llama.cpp's full-head rotation with rope_freqs holding the other pairs still. A rotation over
  // fewer dimensions (llama.cpp's partial rotary, exponent over those dimensions) is another function.
  std::string dims_key = "gemma4.rope.dimension_count" + suffix;
  auto n_rot = m.integer(dims_key, false, 2, kMaxHeadDim, "the rotated dimensions");
  if (!n_rot && m.file().find(dims_key)) return false;
  if (n_rot && *n_rot != k.head_dim)
    return m.fail(dims_key, "rotary embedding over part of the head is not supported", std::to_string(*n_rot),
                  std::to_string(k.head_dim) + " (" + key_length + "), with rope_freqs.weight holding pairs still");
  const TensorInfo* freqs = m.file().find_tensor("rope_freqs.weight");
  if (kind == LayerKind::global && freqs) {
    auto pairs = rotated_pairs_from_freqs(m, *freqs);
    if (!pairs) return false;
    k.rope_fraction = fraction_for_pairs(std::min<int64_t>(*pairs, k.head_dim / 2), k.head_dim);
  }
  return true;
}

bool read_ffn_and_ple(MetadataReader& m, ImportedModel& out) {
  auto widths = m.per_layer("gemma4.feed_forward_length", out.layers, 1, kMaxDim, "the FFN width");
  if (!widths) return false;
  out.ffn_widths = *widths;
  std::string ple_key = "gemma4.embedding_length_per_layer_input";
  auto ple = m.integer(ple_key, false, 0, kMaxDim, "the per-layer embedding width");
  if (!ple && m.file().find(ple_key)) return false;
  out.ple_width = ple.value_or(0);
  return true;
}

bool read_norms_and_head(MetadataReader& m, ImportedModel& out) {
  std::string eps_key = "gemma4.attention.layer_norm_rms_epsilon";
  auto eps = m.number(eps_key, true, "the RMSNorm epsilon");
  if (!eps) return false;
  if (*eps <= 0)
    return m.fail(eps_key, "must be positive", format_double(*eps), "a small positive number such as 1e-6");
  out.rms_eps = m.float_text(eps_key);
  std::string cap_key = "gemma4.final_logit_softcapping";
  if (m.file().find(cap_key)) {
    auto cap = m.number(cap_key, true, "the final logit softcap");
    if (!cap) return false;
    if (*cap < 0) return m.fail(cap_key, "must not be negative", format_double(*cap), "0 (none) or a cap such as 30");
    if (*cap > 0) out.final_softcap = m.float_text(cap_key);
  }
  out.tied_embeddings = m.file().find_tensor("output.weight") == nullptr;
  return true;
}

// layer_output_scale is all or nothing in the schema.
bool read_layer_output_scale(MetadataReader& m, ImportedModel& out) {
  std::vector<int> with, without;
  for (int i = 0; i < out.layers; ++i)
    (m.file().find_tensor(layer_key(i, "layer_output_scale")) ? with : without).push_back(i);
  out.layer_output_scale = !with.empty();
  if (with.empty() || without.empty()) return true;
  return m.fail(layer_key(without.front(), "layer_output_scale"),
                "missing, though layers " + index_list(with) + " have one", {}, "the tensor on every layer or on none");
}

// k_eq_v is the absence of attn_v on a global layer that owns its cache; the kind takes the
// majority, and layers that depart from it get a [[layer]] override.
void read_k_eq_v(const File& file, ImportedModel& out) {
  std::vector<int> with_v, without_v;
  for (int i = 0; i < out.layers - out.shared_kv_layers; ++i)
    if (out.kinds[i] == LayerKind::global) (file.find_tensor(layer_key(i, "attn_v")) ? with_v : without_v).push_back(i);
  out.global.k_eq_v = !without_v.empty() && without_v.size() >= with_v.size();
  for (int i : out.global.k_eq_v ? with_v : without_v) out.attn_v_overrides.emplace_back(i, out.global.k_eq_v);
}

}  // namespace

std::optional<ImportedModel> read_imported_model(const File& file, DiagnosticEngine& diag) {
  MetadataReader m(file, diag);
  ImportedModel out;
  out.name = model_name(file);
  bool ok = read_dimensions(m, out) && read_layer_kinds(m, out) && read_kind(m, LayerKind::sliding, out) &&
            read_kind(m, LayerKind::global, out) && read_ffn_and_ple(m, out) && read_vocab(m, out) &&
            read_norms_and_head(m, out) && read_layer_output_scale(m, out);
  if (!ok) return std::nullopt;
  read_k_eq_v(file, out);
  return out;
}

}  // namespace g4c::gguf::detail
