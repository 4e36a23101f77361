#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "g4c/gguf/file.h"
#include "g4c/kernels/quant_host.h"
#include "g4c/spec/limits.h"
#include "g4c/runtime/host_memory.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/support/text.h"

namespace g4c {

using namespace plan;

std::vector<TensorShape> plan_tensor_shapes(const Plan& plan) {
  std::vector<TensorShape> shapes;
  for (const WeightDecl& w : plan.weights) shapes.push_back({w.name, w.type, w.ne0, w.ne1});
  return shapes;
}

std::map<std::string, std::vector<float>> structural_tensors(const Plan& plan) {
  std::map<std::string, std::vector<float>> out;
  const WeightDecl* freqs = plan.find_weight("rope_freqs.weight");
  if (!freqs) return out;
  for (const Op* op : plan.ops()) {
    if (!schema(op->kind).rotates || op->get_int("head_dim") != 2 * freqs->ne0) continue;
    // One factor per element the plan declares (a hand-edited plan may declare [n, k]).
    std::vector<float> v(static_cast<size_t>(freqs->ne0 * freqs->ne1), 1e30f);
    std::fill(v.begin(), v.begin() + std::min<int64_t>(op->get_int("rotated_pairs"), freqs->ne0), 1.0f);
    out[freqs->name] = std::move(v);
    break;
  }
  return out;
}

std::optional<uint64_t> parse_random_seed(const std::string& source) {
  constexpr std::string_view kPrefix = "random:seed=";
  if (!source.starts_with(kPrefix)) return std::nullopt;
  uint64_t seed = 0;
  std::string_view digits = std::string_view(source).substr(kPrefix.size());
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seed);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return seed;
}

namespace {

std::string describe(QuantType type, int64_t ne0, int64_t ne1) {
  return std::string(name(type)) + " [" + std::to_string(ne0) + ", " + std::to_string(ne1) + "]";
}

}  // namespace

bool check_weights_match_plan(const Plan& plan, const WeightSet& weights, DiagnosticEngine& diag) {
  for (const WeightDecl& w : plan.weights) {
    const HostTensor* t = weights.find(w.name);
    if (!t) {
      diag.error({}, "weights " + quote(weights.description()) + " have no tensor " + w.name + ", which the plan reads");
      return false;
    }
    if (t->type != w.type || t->ne0 != w.ne0 || t->ne1 != w.ne1) {
      diag.error({}, "tensor " + w.name + " is " + describe(w.type, w.ne0, w.ne1) + " in the plan but " +
                         describe(t->type, t->ne0, t->ne1) + " in " + quote(weights.description()));
      return false;
    }
  }
  return true;
}

namespace {

std::string shape_text(int64_t ne0, int64_t ne1) {
  return ne1 == 1 ? "[" + std::to_string(ne0) + "]" : "[" + std::to_string(ne0) + ", " + std::to_string(ne1) + "]";
}

class GgufBinder {
 public:
  GgufBinder(const Plan& plan, const gguf::File& file, DiagnosticEngine& diag) : plan_(plan), file_(file), diag_(diag) {}

  // Every tensor the plan reads is copied out of the file (into memory aligned for its blocks,
  // whatever alignment the file uses); the file must hold nothing else but tensors the model
  // never reads.
  bool bind(WeightSet& set) {
    std::map<std::string, std::vector<float>> structural = structural_tensors(plan_);
    for (const WeightDecl& w : plan_.weights) {
      const gguf::TensorInfo* t = file_.find_tensor(w.name);
      auto fixed = structural.find(w.name);
      if (!t && fixed != structural.end()) {
        // rope_freqs is structure, not a learned weight: converters other than llama.cpp's omit it.
        std::vector<uint8_t> bytes(static_cast<size_t>(row_bytes(w.type, w.ne0) * w.ne1));
        quantize_row(w.type, fixed->second.data(), bytes.data(), w.ne0 * w.ne1);
        set.add_owned({w.name, w.type, w.ne0, w.ne1}, std::move(bytes));
        continue;
      }
      if (!t) return missing(w);
      if (!matches(w, *t)) return false;
      auto bytes = file_.read_tensor(*t, diag_);
      if (!bytes) return false;
      if (fixed != structural.end() && !same_structure(*t, *bytes, fixed->second)) return false;
      set.add_owned({w.name, w.type, w.ne0, w.ne1}, std::move(*bytes));
    }
    return check_k_eq_v() && check_kv_heads() && check_no_other_tensors();
  }

