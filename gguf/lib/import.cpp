// `g4c import`: the metadata read by import_metadata.cpp is written as a declaration, loaded back
// through the spec library (which derives the tensor list the schema implies), checked against
// the file's tensors, given the quant recipe of their types, and loaded once more to prove that
// every tensor gets exactly the type it has in the file.
#include "g4c/gguf/import.h"

#include <set>

#include "g4c/spec/load.h"
#include "g4c/support/text.h"
#include "imported_model.h"

namespace g4c::gguf {

namespace {

using detail::ImportedKind;
using detail::ImportedModel;

std::string int_list(const std::vector<int>& v) {
  std::vector<std::string> parts;
  for (int i : v) parts.push_back(std::to_string(i));
  return join(parts);
}

// Text from the file (tensor names, the path) made safe for a TOML comment: control characters
// and bytes that are not valid UTF-8 become '?', so a hostile name cannot end the comment or make
// the document unreadable.
std::string comment_safe(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && length == 1) valid = c >= 0x20 && c != 0x7f;
    out += valid ? text.substr(i, length) : "?";
    i += valid ? length : 1;
  }
  return out;
}

std::string shape_text(const TensorSpec& t) {
  std::string s = std::string("[") + std::to_string(t.ne0);
  if (t.is_matrix()) s += ", " + std::to_string(t.ne1);
  return s + "]";
}

// The smallest period that repeats the layer kinds at least twice, if there is one.
std::optional<int> kind_period(const std::vector<LayerKind>& kinds) {
  int n = static_cast<int>(kinds.size());
  for (int p = 1; 2 * p <= n; ++p) {
    bool repeats = true;
    for (int i = p; i < n && repeats; ++i) repeats = kinds[i] == kinds[i % p];
    if (repeats) return p;
  }
  return std::nullopt;
}

std::string model_toml(const ImportedModel& m) {
  std::string s = "[model]\n";
  s += "name = " + quote(m.name) + "\n";
  s += "vocab = " + std::to_string(m.vocab) + "\n";
  s += "hidden = " + std::to_string(m.hidden) + "\n";
  s += "layers = " + std::to_string(m.layers) + "\n";
  s += "context = " + std::to_string(m.context) + "\n";
  s += "rms_eps = " + m.rms_eps + "\n";
  s += std::string("tied_embeddings = ") + (m.tied_embeddings ? "true" : "false") + "\n";
  s += "embedding_scale = \"sqrt_hidden\"\n";
  s += std::string("layer_output_scale = ") + (m.layer_output_scale ? "true" : "false") + "\n";
  if (m.final_softcap) s += "final_softcap = " + *m.final_softcap + "\n";
  return s;
}

std::string layer_kinds_toml(const std::vector<LayerKind>& kinds) {
  std::vector<int> global;
  for (size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i] == LayerKind::global) global.push_back(static_cast<int>(i));
  if (auto period = kind_period(kinds)) {
    std::vector<int> positions;
    for (int i = 0; i < *period; ++i)
      if (kinds[i] == LayerKind::global) positions.push_back(i);
    return "layer_pattern = { period = " + std::to_string(*period) + ", global = [" + int_list(positions) +
           "] }   # global layers " + int_list(global) + "\n";
  }
  std::vector<std::string> names;
  for (LayerKind k : kinds) names.push_back(quote(name(k)));
  return "layer_kinds = [" + join(names) + "]\n";
}

std::string kind_toml(LayerKind kind, const ImportedKind& k) {
  std::string s = "\n[attention." + std::string(name(kind)) + "]\n";
  s += "head_dim = " + std::to_string(k.head_dim) + "\n";
  s += "kv_heads = " + std::to_string(k.kv_heads) + "\n";
  if (kind == LayerKind::sliding) s += "window = " + std::to_string(k.window) + "\n";
  s += "rope_theta = " + k.rope_theta + "\n";
  if (k.rope_fraction != 1.0) s += "rope_fraction = " + float_text(format_double(k.rope_fraction)) + "\n";
  if (k.k_eq_v) s += "k_eq_v = true\n";
  return s;
}

