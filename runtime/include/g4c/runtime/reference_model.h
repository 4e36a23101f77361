// The reference model: one Gemma 4 decode step written straight from shared/reference/gemma4.md §8,
// in float64, for one sequence at a time. It reads the declaration (ModelSpec) and the weights and
// shares no code with the compiler or the plan interpreter: it is the ground truth they are tested
// against. It keeps every position's K and V (no ring) and applies the sliding window by position.
//
// K and V are rounded to the declared cache type (attention.kv_dtype) when stored, as any engine
// serving that declaration must; fixtures meant for tight comparisons declare F32 caches.
#pragma once

#include <cstdint>
#include <vector>

#include "g4c/runtime/weights.h"
#include "g4c/spec/model_spec.h"

namespace g4c {

class ReferenceModel {
 public:
  // Dequantizes every weight to float64 once; meant for small models.
  ReferenceModel(const ModelSpec& spec, const WeightSet& weights);

  // Feeds `token` at the next position and returns the logits (softcapped when the model caps).
  std::vector<double> step(int64_t token);
  int64_t position() const { return position_; }

 private:
  using Vec = std::vector<double>;
  struct Matrix {
    int64_t rows = 0, cols = 0;
    std::vector<double> w;  // row-major [rows][cols]
    Vec apply(const Vec& x) const;
  };
  struct Layer {
    Vec attn_norm, q_norm, k_norm, post_attention_norm, ffn_norm, post_ffw_norm, post_norm;
    Matrix q, k, v, o, gate, up, down, inp_gate, proj;
    double output_scale = 1.0;
    std::vector<Vec> keys, values;  // per position, [kv_heads × head_dim]
  };

  Vec embed(int64_t token) const;
  std::vector<Vec> per_layer_inputs(int64_t token, const Vec& embedded) const;
  void attention_block(int l, Vec& h);
  void ffn_block(int l, Vec& h) const;
  void ple_block(int l, Vec& h, const Vec& per_layer_input) const;
  Vec rms_norm(const Vec& x, const Vec* weight, int64_t group) const;
  Vec rope(const Vec& x, int l) const;
  double store_as_cache_type(double v) const;

  const ModelSpec& spec_;
  std::vector<Layer> layers_;
  Vec output_norm_, ple_proj_norm_;
  Matrix ple_model_proj_, lm_head_;
  const HostTensor* token_embd_ = nullptr;
  const HostTensor* ple_token_embd_ = nullptr;
  int64_t position_ = 0;
};

}  // namespace g4c
