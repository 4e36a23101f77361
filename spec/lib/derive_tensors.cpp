// Declaration + layers → the model's weight tensors (llama.cpp gemma4 GGUF names and shapes) with
// the type the quant recipe gives each, and the check that every type's blocks tile its rows.
#include <algorithm>
#include <map>

#include "g4c/support/text.h"
#include "resolve.h"

namespace g4c::detail {

namespace {

struct TypeChoice {
  QuantType type;
  std::string from;  // declaration key that chose it
};

TypeChoice class_type(const ModelSpec& spec, TensorClass cls) {
  if (auto it = spec.quant_class.find(cls); it != spec.quant_class.end())
    return {it->second, "quant." + std::string(name(cls))};
  if (cls == TensorClass::norms) return {QuantType::F32, "quant.norms"};
  if (cls == TensorClass::output && spec.quant_class.count(TensorClass::token_embd))
    return class_type(spec, TensorClass::token_embd);
  return {spec.quant_default, "quant.default"};
}

class TensorListBuilder {
 public:
  explicit TensorListBuilder(const ModelSpec& spec) : spec_(spec) {}

  void add(std::string name, TensorClass cls, int layer, int64_t ne0, int64_t ne1 = 1) {
    TypeChoice choice = class_type(spec_, cls);
    tensors_.push_back({std::move(name), cls, layer, ne0, ne1, choice.type, choice.from});
  }

  void add_layer(const LayerSpec& l) {
    std::string p = "blk." + std::to_string(l.index) + ".";
    int64_t h = spec_.hidden;
    int64_t q_width = int64_t{l.q_heads} * l.head_dim;
    int64_t kv_width = int64_t{l.kv_heads} * l.head_dim;
    add(p + "attn_norm.weight", TensorClass::norms, l.index, h);
    add(p + "attn_q.weight", TensorClass::attn_q, l.index, h, q_width);
    add(p + "attn_q_norm.weight", TensorClass::norms, l.index, l.head_dim);
    if (l.owns_kv) {
      add(p + "attn_k.weight", TensorClass::attn_k, l.index, h, kv_width);
      add(p + "attn_k_norm.weight", TensorClass::norms, l.index, l.head_dim);
    }
    if (l.has_v_proj) add(p + "attn_v.weight", TensorClass::attn_v, l.index, h, kv_width);
    add(p + "attn_output.weight", TensorClass::attn_output, l.index, q_width, h);
    add(p + "post_attention_norm.weight", TensorClass::norms, l.index, h);
    add(p + "ffn_norm.weight", TensorClass::norms, l.index, h);
    add(p + "ffn_gate.weight", TensorClass::ffn_gate, l.index, h, l.ffn_width);
    add(p + "ffn_up.weight", TensorClass::ffn_up, l.index, h, l.ffn_width);
    add(p + "ffn_down.weight", TensorClass::ffn_down, l.index, l.ffn_width, h);
    add(p + "post_ffw_norm.weight", TensorClass::norms, l.index, h);
    if (spec_.has_ple()) {
      add(p + "inp_gate.weight", TensorClass::inp_gate, l.index, h, spec_.ple_width);
      add(p + "proj.weight", TensorClass::proj, l.index, spec_.ple_width, h);
      add(p + "post_norm.weight", TensorClass::norms, l.index, h);
    }
    if (spec_.layer_output_scale) add(p + "layer_output_scale.weight", TensorClass::norms, l.index, 1);
  }

