// TOML tree → the declared fields of ModelSpec. Checks each value on its own (type, range,
// spelling); rules that relate several keys live in validate.cpp.
#include "read_declaration.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "g4c/spec/limits.h"
#include "g4c/support/config_reader.h"
#include "g4c/support/text.h"

namespace g4c::detail {

namespace {

const std::vector<std::string>& layer_kind_names() {
  static const std::vector<std::string> v = {"sliding", "global"};
  return v;
}

std::optional<QuantType> quant_type(TableReader& r, std::string_view key, bool required) {
  auto s = r.choice(key, quant_type_names(), required);
  if (!s) return std::nullopt;
  return parse_quant_type(*s);
}

LayerKind to_kind(const std::string& s) { return s == "global" ? LayerKind::global : LayerKind::sliding; }

const std::vector<std::string>& tensor_class_names() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> names;
    for (int i = 0; i < kTensorClassCount; ++i) names.emplace_back(name(static_cast<TensorClass>(i)));
    return names;
  }();
  return v;
}

bool valid_model_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void read_model(TableReader r, ModelSpec& spec) {
  if (auto name = r.string("name", true)) {
    if (name->size() > kMaxModelNameBytes)
      r.error_at(*r.node("name"), "name", "too long", std::to_string(name->size()) + " characters",
                 "at most " + std::to_string(kMaxModelNameBytes));
    else if (valid_model_name(*name))
      spec.name = *name;
    else
      r.error_at(*r.node("name"), "name", "not a valid model name", quote(*name),
                 "letters, digits, '-', '_' or '.'");
  }
  spec.vocab = r.integer("vocab", 1, kMaxDim, true).value_or(0);
  spec.hidden = r.integer("hidden", 1, kMaxDim, true).value_or(0);
  spec.num_layers = static_cast<int>(r.integer("layers", 1, kMaxLayers, true).value_or(0));
  spec.context = r.integer("context", 1, kMaxDim, true).value_or(0);
  spec.rms_eps = r.positive_number("rms_eps", false).value_or(1e-6);
  spec.tied_embeddings = r.boolean("tied_embeddings").value_or(true);
  spec.layer_output_scale = r.boolean("layer_output_scale").value_or(true);
  spec.final_softcap = r.positive_number("final_softcap", false);
  if (const ConfigNode* n = r.node("embedding_scale")) {
    if (n->kind == ConfigNode::Kind::string) {
      static const std::vector<std::string> choices = {"sqrt_hidden"};
      r.choice("embedding_scale", choices, false);
    } else if (auto v = r.positive_number("embedding_scale", false)) {
      spec.embedding_scale_is_sqrt_hidden = false;
      spec.embedding_scale = *v;
    }
  }
  r.finish();
}

void read_kind(TableReader r, LayerKind kind, AttentionKindSpec& out) {
  out.declared = r.present();
  if (!out.declared) return;
  out.head_dim = static_cast<int>(r.integer("head_dim", 1, kMaxHeadDim, true).value_or(0));
  out.kv_heads = static_cast<int>(r.integer("kv_heads", 1, kMaxHeads, true).value_or(0));
  if (kind == LayerKind::sliding) {
    out.window = static_cast<int>(r.integer("window", 1, kMaxDim, true).value_or(0));
  } else if (const ConfigNode* w = r.node("window")) {
    r.error_at(*w, "window", "global layers attend to the whole context and take no window",
               describe_value(*w), "no window key");
  }
  out.rope_theta = r.positive_number("rope_theta", true).value_or(0);
  if (auto f = r.positive_number("rope_fraction", false)) {
    if (*f > 1)
      r.error_at(*r.node("rope_fraction"), "rope_fraction", "out of range", format_double(*f), "0 < fraction <= 1");
    else
      out.rope_fraction = *f;
  }
  out.k_eq_v = r.boolean("k_eq_v").value_or(false);
  if (kind == LayerKind::sliding && out.k_eq_v) {
    r.error_at(*r.node("k_eq_v"), "k_eq_v", "only global layers may take V from the raw K projection",
               "true", "false on sliding layers");
  }
  r.finish();
}

