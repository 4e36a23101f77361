#include "g4c/runtime/reference_model.h"

#include <algorithm>
#include <cmath>

#include "g4c/kernels/quant_host.h"
#include "g4c/runtime/reference_math.h"

namespace g4c {

namespace {

std::vector<double> load_vector(const WeightSet& w, const std::string& name) {
  std::vector<float> f = dequantize_tensor(w.at(name));
  return {f.begin(), f.end()};
}

using reference::gelu_tanh;

}  // namespace

ReferenceModel::Vec ReferenceModel::Matrix::apply(const Vec& x) const {
  Vec y(rows, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = w.data() + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += row[c] * x[c];
    y[r] = sum;
  }
  return y;
}

ReferenceModel::ReferenceModel(const ModelSpec& spec, const WeightSet& weights) : spec_(spec) {
  auto matrix = [&](const std::string& name) {
    const HostTensor& t = weights.at(name);
    std::vector<float> f = dequantize_tensor(t);
    return Matrix{t.ne1, t.ne0, {f.begin(), f.end()}};
  };
  token_embd_ = &weights.at("token_embd.weight");
  lm_head_ = matrix(spec.tied_embeddings ? "token_embd.weight" : "output.weight");
  output_norm_ = load_vector(weights, "output_norm.weight");
  if (spec.has_ple()) {
    ple_token_embd_ = &weights.at("per_layer_token_embd.weight");
    ple_model_proj_ = matrix("per_layer_model_proj.weight");
    ple_proj_norm_ = load_vector(weights, "per_layer_proj_norm.weight");
  }
  layers_.resize(spec.layers.size());
  for (const LayerSpec& ls : spec.layers) {
    Layer& l = layers_[ls.index];
    std::string p = "blk." + std::to_string(ls.index) + ".";
    l.attn_norm = load_vector(weights, p + "attn_norm.weight");
    l.q = matrix(p + "attn_q.weight");
    l.q_norm = load_vector(weights, p + "attn_q_norm.weight");
    if (ls.owns_kv) {
      l.k = matrix(p + "attn_k.weight");
      l.k_norm = load_vector(weights, p + "attn_k_norm.weight");
      if (ls.has_v_proj) l.v = matrix(p + "attn_v.weight");
    }
    l.o = matrix(p + "attn_output.weight");
    l.post_attention_norm = load_vector(weights, p + "post_attention_norm.weight");
    l.ffn_norm = load_vector(weights, p + "ffn_norm.weight");
    l.gate = matrix(p + "ffn_gate.weight");
    l.up = matrix(p + "ffn_up.weight");
    l.down = matrix(p + "ffn_down.weight");
    l.post_ffw_norm = load_vector(weights, p + "post_ffw_norm.weight");
    if (spec.has_ple()) {
      l.inp_gate = matrix(p + "inp_gate.weight");
      l.proj = matrix(p + "proj.weight");
      l.post_norm = load_vector(weights, p + "post_norm.weight");
    }
    if (spec.layer_output_scale) l.output_scale = load_vector(weights, p + "layer_output_scale.weight").at(0);
  }
}

ReferenceModel::Vec ReferenceModel::rms_norm(const Vec& x, const Vec* weight, int64_t group) const {
  return reference::rms_norm(x, weight, group, spec_.rms_eps);
}

ReferenceModel::Vec ReferenceModel::rope(const Vec& x, int l) const {
  const LayerSpec& ls = spec_.layers[l];
  return reference::rope(x, ls.head_dim, ls.rotated_pairs, ls.rope_theta, position_);
}

double ReferenceModel::store_as_cache_type(double v) const {
  switch (spec_.kv_dtype) {
    case QuantType::F16: return fp16_to_float(float_to_fp16(static_cast<float>(v)));
    case QuantType::BF16: return bf16_to_float(float_to_bf16(static_cast<float>(v)));
    default: return static_cast<float>(v);
  }
}

ReferenceModel::Vec ReferenceModel::embed(int64_t token) const {
  std::vector<float> row(token_embd_->ne0);
  dequantize_tensor_row(*token_embd_, token, row.data());
  Vec e(row.size());
  for (size_t i = 0; i < row.size(); ++i) e[i] = row[i] * spec_.embedding_scale;
  return e;
}

// §3.2: one row of the PLE table and one projection of the embedding give every layer's input.
std::vector<ReferenceModel::Vec> ReferenceModel::per_layer_inputs(int64_t token, const Vec& embedded) const {
  int64_t P = spec_.ple_width;
  Vec z = ple_model_proj_.apply(embedded);
  std::vector<float> row(ple_token_embd_->ne0);
  dequantize_tensor_row(*ple_token_embd_, token, row.data());
  std::vector<Vec> out;
  for (int l = 0; l < spec_.num_layers; ++l)
    out.push_back(reference::per_layer_input(Vec(z.begin() + l * P, z.begin() + (l + 1) * P),
                                             Vec(row.begin() + l * P, row.begin() + (l + 1) * P), ple_proj_norm_,
                                             spec_.hidden, spec_.rms_eps));
  return out;
}

void ReferenceModel::attention_block(int l, Vec& h) {
  const LayerSpec& ls = spec_.layers[l];
  Layer& L = layers_[l];
  Vec x = rms_norm(h, &L.attn_norm, spec_.hidden);
  Vec q = rope(rms_norm(L.q.apply(x), &L.q_norm, ls.head_dim), l);
  if (ls.owns_kv) {
    Vec k_raw = L.k.apply(x);
    Vec v_raw = ls.has_v_proj ? L.v.apply(x) : k_raw;  // §2.2: V is the raw K projection
    Vec k = rope(rms_norm(k_raw, &L.k_norm, ls.head_dim), l);
    Vec v = rms_norm(v_raw, nullptr, ls.head_dim);      // scale-free V-norm on every owner
    for (double& e : k) e = store_as_cache_type(e);
    for (double& e : v) e = store_as_cache_type(e);
    L.keys.push_back(std::move(k));
    L.values.push_back(std::move(v));
  }
  // Shared-KV layers attend over their source layer's history (§4).
  const Layer& src = layers_[ls.kv_source];
  Vec attended = reference::attend(
      q, ls.q_heads, ls.kv_heads, ls.head_dim, position_, ls.window,
      [&](int64_t j) -> const Vec& { return src.keys[j]; }, [&](int64_t j) -> const Vec& { return src.values[j]; });
  Vec o = L.o.apply(attended);
  Vec normed = rms_norm(o, &L.post_attention_norm, spec_.hidden);
  for (size_t i = 0; i < h.size(); ++i) h[i] += normed[i];
}

void ReferenceModel::ffn_block(int l, Vec& h) const {
  const Layer& L = layers_[l];
  Vec x = rms_norm(h, &L.ffn_norm, spec_.hidden);
  Vec gate = L.gate.apply(x), up = L.up.apply(x);
  for (size_t i = 0; i < gate.size(); ++i) gate[i] = gelu_tanh(gate[i]) * up[i];
  Vec normed = rms_norm(L.down.apply(gate), &L.post_ffw_norm, spec_.hidden);
  for (size_t i = 0; i < h.size(); ++i) h[i] += normed[i];
}

// §3.3: h += RMS(W_proj · (gelu(W_gate · h) ⊙ pl_l); post_norm).
void ReferenceModel::ple_block(int l, Vec& h, const Vec& per_layer_input) const {
  const Layer& L = layers_[l];
  Vec g = L.inp_gate.apply(h);
  for (size_t i = 0; i < g.size(); ++i) g[i] = gelu_tanh(g[i]) * per_layer_input[i];
  Vec normed = rms_norm(L.proj.apply(g), &L.post_norm, spec_.hidden);
  for (size_t i = 0; i < h.size(); ++i) h[i] += normed[i];
}

std::vector<double> ReferenceModel::step(int64_t token) {
  Vec h = embed(token);
  std::vector<Vec> ple;
  if (spec_.has_ple()) ple = per_layer_inputs(token, h);
  for (int l = 0; l < spec_.num_layers; ++l) {
    attention_block(l, h);
    ffn_block(l, h);
    if (spec_.has_ple()) ple_block(l, h, ple[l]);
    for (double& v : h) v *= layers_[l].output_scale;  // §3.4: the whole residual stream
  }
  Vec logits = lm_head_.apply(rms_norm(h, &output_norm_, spec_.hidden));
  if (spec_.final_softcap)
    for (double& v : logits) v = reference::softcap(v, *spec_.final_softcap);
  ++position_;
  return logits;
}

}  // namespace g4c
