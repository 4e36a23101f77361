#include "g4c/runtime/export_gguf.h"

#include <algorithm>
#include <set>

#include "g4c/gguf/ggml_types.h"
#include "g4c/gguf/writer.h"

namespace g4c {

using namespace plan;
using gguf::Value;


namespace {

// What llama.cpp's gemma4 metadata says, read off the plan's ops.
struct ModelFacts {
  std::vector<int64_t> ffn, kv_heads;
  std::vector<bool> sliding;
  int64_t q_heads = 0, head_dim_global = 0, head_dim_sliding = 0, window = 0, shared = 0, ple_width = 0;
  double eps = 1e-6, theta_global = 1e6, theta_sliding = 1e4;
  std::optional<double> softcap;
};

ModelFacts facts_of(const Plan& plan) {
  ModelFacts f;
  for (const Block& b : plan.blocks) {
    if (b.kind == BlockKind::layer) {
      f.sliding.push_back(b.layer_kind == "sliding");
      f.shared += std::none_of(b.ops.begin(), b.ops.end(), [](const Op& op) { return op.kind == OpKind::kv_write; });
    }
    for (const Op& op : b.ops) {
      bool sliding = b.layer_kind == "sliding";
      if (op.kind == OpKind::attention) {
        f.q_heads = op.get_int("q_heads");
        f.kv_heads.push_back(op.get_int("kv_heads"));
        (sliding ? f.head_dim_sliding : f.head_dim_global) = op.get_int("head_dim");
        if (sliding) f.window = op.get_int("window");
      }
      if (schema(op.kind).rotates) (sliding ? f.theta_sliding : f.theta_global) = op.get_number("theta");
      if (schema(op.kind).normalizes) f.eps = op.get_number("eps");
      if (op.kind == OpKind::matmul && op.weight.ends_with(".ffn_gate.weight")) f.ffn.push_back(op.get_int("rows"));
      if (op.kind == OpKind::ple_combine) f.ple_width = op.get_int("width");
      if (op.kind == OpKind::softcap) f.softcap = op.get_number("cap");
    }
  }
  if (f.head_dim_global == 0) f.head_dim_global = f.head_dim_sliding;
  if (f.head_dim_sliding == 0) f.head_dim_sliding = f.head_dim_global;
  return f;
}

// A scalar when every layer agrees, else a per-layer array (as llama.cpp writes head_count_kv
// and E2B's feed_forward_length).
Value per_layer(const std::vector<int64_t>& values) {
  if (std::set<int64_t>(values.begin(), values.end()).size() == 1) return Value::make_u32(static_cast<uint32_t>(values[0]));
  return Value::make_int_array(gguf::ValueType::i32, values);
}

void set_metadata(const Plan& plan, gguf::Writer& w) {
  ModelFacts f = facts_of(plan);
  const std::string p = "gemma4.";
  auto u32 = [](int64_t v) { return Value::make_u32(static_cast<uint32_t>(v)); };
  w.set("general.architecture", Value::make_string("gemma4"));
  w.set("general.name", Value::make_string(plan.header.name));
  w.set("general.alignment", u32(32));
  w.set(p + "context_length", u32(plan.header.context));
  w.set(p + "embedding_length", u32(plan.header.hidden));
  w.set(p + "block_count", u32(plan.header.layers));
  w.set(p + "vocab_size", u32(plan.header.vocab));
  w.set(p + "feed_forward_length", per_layer(f.ffn));
  w.set(p + "attention.head_count", u32(f.q_heads));
  w.set(p + "attention.head_count_kv", per_layer(f.kv_heads));
  w.set(p + "attention.key_length", u32(f.head_dim_global));
  w.set(p + "attention.value_length", u32(f.head_dim_global));
  w.set(p + "attention.key_length_swa", u32(f.head_dim_sliding));
  w.set(p + "attention.value_length_swa", u32(f.head_dim_sliding));
  w.set(p + "attention.sliding_window", u32(f.window));
  w.set(p + "attention.sliding_window_pattern", Value::make_bool_array(f.sliding));
  w.set(p + "attention.shared_kv_layers", u32(f.shared));
  w.set(p + "attention.layer_norm_rms_epsilon", Value::make_f32(static_cast<float>(f.eps)));
  w.set(p + "rope.freq_base", Value::make_f32(static_cast<float>(f.theta_global)));
  w.set(p + "rope.freq_base_swa", Value::make_f32(static_cast<float>(f.theta_sliding)));
  w.set(p + "rope.dimension_count", u32(f.head_dim_global));
  w.set(p + "rope.dimension_count_swa", u32(f.head_dim_sliding));
  w.set(p + "embedding_length_per_layer_input", u32(f.ple_width));
  if (f.softcap) w.set(p + "final_logit_softcapping", Value::make_f32(static_cast<float>(*f.softcap)));
}

}  // namespace

bool export_gguf(const Plan& plan, const WeightSet& weights, const std::string& path, DiagnosticEngine& diag,
                 std::span<const std::pair<std::string, gguf::Value>> extra_metadata) {
  gguf::Writer w;
  set_metadata(plan, w);
  for (const auto& [key, value] : extra_metadata) w.set(key, value);
  for (const WeightDecl& d : plan.weights) {
    const HostTensor& t = weights.at(d.name);
    std::vector<int64_t> dims = t.ne1 == 1 ? std::vector<int64_t>{t.ne0} : std::vector<int64_t>{t.ne0, t.ne1};
    w.add_tensor(t.name, std::move(dims), gguf::ggml_type_of(t.type), t.bytes);
  }
  return w.write(path, diag);
}

}  // namespace g4c