void read_layer_pattern(TableReader& r, ModelSpec& spec) {
  const ConfigNode* pattern = r.node("layer_pattern");
  const ConfigNode* kinds = r.node("layer_kinds");
  if (pattern && kinds) {
    r.error_at(*kinds, "layer_kinds", "conflicts with attention.layer_pattern", {}, "one of the two");
    return;
  }
  if (!pattern && !kinds) {
    r.missing("layer_pattern", "{period = N, global = [...]} or layer_kinds = [...]");
    return;
  }
  if (kinds) {
    if (kinds->kind != ConfigNode::Kind::array) {
      r.wrong_type(*kinds, "layer_kinds", "an array of \"sliding\"/\"global\"");
      return;
    }
    if (kinds->items.size() != static_cast<size_t>(spec.num_layers)) {
      r.error_at(*kinds, "layer_kinds", "needs one kind per layer", std::to_string(kinds->items.size()) + " entries",
                 std::to_string(spec.num_layers) + " (model.layers)");
      return;
    }
    for (size_t i = 0; i < kinds->items.size(); ++i) {
      const ConfigNode& item = kinds->items[i];
      std::string key = "layer_kinds[" + std::to_string(i) + "]";
      if (item.kind != ConfigNode::Kind::string ||
          (item.string_value != "sliding" && item.string_value != "global")) {
        r.error_at(item, key, "unknown layer kind" + did_you_mean(item.string_value, layer_kind_names()),
                   describe_value(item), "\"sliding\" or \"global\"");
        continue;
      }
      spec.explicit_kinds.push_back(to_kind(item.string_value));
    }
    return;
  }
  TableReader p = r.table("layer_pattern", true);
  spec.pattern_period = static_cast<int>(p.integer("period", 1, kMaxLayers, true).value_or(0));
  const ConfigNode* global = p.node("global");
  if (!global) {
    p.missing("global", "the positions within a period that are global layers");
  } else if (global->kind != ConfigNode::Kind::array) {
    p.wrong_type(*global, "global", "an array of positions");
  } else {
    std::set<int64_t> seen;
    for (size_t i = 0; i < global->items.size(); ++i) {
      int64_t period = std::max(1, *spec.pattern_period);
      auto pos = array_integer(p, global->items[i], "global[" + std::to_string(i) + "]", 0, period - 1);
      if (!pos) continue;
      if (!seen.insert(*pos).second) {
        p.error_at(global->items[i], "global[" + std::to_string(i) + "]", "repeated position",
                   std::to_string(*pos), "each position once");
        continue;
      }
      spec.pattern_global.push_back(static_cast<int>(*pos));
    }
  }
  p.finish();
}

void read_attention(TableReader r, ModelSpec& spec) {
  spec.query_heads = static_cast<int>(r.integer("query_heads", 1, kMaxHeads, true).value_or(0));
  read_layer_pattern(r, spec);
  if (auto t = quant_type(r, "kv_dtype", false)) {
    if (info(*t).is_float)
      spec.kv_dtype = *t;
    else
      r.error_at(*r.node("kv_dtype"), "kv_dtype", "KV caches hold floats", quote(name(*t)), "F16, BF16 or F32");
  }
  spec.shared_kv_layers = static_cast<int>(r.integer("shared_kv_layers", 0, kMaxLayers, false).value_or(0));
  static const std::vector<std::string> sources = {"last-of-kind", "llama.cpp"};
  if (auto s = r.choice("shared_kv_source", sources, false))
    spec.shared_kv_source = *s == "llama.cpp" ? SharedKvSource::llama_cpp : SharedKvSource::last_of_kind;
  read_kind(r.table("sliding", false), LayerKind::sliding, spec.sliding);
  read_kind(r.table("global", false), LayerKind::global, spec.global);
  r.finish();
}

void read_ffn(TableReader r, ModelSpec& spec) {
  const ConfigNode* width = r.node("width");
  if (!width) {
    r.missing("width", "an integer, or an array with one width per layer");
  } else if (width->kind == ConfigNode::Kind::array) {
    if (width->items.size() != static_cast<size_t>(spec.num_layers)) {
      r.error_at(*width, "width", "needs one width per layer", std::to_string(width->items.size()) + " entries",
                 std::to_string(spec.num_layers) + " (model.layers)");
      return;
    }
    for (size_t i = 0; i < width->items.size(); ++i)
      if (auto w = array_integer(r, width->items[i], "width[" + std::to_string(i) + "]", 1, kMaxDim))
        spec.ffn_widths.push_back(static_cast<int>(*w));
  } else if (auto w = r.integer("width", 1, kMaxDim, true)) {
    spec.ffn_widths.push_back(static_cast<int>(*w));
  }
  spec.ffn_double_wide_shared_kv = r.boolean("double_wide_shared_kv").value_or(false);
  r.finish();
}

void read_ple(TableReader r, ModelSpec& spec) {
  if (!r.present()) return;
  spec.ple_width = static_cast<int>(r.integer("width", 1, kMaxDim, true).value_or(0));
  spec.ple_vocab = r.integer("vocab", 1, kMaxDim, false).value_or(spec.vocab);
  r.finish();
}

