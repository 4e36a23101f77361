// Declaration → one LayerSpec per layer: kind, attention shape, RoPE, cache ownership and source,
// V projection or k_eq_v, FFN width.
#include <algorithm>
#include <set>

#include "g4c/support/text.h"
#include "resolve.h"

namespace g4c::detail {

namespace {

const LayerOverride* find_override(const ModelSpec& spec, int index) {
  for (const LayerOverride& o : spec.overrides)
    if (o.index == index) return &o;
  return nullptr;
}

// The key that decided a layer's kind, for diagnostics.
std::string kind_key(const ModelSpec& spec, int index) {
  if (const LayerOverride* o = find_override(spec, index); o && o->kind) return o->key_path + ".kind";
  return spec.explicit_kinds.empty() ? "attention.layer_pattern" : "attention.layer_kinds";
}

std::vector<LayerKind> layer_kinds(const ModelSpec& spec) {
  std::vector<LayerKind> kinds(spec.num_layers, LayerKind::sliding);
  for (int i = 0; i < spec.num_layers; ++i) {
    if (!spec.explicit_kinds.empty()) {
      kinds[i] = spec.explicit_kinds[i];
    } else {
      int pos = i % *spec.pattern_period;
      bool global = std::find(spec.pattern_global.begin(), spec.pattern_global.end(), pos) != spec.pattern_global.end();
      kinds[i] = global ? LayerKind::global : LayerKind::sliding;
    }
    if (const LayerOverride* o = find_override(spec, i); o && o->kind) kinds[i] = *o->kind;
  }
  return kinds;
}

std::string index_list(const std::vector<int>& v) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size() && i < 8; ++i) parts.push_back(std::to_string(v[i]));
  std::string s = join(parts);
  if (v.size() > 8) s += ", ...";
  return s;
}

bool check_kinds(const ModelSpec& spec, const std::vector<LayerKind>& kinds, DiagnosticEngine& diag) {
  bool ok = true;
  for (LayerKind kind : {LayerKind::sliding, LayerKind::global}) {
    std::vector<int> users;
    for (int i = 0; i < spec.num_layers; ++i)
      if (kinds[i] == kind) users.push_back(i);
    if (users.empty() || spec.kind_spec(kind).declared) continue;
    std::string key = "attention." + std::string(name(kind));
    std::string which = users.size() == 1 ? "layer " + index_list(users) + " is " : "layers " + index_list(users) + " are ";
    diag.error(spec.loc("attention"),
               keyed_message(key, "missing table; " + which + std::string(name(kind)), {}, "a [" + key + "] section"));
    ok = false;
  }
  int last = spec.num_layers - 1;
  if (kinds[last] != LayerKind::global) {
    std::string key = kind_key(spec, last);
    diag.error(spec.loc(key), keyed_message(key, "the last layer (" + std::to_string(last) + ") must be global",
                                            "sliding", "global"));
    ok = false;
  }
  return ok;
}

// The layer whose cache a shared-KV tail layer of `kind` reads, or -1.
int shared_source(const ModelSpec& spec, const std::vector<LayerKind>& kinds, LayerKind kind) {
  int first_shared = spec.first_shared_layer();
  if (spec.shared_kv_source == SharedKvSource::llama_cpp) {
    int src = first_shared - (kind == LayerKind::sliding ? 2 : 1);
    return src >= 0 && kinds[src] == kind ? src : -1;
  }
  for (int i = first_shared - 1; i >= 0; --i)
    if (kinds[i] == kind) return i;
  return -1;
}

bool assign_kv_sources(const ModelSpec& spec, const std::vector<LayerKind>& kinds, std::vector<LayerSpec>& layers,
                       DiagnosticEngine& diag) {
  bool ok = true;
  std::set<LayerKind> reported;
  for (LayerSpec& l : layers) {
    l.owns_kv = l.index < spec.first_shared_layer();
    if (l.owns_kv) {
      l.kv_source = l.index;
      continue;
    }
    l.kv_source = shared_source(spec, kinds, l.kind);
    if (l.kv_source >= 0 || !reported.insert(l.kind).second) continue;
    std::string rule = spec.shared_kv_source == SharedKvSource::llama_cpp
                           ? "layer " + std::to_string(spec.first_shared_layer() - (l.kind == LayerKind::sliding ? 2 : 1)) +
                                 " (the llama.cpp rule) is not " + std::string(name(l.kind))
                           : "no " + std::string(name(l.kind)) + " layer precedes it";
    diag.error(spec.loc("attention.shared_kv_layers"),
               keyed_message("attention.shared_kv_layers",
                             "shared layer " + std::to_string(l.index) + " has no cache to read: " + rule,
                             std::to_string(spec.shared_kv_layers),
                             "a " + std::string(name(l.kind)) + " layer owning a cache before layer " +
                                 std::to_string(spec.first_shared_layer())));
    ok = false;
  }
  return ok;
}

bool assign_v_projection(const ModelSpec& spec, std::vector<LayerSpec>& layers, DiagnosticEngine& diag) {
  bool ok = true;
  for (LayerSpec& l : layers) {
    l.has_v_proj = l.owns_kv && !spec.kind_spec(l.kind).k_eq_v;
    const LayerOverride* o = find_override(spec, l.index);
    if (!o || !o->attn_v) continue;
    std::string key = o->key_path + ".attn_v";
    if (!l.owns_kv) {
      diag.error(spec.loc(key), keyed_message(key, "layer " + std::to_string(l.index) + " reads the cache of layer " +
                                                       std::to_string(l.kv_source) + " and projects no K or V",
                                              *o->attn_v ? "true" : "false", "no attn_v on shared-KV layers"));
      ok = false;
    } else if (!*o->attn_v && l.kind == LayerKind::sliding) {
      diag.error(spec.loc(key), keyed_message(key, "only global layers may take V from the raw K projection",
                                              "false on sliding layer " + std::to_string(l.index),
                                              "true, or a global layer"));
      ok = false;
    } else {
      l.has_v_proj = *o->attn_v;
    }
  }
  return ok;
}

int ffn_width(const ModelSpec& spec, const LayerSpec& l) {
  int width = spec.ffn_widths.size() == 1 ? spec.ffn_widths[0] : spec.ffn_widths[l.index];
  if (spec.ffn_double_wide_shared_kv && !l.owns_kv) width *= 2;
  if (const LayerOverride* o = find_override(spec, l.index); o && o->ffn_width) width = *o->ffn_width;
  return width;
}

}  // namespace

void derive_layers(ModelSpec& spec, DiagnosticEngine& diag) {
  std::vector<LayerKind> kinds = layer_kinds(spec);
  if (!check_kinds(spec, kinds, diag)) return;
  std::vector<LayerSpec> layers(spec.num_layers);
  for (int i = 0; i < spec.num_layers; ++i) {
    LayerSpec& l = layers[i];
    const AttentionKindSpec& k = spec.kind_spec(kinds[i]);
    l.index = i;
    l.kind = kinds[i];
    l.head_dim = k.head_dim;
    l.q_heads = spec.query_heads;
    l.kv_heads = k.kv_heads;
    l.window = kinds[i] == LayerKind::sliding ? k.window : 0;
    l.rope_theta = k.rope_theta;
    l.rotated_pairs = k.rotated_pairs();
  }
  bool ok = assign_kv_sources(spec, kinds, layers, diag);
  ok = assign_v_projection(spec, layers, diag) && ok;
  if (!ok) return;
  for (LayerSpec& l : layers) l.ffn_width = ffn_width(spec, l);
  spec.layers = std::move(layers);
}

}  // namespace g4c::detail