  std::vector<TensorSpec> build() {
    int64_t h = spec_.hidden;
    add("token_embd.weight", TensorClass::token_embd, -1, h, spec_.vocab);
    if (spec_.has_ple()) {
      int64_t all_layers = int64_t{spec_.num_layers} * spec_.ple_width;
      add("per_layer_token_embd.weight", TensorClass::per_layer_token_embd, -1, all_layers, spec_.ple_vocab);
      add("per_layer_model_proj.weight", TensorClass::per_layer_model_proj, -1, h, all_layers);
      add("per_layer_proj_norm.weight", TensorClass::norms, -1, spec_.ple_width);
    }
    // One rope_freqs vector (factor 1 on rotated pairs, 1e30 on the rest) serves every
    // proportional-RoPE layer; llama.cpp sizes it by the global head.
    for (const LayerSpec& l : spec_.layers) {
      if (!l.proportional_rope()) continue;
      add("rope_freqs.weight", TensorClass::norms, -1, l.head_dim / 2);
      break;
    }
    for (const LayerSpec& l : spec_.layers) add_layer(l);
    add("output_norm.weight", TensorClass::norms, -1, h);
    if (!spec_.tied_embeddings) add("output.weight", TensorClass::output, -1, h, spec_.vocab);
    return std::move(tensors_);
  }

 private:
  const ModelSpec& spec_;
  std::vector<TensorSpec> tensors_;
};

bool selects(const QuantRule& rule, int layer, int ordinal, int count) {
  if (rule.select == QuantRule::Select::use_more_bits) return use_more_bits(ordinal, count);
  return std::find(rule.layers.begin(), rule.layers.end(), layer) != rule.layers.end();
}

void apply_rules(const ModelSpec& spec, std::vector<TensorSpec>& tensors) {
  for (const QuantRule& rule : spec.quant_rules) {
    for (TensorClass cls : rule.classes) {
      // Ordinals count the tensors of the class that exist, as llama.cpp counts attn_v tensors.
      int count = 0;
      for (const TensorSpec& t : tensors) count += t.cls == cls;
      int ordinal = 0;
      for (TensorSpec& t : tensors) {
        if (t.cls != cls) continue;
        if (selects(rule, t.layer, ordinal, count)) {
          t.type = rule.type;
          t.type_from = rule.key_path + ".type";
        }
        ++ordinal;
      }
    }
  }
  for (const LayerOverride& o : spec.overrides)
    for (TensorSpec& t : tensors)
      if (t.layer == o.index)
        if (auto it = o.quant.find(t.cls); it != o.quant.end()) {
          t.type = it->second;
          t.type_from = o.key_path + ".quant." + std::string(name(t.cls));
        }
}

// A block never straddles two rows: each row's length must be a multiple of the block size.
// One error per declaration key, naming the first tensor that does not fit.
void check_block_fit(const ModelSpec& spec, const std::vector<TensorSpec>& tensors, DiagnosticEngine& diag) {
  std::map<std::string, std::vector<const TensorSpec*>> misfits;  // type_from → tensors
  std::vector<std::string> order;
  for (const TensorSpec& t : tensors) {
    if (t.ne0 % info(t.type).block_elems == 0) continue;
    auto& list = misfits[t.type_from];
    if (list.empty()) order.push_back(t.type_from);
    list.push_back(&t);
  }
  for (const std::string& key : order) {
    const std::vector<const TensorSpec*>& list = misfits[key];
    const TensorSpec& t = *list.front();
    int block = info(t.type).block_elems;
    std::string what = std::string(name(t.type)) + " blocks of " + std::to_string(block) +
                       " weights do not tile the rows of " + t.name + " (" + std::to_string(t.ne0) +
                       " weights per row)";
    if (list.size() > 1) what += " and of " + std::to_string(list.size() - 1) + " more tensors";
    diag.error(spec.loc(key), keyed_message(key, what, std::to_string(t.ne0), "a multiple of " + std::to_string(block)));
  }
}

}  // namespace

void derive_tensors(ModelSpec& spec, DiagnosticEngine& diag) {
  std::vector<TensorSpec> tensors = TensorListBuilder(spec).build();
  apply_rules(spec, tensors);
  check_block_fit(spec, tensors, diag);
  spec.tensors = std::move(tensors);
}

}  // namespace g4c::detail
