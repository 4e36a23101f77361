#include "g4c/spec/model_spec.h"

#include <array>

namespace g4c {

std::string_view name(LayerKind k) { return k == LayerKind::sliding ? "sliding" : "global"; }

std::string_view name(SharedKvSource s) {
  return s == SharedKvSource::last_of_kind ? "last-of-kind" : "llama.cpp";
}

static constexpr std::array<std::string_view, kTensorClassCount> kClassNames = {
    "token_embd", "output",   "attn_q",   "attn_k", "attn_v",
    "attn_output", "ffn_gate", "ffn_up",  "ffn_down", "per_layer_token_embd",
    "per_layer_model_proj", "inp_gate", "proj", "norms",
};

std::string_view name(TensorClass c) { return kClassNames[static_cast<size_t>(c)]; }

std::optional<TensorClass> parse_tensor_class(std::string_view s) {
  for (size_t i = 0; i < kClassNames.size(); ++i)
    if (kClassNames[i] == s) return static_cast<TensorClass>(i);
  return std::nullopt;
}

bool is_ple_class(TensorClass c) {
  return c == TensorClass::per_layer_token_embd || c == TensorClass::per_layer_model_proj ||
         c == TensorClass::inp_gate || c == TensorClass::proj;
}

bool is_per_layer_class(TensorClass c) {
  switch (c) {
    case TensorClass::token_embd:
    case TensorClass::output:
    case TensorClass::per_layer_token_embd:
    case TensorClass::per_layer_model_proj:
    case TensorClass::norms:
      return false;
    default:
      return true;
  }
}

SourceLoc ModelSpec::loc(std::string_view key_path) const {
  std::string path(key_path);
  while (true) {
    if (auto it = key_locs.find(path); it != key_locs.end()) return it->second;
    size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos) break;
    path.resize(cut);
  }
  if (auto it = key_locs.find(""); it != key_locs.end()) return it->second;
  return SourceLoc{std::make_shared<const std::string>(source_path), 0, 0};
}

const TensorSpec* ModelSpec::find_tensor(std::string_view tensor_name) const {
  for (const TensorSpec& t : tensors)
    if (t.name == tensor_name) return &t;
  return nullptr;
}

bool use_more_bits(int ordinal, int count) {
  return ordinal < count / 8 || ordinal >= 7 * count / 8 || (ordinal - count / 8) % 3 == 2;
}

}  // namespace g4c