std::string attention_toml(const ImportedModel& m) {
  std::string s = "[attention]\n";
  s += "query_heads = " + std::to_string(m.query_heads) + "\n";
  s += layer_kinds_toml(m.kinds);
  if (m.shared_kv_layers > 0) {
    s += "shared_kv_layers = " + std::to_string(m.shared_kv_layers) + "\n";
    s += "shared_kv_source = \"last-of-kind\"\n";
  }
  for (LayerKind kind : {LayerKind::sliding, LayerKind::global})
    if (m.kind(kind).present) s += kind_toml(kind, m.kind(kind));
  return s;
}

std::string ffn_toml(const ImportedModel& m) {
  const std::vector<int64_t>& w = m.ffn_widths;
  int first_shared = m.layers - m.shared_kv_layers;
  bool uniform = true, double_wide = m.shared_kv_layers > 0;
  for (int i = 0; i < m.layers; ++i) {
    uniform = uniform && w[i] == w[0];
    double_wide = double_wide && w[i] == (i < first_shared ? w[0] : 2 * w[0]);
  }
  if (uniform) return "[ffn]\nwidth = " + std::to_string(w[0]) + "\n";
  if (double_wide) return "[ffn]\nwidth = " + std::to_string(w[0]) + "\ndouble_wide_shared_kv = true\n";
  std::vector<std::string> parts;
  for (int64_t x : w) parts.push_back(std::to_string(x));
  return "[ffn]\nwidth = [" + join(parts) + "]\n";
}

std::string ple_toml(const ImportedModel& m) {
  if (m.ple_width == 0) return {};
  std::string s = "\n[ple]\nwidth = " + std::to_string(m.ple_width) + "\n";
  if (m.ple_vocab) s += "vocab = " + std::to_string(*m.ple_vocab) + "\n";
  return s;
}

std::string layer_overrides_toml(const ImportedModel& m) {
  std::string s;
  for (const auto& [layer, has_v] : m.attn_v_overrides)
    s += "\n[[layer]]\nindex = " + std::to_string(layer) + "\nattn_v = " + (has_v ? "true" : "false") + "\n";
  return s;
}

std::string declaration_toml(const ImportedModel& m, const QuantRecipe& recipe) {
  return model_toml(m) + "\n" + attention_toml(m) + "\n" + ffn_toml(m) + ple_toml(m) + "\n" + recipe.to_toml() +
         layer_overrides_toml(m);
}

std::string supported_types() {
  std::span<const std::string> names = quant_type_names();
  return join(names.first(names.size() - 1)) + " or " + names.back();
}

class Importer {
 public:
  Importer(const File& file, DiagnosticEngine& diag)
      : file_(file), diag_(diag), loc_{std::make_shared<const std::string>(file.path()), 0, 0} {}

  std::optional<std::string> run() {
    auto model = detail::read_imported_model(file_, diag_);
    if (!model) return std::nullopt;
    // First pass: every matrix F32, which tiles any row, to learn the tensors the schema implies.
    auto shapes = load(declaration_toml(*model, QuantRecipe{}));
    if (!shapes) return std::nullopt;
    TensorTypes types;
    if (!check_tensors(*shapes, types)) return std::nullopt;
    auto recipe = infer_quant_recipe(*shapes, types, loc_, diag_);
    if (!recipe) return std::nullopt;
    note_unused_tensors(*shapes, *model);
    note_shared_kv_sources(*shapes, *model);
    std::string body = declaration_toml(*model, *recipe);
    auto spec = load(body);
    if (!spec || !check_types(*spec, types)) return std::nullopt;
    return header(*model) + "\n" + body;
  }

 private:
  bool fail(std::string_view key, std::string_view what, std::string_view got = {}, std::string_view expected = {}) {
    diag_.error(loc_, keyed_message(key, what, got, expected));
    return false;
  }

  // The schema's own checks (divisibility, windows, shared-KV sources) run on the declaration; a
  // failure means the file's metadata describes something the schema cannot.
  std::optional<ModelSpec> load(const std::string& toml) {
    DiagnosticEngine scratch;
    auto spec = load_model_spec_from_string(toml, file_.path() + " (imported declaration)", scratch);
    if (spec) return spec;
    for (const Diagnostic& d : scratch.diagnostics())
      if (d.severity == Severity::error) {
        diag_.error(loc_, "the metadata describes a model g4c cannot declare: " + d.message);
        break;
      }
    return std::nullopt;
  }