 private:
  bool fail(const std::string& message) {
    diag_.error(SourceLoc{std::make_shared<const std::string>(file_.path()), 0, 0}, message);
    return false;
  }

  bool missing(const WeightDecl& w) {
    std::string hint;
    if (w.name.ends_with(".attn_v.weight"))
      hint = "; the file's layer has no V projection, so it is a k_eq_v layer: declare k_eq_v for it";
    return fail("tensor " + w.name + " is missing (the plan reads it as " + std::string(name(w.type)) + " " +
                shape_text(w.ne0, w.ne1) + ")" + hint);
  }

  bool matches(const WeightDecl& w, const gguf::TensorInfo& t) {
    auto type = gguf::quant_type_from_ggml(t.ggml_type);
    bool shape_ok = t.ne(0) == w.ne0 && t.ne(1) == w.ne1 && t.ne(2) == 1 && t.ne(3) == 1;
    if (type == w.type && shape_ok) return true;
    return fail("tensor " + w.name + " is " + gguf::ggml_type_name(t.ggml_type) + " " + t.shape() +
                " in the file, but the plan reads it as " + std::string(name(w.type)) + " " + shape_text(w.ne0, w.ne1));
  }

  // A file's rope_freqs must rotate the pairs the plan rotates (factor 1) and hold the others
  // still (a huge factor), or the file was made for another RoPE.
  bool same_structure(const gguf::TensorInfo& t, std::span<const uint8_t> data, const std::vector<float>& expected) {
    std::vector<float> got(expected.size());
    dequantize_row(*gguf::quant_type_from_ggml(t.ggml_type), data.data(), got.data(), static_cast<int64_t>(got.size()));
    for (size_t i = 0; i < got.size(); ++i) {
      bool rotated = expected[i] == 1.0f;
      if (rotated ? got[i] == 1.0f : got[i] >= 1e20f) continue;
      return fail("tensor " + t.name + " factor " + std::to_string(i) + " is " + format_double(got[i]) +
                  ", but the plan's proportional RoPE " + (rotated ? "rotates" : "does not rotate") + " pair " +
                  std::to_string(i));
    }
    return true;
  }

  // k_eq_v is inferred from a missing attn_v; a file that has one where the plan aliases V to the
  // raw K projection was made from another declaration.
  bool check_k_eq_v() {
    for (const Block& b : plan_.blocks)
      for (const Op& op : b.ops) {
        if (op.kind != OpKind::alias || op.get_ident("reason") != "k_eq_v") continue;
        std::string v = "blk." + std::to_string(b.layer) + ".attn_v.weight";
        if (file_.find_tensor(v))
          return fail("tensor " + v + " exists, but the plan treats layer " + std::to_string(b.layer) +
                      " as k_eq_v (V = the raw K projection): the declaration and the file disagree");
      }
    return true;
  }

  bool check_kv_heads() {
    const gguf::Value* heads = file_.find("gemma4.attention.head_count_kv");
    if (!heads || !plan_.caches) return true;
    auto per_layer = heads->as_int_array();
    auto scalar = heads->as_int();
    for (const KvCache& c : *plan_.caches) {
      std::optional<int64_t> declared = scalar;
      if (per_layer && c.layer < static_cast<int>(per_layer->size())) declared = (*per_layer)[c.layer];
      if (declared && *declared != c.kv_heads)
        return fail("gemma4.attention.head_count_kv gives layer " + std::to_string(c.layer) + " " +
                    std::to_string(*declared) + " KV heads, but the plan's cache %" + c.name + " has " +
                    std::to_string(c.kv_heads));
    }
    return true;
  }

  // A file whose tensors are a superset of the plan's was made for another model (another
  // declaration, or a model g4c does not know). Only tensors of the declared model that it never
  // reads are allowed: K and V projections of layers that read another layer's cache, and a
  // rope_freqs that rotates every pair when no layer uses proportional RoPE.
  bool check_no_other_tensors() {
    std::set<int> owns_cache;
    if (plan_.caches)
      for (const KvCache& c : *plan_.caches) owns_cache.insert(c.layer);
    for (const gguf::TensorInfo& t : file_.tensors()) {
      if (plan_.find_weight(t.name) || never_read(t.name, owns_cache)) continue;
      if (t.name == "rope_freqs.weight" && rotates_every_pair(t)) continue;
      return fail("tensor " + t.name + " is in the file, but the plan does not read it: the file holds another model "
                  "(g4c import " + file_.path() + " prints the model it holds)");
    }
    return true;
  }

