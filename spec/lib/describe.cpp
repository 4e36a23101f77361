#include "g4c/spec/describe.h"

#include <ostream>

#include "g4c/support/text.h"

namespace g4c {

static bool is_embedding_table(TensorClass c) {
  return c == TensorClass::token_embd || c == TensorClass::per_layer_token_embd;
}

static void add_streamed(const ModelSpec& spec, const TensorSpec& t, StreamedBytes& s) {
  bool lm_head = (t.cls == TensorClass::token_embd && spec.tied_embeddings) || t.cls == TensorClass::output;
  if (lm_head) s.lm_head += t.bytes();
  // A decode step gathers one row of each embedding table.
  if (is_embedding_table(t.cls)) s.embedding_rows += row_bytes(t.type, t.ne0);
  else if (t.cls == TensorClass::norms) s.norms += t.bytes();
  else if (!lm_head) s.matrices += t.bytes();
}

ModelTotals compute_totals(const ModelSpec& spec) {
  ModelTotals totals;
  for (const TensorSpec& t : spec.tensors) {
    ClassTotals& c = totals.classes[t.cls];
    ++c.tensors;
    c.parameters += t.elements();
    c.bytes += t.bytes();
    ++c.types[t.type];
    totals.parameters += t.elements();
    totals.weight_bytes += t.bytes();
    add_streamed(spec, t, totals.streamed);
  }
  return totals;
}

namespace {

std::string types_list(const std::map<QuantType, int>& types) {
  std::vector<std::string> parts;
  for (const auto& [type, count] : types) parts.push_back(std::string(name(type)) + " x " + std::to_string(count));
  return "[" + join(parts) + "]";
}

std::string layer_list(const ModelSpec& spec, LayerKind kind) {
  std::vector<std::string> parts;
  for (const LayerSpec& l : spec.layers)
    if (l.kind == kind) parts.push_back(std::to_string(l.index));
  return "[" + join(parts) + "]";
}

void describe_header(const ModelSpec& spec, std::ostream& os) {
  os << "// g4c spec v1\n";
  os << "model @" << spec.name << " {source = " << quote(spec.source_path) << "}\n";
  os << "  dims {vocab = " << spec.vocab << ", hidden = " << spec.hidden << ", layers = " << spec.num_layers
     << ", context = " << spec.context << ", query_heads = " << spec.query_heads << "}\n";
  os << "  config {rms_eps = " << format_double(spec.rms_eps) << ", embedding_scale = "
     << format_double(spec.embedding_scale) << (spec.embedding_scale_is_sqrt_hidden ? " (sqrt_hidden)" : "")
     << ", tied_embeddings = " << (spec.tied_embeddings ? "true" : "false")
     << ", layer_output_scale = " << (spec.layer_output_scale ? "true" : "false") << ", final_softcap = "
     << (spec.final_softcap ? format_double(*spec.final_softcap) : "none") << ", kv_dtype = " << name(spec.kv_dtype)
     << "}\n";
  for (LayerKind kind : {LayerKind::sliding, LayerKind::global}) {
    const AttentionKindSpec& k = spec.kind_spec(kind);
    if (!k.declared) continue;
    os << "  kind " << name(kind) << " {head_dim = " << k.head_dim << ", kv_heads = " << k.kv_heads
       << ", window = " << (kind == LayerKind::sliding ? std::to_string(k.window) : "none")
       << ", rope_theta = " << format_double(k.rope_theta) << ", rope_fraction = " << format_double(k.rope_fraction)
       << ", rotated_pairs = " << k.rotated_pairs() << ", k_eq_v = " << (k.k_eq_v ? "true" : "false")
       << ", layers = " << layer_list(spec, kind) << "}\n";
  }
  os << "  shared_kv {layers = " << spec.shared_kv_layers;
  if (spec.shared_kv_layers > 0)
    os << ", first = " << spec.first_shared_layer() << ", source = " << name(spec.shared_kv_source);
  os << "}\n";
  os << "  ple {width = " << spec.ple_width;
  if (spec.has_ple()) os << ", vocab = " << spec.ple_vocab;
  os << "}\n";
}

void describe_layer(const ModelSpec& spec, const LayerSpec& l, int64_t kv_bytes_per_token, std::ostream& os) {
  const char* v = !l.owns_kv ? "shared" : l.has_v_proj ? "proj" : "k_eq_v";
  os << "layer " << l.index << " {kind = " << name(l.kind) << ", head_dim = " << l.head_dim
     << ", q_heads = " << l.q_heads << ", kv_heads = " << l.kv_heads
     << ", window = " << (l.window > 0 ? std::to_string(l.window) : "none")
     << ", rope = " << (l.proportional_rope() ? "proportional" : "default")
     << ", rope_theta = " << format_double(l.rope_theta) << ", rotated_pairs = " << l.rotated_pairs
     << ", v = " << v << ", kv_source = " << l.kv_source << ", ffn = " << l.ffn_width
     << ", kv_bytes_per_token = " << kv_bytes_per_token << "}\n";
  os << "  weights {";
  bool first = true;
  for (const TensorSpec& t : spec.tensors) {
    if (t.layer != l.index || !t.is_matrix()) continue;
    os << (first ? "" : ", ") << name(t.cls) << " = " << name(t.type) << "[" << t.ne0 << ", " << t.ne1 << "]";
    first = false;
  }
  os << "}\n";
}

void describe_totals(const ModelSpec& spec, const KvFootprint& kv, std::ostream& os) {
  ModelTotals totals = compute_totals(spec);
  os << "totals {tensors = " << spec.tensors.size() << ", parameters = " << totals.parameters << ", weight_bytes = " << totals.weight_bytes
     << ", streamed_bytes_per_token = " << totals.streamed.total()
     << ", kv_bytes_per_token = " << kv.bytes_per_token_total
     << ", kv_bytes_per_sequence = " << kv.bytes_per_sequence << "}\n";
  for (const auto& [cls, c] : totals.classes)
    os << "  class " << name(cls) << " {tensors = " << c.tensors << ", parameters = " << c.parameters
       << ", bytes = " << c.bytes << ", types = " << types_list(c.types) << "}\n";
  const StreamedBytes& s = totals.streamed;
  os << "  streamed {matrices = " << s.matrices << ", lm_head = " << s.lm_head << ", norms = " << s.norms
     << ", embedding_rows = " << s.embedding_rows << ", total = " << s.total() << "}\n";
}

}  // namespace

void describe_model(const ModelSpec& spec, const KvFootprint& kv, std::ostream& os) {
  describe_header(spec, os);
  for (const LayerSpec& l : spec.layers)
    describe_layer(spec, l, static_cast<size_t>(l.index) < kv.bytes_per_token.size() ? kv.bytes_per_token[l.index] : 0, os);
  describe_totals(spec, kv, os);
}

}  // namespace g4c