  bool check_tensors(const ModelSpec& spec, TensorTypes& types) {
    for (const TensorSpec& t : spec.tensors) {
      const TensorInfo* f = file_.find_tensor(t.name);
      if (!f) return fail(t.name, "tensor missing from the file", {}, shape_text(t) + ", as the metadata implies");
      if (f->ne(0) != t.ne0 || f->ne(1) != t.ne1 || f->ne(2) != 1 || f->ne(3) != 1)
        return fail(t.name, "shape does not match the metadata", f->shape(), shape_text(t));
      auto type = quant_type_from_ggml(f->ggml_type);
      if (!type)
        return fail(t.name, "tensor type not supported by g4c", ggml_type_name(f->ggml_type), supported_types());
      types[t.name] = *type;
    }
    return true;
  }

  // The recipe must reproduce the file exactly; anything else is a bug in infer_quant_recipe.
  bool check_types(const ModelSpec& spec, const TensorTypes& types) {
    for (const TensorSpec& t : spec.tensors)
      if (t.type != types.at(t.name))
        return fail(t.name, "internal error: the imported recipe gives " + std::string(name(t.type)) +
                                " where the file has " + std::string(name(types.at(t.name))) + " (please report this)");
    return true;
  }

  void note_unused_tensors(const ModelSpec& spec, ImportedModel& model) {
    std::set<std::string_view> used;
    for (const TensorSpec& t : spec.tensors) used.insert(t.name);
    for (const TensorInfo& f : file_.tensors()) {
      if (used.count(f.name)) continue;
      model.notes.push_back("ignored " + comment_safe(f.name) + " (" + ggml_type_name(f.ggml_type) + " " + f.shape() +
                            "): " + why_unused(spec, f.name));
    }
  }

  static std::string why_unused(const ModelSpec& spec, const std::string& tensor) {
    for (const LayerSpec& l : spec.layers) {
      std::string prefix = "blk." + std::to_string(l.index) + ".";
      if (l.owns_kv || !tensor.starts_with(prefix)) continue;
      std::string_view rest = std::string_view(tensor).substr(prefix.size());
      if (rest == "attn_k.weight" || rest == "attn_v.weight" || rest == "attn_k_norm.weight")
        return "layer " + std::to_string(l.index) + " reads the cache of layer " + std::to_string(l.kv_source) +
               " and projects no K or V";
    }
    if (tensor == "rope_freqs.weight") return "no layer uses proportional RoPE";
    return "not a tensor of the declared model";
  }

  // The declaration uses transformers' source rule; say so where llama.cpp's rule would differ.
  static void note_shared_kv_sources(const ModelSpec& spec, ImportedModel& model) {
    int first_shared = spec.first_shared_layer();
    std::set<LayerKind> noted;
    for (const LayerSpec& l : spec.layers) {
      if (l.owns_kv || noted.count(l.kind)) continue;
      int llama_source = first_shared - (l.kind == LayerKind::sliding ? 2 : 1);
      if (llama_source == l.kv_source) continue;
      noted.insert(l.kind);
      model.notes.push_back(
          "shared " + std::string(name(l.kind)) + " layers read the cache of layer " + std::to_string(l.kv_source) +
          " (last-of-kind, as transformers); llama.cpp would read layer " + std::to_string(llama_source));
    }
  }

  std::string header(const ImportedModel& model) const {
    std::string s = "# Gemma 4 model imported by `g4c import` from " + comment_safe(file_.path()) + " (GGUF v" +
                    std::to_string(file_.version()) + ", " + std::to_string(file_.tensors().size()) + " tensors).\n" +
                    "# Dimensions come from its gemma4.* metadata; k_eq_v, tied embeddings, layer_output_scale and\n" +
                    "# the quant recipe from which tensors it holds and their types.\n";
    for (const std::string& note : model.notes) s += "# note: " + note + "\n";
    return s;
  }

  const File& file_;
  DiagnosticEngine& diag_;
  SourceLoc loc_;
};

}  // namespace

std::optional<std::string> import_model(const File& file, DiagnosticEngine& diag) { return Importer(file, diag).run(); }

}  // namespace g4c::gguf