  bool never_read(const std::string& name, const std::set<int>& owns_cache) const {
    if (!name.starts_with("blk.")) return false;
    const size_t dot = name.find('.', 4);
    auto layer = parse_int(std::string_view(name).substr(4, dot == std::string::npos ? 0 : dot - 4));
    if (!layer || *layer < 0 || *layer >= plan_.header.layers || owns_cache.count(static_cast<int>(*layer))) return false;
    std::string_view rest = std::string_view(name).substr(dot + 1);
    return rest == "attn_k.weight" || rest == "attn_v.weight" || rest == "attn_k_norm.weight";
  }

  bool rotates_every_pair(const gguf::TensorInfo& t) {
    auto type = gguf::quant_type_from_ggml(t.ggml_type);
    if (!type || !info(*type).is_float || t.elements() > kMaxHeadDim / 2) return false;
    DiagnosticEngine ignored;
    auto bytes = file_.read_tensor(t, ignored);
    if (!bytes) return false;
    std::vector<float> factors(static_cast<size_t>(t.elements()));
    dequantize_row(*type, bytes->data(), factors.data(), t.elements());
    return std::all_of(factors.begin(), factors.end(), [](float f) { return f == 1.0f; });
  }

  const Plan& plan_;
  const gguf::File& file_;
  DiagnosticEngine& diag_;
};

}  // namespace

std::string first_non_finite(const HostTensor& t) {
  std::vector<float> row(static_cast<size_t>(t.ne0));
  for (int64_t r = 0; r < t.ne1; ++r) {
    dequantize_tensor_row(t, r, row.data());
    for (int64_t i = 0; i < t.ne0; ++i) {
      if (std::isfinite(row[i])) continue;
      const std::string value = std::isnan(row[i]) ? "NaN" : row[i] > 0 ? "+inf" : "-inf";
      return "tensor " + t.name + " holds " + value + " at " +
             (t.ne1 == 1 ? "element " + std::to_string(i) : "row " + std::to_string(r) + ", column " + std::to_string(i));
    }
  }
  return {};
}

bool check_weights_finite(const WeightSet& weights, bool every_tensor, DiagnosticEngine& diag) {
  for (const HostTensor& t : weights.tensors()) {
    if (t.ne1 != 1 && !every_tensor) continue;
    if (std::string why = first_non_finite(t); !why.empty()) {
      diag.error({}, why + " (in " + quote(weights.description()) + ")");
      return false;
    }
  }
  return true;
}

std::optional<WeightSet> load_weights(const Plan& plan, const std::string& source, DiagnosticEngine& diag,
                                      const WeightLoadOptions& options) {
  const std::string purpose = (source.starts_with("random:") ? "random weights for " : "the weights of ") + plan.header.name;
  if (source.starts_with("random:")) {
    auto seed = parse_random_seed(source);
    if (!seed) {
      diag.error({}, "--weights " + quote(source) + ": expected random:seed=N with N a non-negative integer");
      return std::nullopt;
    }
    if (!check_host_memory(purpose, {{"weights", plan.weight_bytes()}}, diag)) return std::nullopt;
    std::vector<TensorShape> shapes = plan_tensor_shapes(plan);
    return random_weights(shapes, *seed, structural_tensors(plan));
  }
  auto file = gguf::File::open(source, diag);
  if (!file) return std::nullopt;
  if (!check_host_memory(purpose, {{"weights", plan.weight_bytes()}}, diag)) return std::nullopt;
  WeightSet set;
  set.set_description(source);
  if (!GgufBinder(plan, *file, diag).bind(set)) return std::nullopt;
  if (!check_weights_finite(set, options.check_every_tensor, diag)) return std::nullopt;
  return set;
}

std::optional<WeightSet> bind_gguf_weights(const Plan& plan, const gguf::File& file, DiagnosticEngine& diag,
                                           const WeightLoadOptions& options) {
  WeightSet set;
  set.set_description(file.path());
  if (!GgufBinder(plan, file, diag).bind(set)) return std::nullopt;
  if (!check_weights_finite(set, options.check_every_tensor, diag)) return std::nullopt;
  return set;
}

}  // namespace g4c