void read_quant_rule(TableReader r, ModelSpec& spec) {
  QuantRule rule;
  rule.key_path = r.path();
  const ConfigNode* tensors = r.node("tensors");
  if (!tensors) {
    r.missing("tensors", "an array of tensor classes");
  } else if (tensors->kind != ConfigNode::Kind::array || tensors->items.empty()) {
    r.wrong_type(*tensors, "tensors", "a non-empty array of tensor classes");
  } else {
    for (size_t i = 0; i < tensors->items.size(); ++i) {
      const ConfigNode& item = tensors->items[i];
      auto cls = item.kind == ConfigNode::Kind::string ? parse_tensor_class(item.string_value) : std::nullopt;
      if (!cls) {
        r.error_at(item, "tensors[" + std::to_string(i) + "]",
                   "unknown tensor class" + did_you_mean(item.string_value, tensor_class_names()),
                   describe_value(item), "a class such as ffn_down");
        continue;
      }
      if (!is_per_layer_class(*cls)) {
        r.error_at(item, "tensors[" + std::to_string(i) + "]", "not a per-layer tensor class; set quant." +
                   item.string_value + " instead", describe_value(item), "a class with one tensor per layer");
        continue;
      }
      rule.classes.push_back(*cls);
    }
  }
  const ConfigNode* select = r.node("select");
  const ConfigNode* layers = r.node("layers");
  if (select && layers) {
    r.error_at(*layers, "layers", "conflicts with " + r.key_path("select"), {}, "one of select or layers");
  } else if (select) {
    static const std::vector<std::string> selectors = {"use_more_bits"};
    if (r.choice("select", selectors, false)) rule.select = QuantRule::Select::use_more_bits;
  } else if (layers && layers->kind != ConfigNode::Kind::array) {
    r.wrong_type(*layers, "layers", "an array of layer indices");
  } else if (layers) {
    for (size_t i = 0; i < layers->items.size(); ++i)
      if (auto l = array_integer(r, layers->items[i], "layers[" + std::to_string(i) + "]", 0,
                                 std::max(0, spec.num_layers - 1)))
        rule.layers.push_back(static_cast<int>(*l));
  } else {
    r.missing("select", "select = \"use_more_bits\" or layers = [...]");
  }
  auto type = quant_type(r, "type", true);
  r.finish();
  if (type) {
    rule.type = *type;
    spec.quant_rules.push_back(std::move(rule));
  }
}

void read_quant(TableReader r, ModelSpec& spec) {
  spec.quant_default = quant_type(r, "default", true).value_or(QuantType::F32);
  for (int i = 0; i < kTensorClassCount; ++i) {
    auto cls = static_cast<TensorClass>(i);
    if (auto t = quant_type(r, name(cls), false)) spec.quant_class[cls] = *t;
  }
  if (auto it = spec.quant_class.find(TensorClass::norms); it != spec.quant_class.end() && !info(it->second).is_float)
    r.error_at(*r.node("norms"), "norms", "norm vectors are stored unquantized", quote(name(it->second)),
               "F32, F16 or BF16");
  if (const ConfigNode* rules = r.node("rule")) {
    if (rules->kind != ConfigNode::Kind::array) {
      r.wrong_type(*rules, "rule", "an array of tables ([[quant.rule]])");
    } else {
      for (size_t i = 0; i < rules->items.size(); ++i) {
        const ConfigNode& item = rules->items[i];
        std::string path = r.key_path("rule[" + std::to_string(i) + "]");
        if (item.kind != ConfigNode::Kind::table) {
          r.wrong_type(item, "rule[" + std::to_string(i) + "]", "a table");
          continue;
        }
        read_quant_rule(r.element(item, path), spec);
      }
    }
  }
  r.finish();
}

void read_layer_override(TableReader r, ModelSpec& spec) {
  LayerOverride o;
  o.key_path = r.path();
  o.index = static_cast<int>(
      r.integer("index", 0, std::max(0, spec.num_layers - 1), true).value_or(-1));
  if (auto k = r.choice("kind", layer_kind_names(), false)) o.kind = to_kind(*k);
  o.attn_v = r.boolean("attn_v");
  if (auto w = r.integer("ffn_width", 1, kMaxDim, false)) o.ffn_width = static_cast<int>(*w);
  TableReader q = r.table("quant", false);
  if (q.present()) {
    for (int i = 0; i < kTensorClassCount; ++i) {
      auto cls = static_cast<TensorClass>(i);
      if (!is_per_layer_class(cls)) continue;
      if (auto t = quant_type(q, name(cls), false)) o.quant[cls] = *t;
    }
    q.finish();
  }
  r.finish();
  if (o.index >= 0) spec.overrides.push_back(std::move(o));
}

void read_layer_overrides(TableReader& root, ModelSpec& spec) {
  const ConfigNode* layers = root.node("layer");
  if (!layers) return;
  if (layers->kind != ConfigNode::Kind::array) {
    root.wrong_type(*layers, "layer", "an array of tables ([[layer]])");
    return;
  }
  for (size_t i = 0; i < layers->items.size(); ++i) {
    const ConfigNode& item = layers->items[i];
    std::string path = "layer[" + std::to_string(i) + "]";
    if (item.kind != ConfigNode::Kind::table) {
      root.wrong_type(item, path, "a table");
      continue;
    }
    read_layer_override(root.element(item, path), spec);
  }
}

}  // namespace

void read_declaration(const ConfigNode& root, ModelSpec& spec, DiagnosticEngine& diag) {
  TableReader r(&root, "", root.loc, spec.key_locs, diag);
  read_model(r.table("model", true), spec);
  read_attention(r.table("attention", true), spec);
  read_ffn(r.table("ffn", true), spec);
  read_ple(r.table("ple", false), spec);
  read_quant(r.table("quant", true), spec);
  read_layer_overrides(r, spec);
  r.finish();
  if (spec.embedding_scale_is_sqrt_hidden) spec.embedding_scale = std::sqrt(static_cast<double>(spec.hidden));
}

}  // namespace g4c::detail
