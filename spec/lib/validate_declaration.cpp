// Rules that relate several declared keys, checked before anything is derived from them; and,
// once layers and tensors are derived, the sizes they add up to.
#include "resolve.h"

#include <algorithm>
#include <limits>
#include <set>

#include "g4c/spec/describe.h"
#include "g4c/spec/limits.h"
#include "g4c/support/checked_math.h"
#include "g4c/support/text.h"

namespace g4c::detail {

namespace {

void error(const ModelSpec& spec, DiagnosticEngine& diag, const std::string& key, std::string_view what,
           std::string_view got = {}, std::string_view expected = {}) {
  diag.error(spec.loc(key), keyed_message(key, what, got, expected));
}

void check_kind(const ModelSpec& spec, LayerKind kind, DiagnosticEngine& diag) {
  const AttentionKindSpec& k = spec.kind_spec(kind);
  if (!k.declared) return;
  std::string base = "attention." + std::string(name(kind));
  if (spec.query_heads % k.kv_heads != 0)
    error(spec, diag, base + ".kv_heads", "must divide attention.query_heads (" + std::to_string(spec.query_heads) + ")",
          std::to_string(k.kv_heads), "a divisor of " + std::to_string(spec.query_heads));
  if (k.head_dim % 2 != 0)
    error(spec, diag, base + ".head_dim", "RoPE pairs element i with i + head_dim/2, so head_dim must be even",
          std::to_string(k.head_dim), "an even number");
  else if (k.rotated_pairs() < 1)
    error(spec, diag, base + ".rope_fraction", "rotates no pair of the head (int(fraction * head_dim / 2) = 0)",
          format_double(k.rope_fraction), ">= " + format_double(2.0 / k.head_dim));
  if (kind == LayerKind::sliding && k.window > spec.context)
    error(spec, diag, base + ".window", "a window cannot be longer than the context", std::to_string(k.window),
          "1.." + std::to_string(spec.context) + " (model.context)");
}

void check_shared_kv(const ModelSpec& spec, DiagnosticEngine& diag) {
  if (spec.shared_kv_layers >= spec.num_layers)
    error(spec, diag, "attention.shared_kv_layers", "the layers before the shared range must own the caches",
          std::to_string(spec.shared_kv_layers), "less than " + std::to_string(spec.num_layers) + " (model.layers)");
  if (spec.ffn_double_wide_shared_kv && spec.shared_kv_layers == 0)
    error(spec, diag, "ffn.double_wide_shared_kv", "doubles the FFN of shared-KV layers, but there are none",
          "true", "attention.shared_kv_layers > 0");
}

void check_quant_classes(const ModelSpec& spec, DiagnosticEngine& diag) {
  for (const auto& [cls, type] : spec.quant_class) {
    std::string key = "quant." + std::string(name(cls));
    if (is_ple_class(cls) && !spec.has_ple())
      error(spec, diag, key, "a per-layer-embedding tensor, but the model has no PLE", {},
            "a [ple] table with width > 0");
    if (cls == TensorClass::output && spec.tied_embeddings)
      error(spec, diag, key, "embeddings are tied, so the LM head is token_embd; set quant.token_embd", {},
            "model.tied_embeddings = false");
  }
  for (const QuantRule& rule : spec.quant_rules)
    for (TensorClass cls : rule.classes)
      if (is_ple_class(cls) && !spec.has_ple())
        error(spec, diag, rule.key_path + ".tensors", "names " + std::string(name(cls)) + ", but the model has no PLE",
              {}, "a [ple] table with width > 0");
}

// Token ids index both embedding tables: the per-layer one needs a row for every token id.
void check_ple_vocab(const ModelSpec& spec, DiagnosticEngine& diag) {
  if (spec.has_ple() && spec.ple_vocab < spec.vocab)
    error(spec, diag, "ple.vocab", "fewer rows than the model's vocabulary (token ids index this table too)",
          std::to_string(spec.ple_vocab), "at least " + std::to_string(spec.vocab) + " (model.vocab)");
}

void check_overrides(const ModelSpec& spec, DiagnosticEngine& diag) {
  std::set<int> seen;
  for (const LayerOverride& o : spec.overrides) {
    if (!seen.insert(o.index).second)
      error(spec, diag, o.key_path + ".index", "layer overridden twice", std::to_string(o.index),
            "one [[layer]] table per layer");
  }
}

// ---- sizes ----

// The declared dimensions are capped one by one, but their products are not: the totals are
// summed with overflow checks, and a total past int64 is as unholdable as one past the cap.
std::optional<int64_t> tensor_bytes(const TensorSpec& t) { return checked_mul(row_bytes(t.type, t.ne0), t.ne1); }

std::optional<int64_t> total_weight_bytes(const ModelSpec& spec) {
  std::optional<int64_t> total = 0;
  for (const TensorSpec& t : spec.tensors) {
    auto bytes = tensor_bytes(t);
    if (!bytes || !(total = checked_add(*total, *bytes))) return std::nullopt;
  }
  return total;
}

// The most one sequence's KV caches can take: K and V of every layer that owns a cache (a k_eq_v
// cache the compiler stores as V alone takes half), a window of slots on sliding layers, the whole
// context on global ones.
std::optional<int64_t> total_kv_bytes_per_sequence(const ModelSpec& spec) {
  std::optional<int64_t> total = 0;
  for (const LayerSpec& l : spec.layers) {
    if (!l.owns_kv) continue;
    const int64_t per_token = 2 * row_bytes(spec.kv_dtype, int64_t{l.kv_heads} * l.head_dim);
    auto bytes = checked_mul(per_token, l.window > 0 ? l.window : spec.context);
    if (!bytes || !(total = checked_add(*total, *bytes))) return std::nullopt;
  }
  return total;
}

// What to shrink first. Every model has tensors (token_embd at least).
const TensorSpec& largest_tensor(const ModelSpec& spec) {
  auto size = [](const TensorSpec& t) { return tensor_bytes(t).value_or(std::numeric_limits<int64_t>::max()); };
  return *std::max_element(spec.tensors.begin(), spec.tensors.end(),
                           [&](const TensorSpec& a, const TensorSpec& b) { return size(a) < size(b); });
}

void check_weight_bytes(const ModelSpec& spec, DiagnosticEngine& diag) {
  auto bytes = total_weight_bytes(spec);
  if (bytes && *bytes <= kMaxWeightBytes) return;
  const TensorSpec& t = largest_tensor(spec);
  error(spec, diag, "model",
        "the weights would need more memory than any device has; the largest tensor is " + t.name + ", " +
            std::string(name(t.type)) + " [" + std::to_string(t.ne0) + ", " + std::to_string(t.ne1) + "]",
        byte_count_text(bytes), "at most " + byte_count_text(kMaxWeightBytes));
}

void check_kv_bytes(const ModelSpec& spec, DiagnosticEngine& diag) {
  auto bytes = total_kv_bytes_per_sequence(spec);
  if (bytes && *bytes <= kMaxKvBytesPerSequence) return;
  error(spec, diag, "model.context",
        "the KV cache of one sequence at this context would need more memory than any device has",
        byte_count_text(bytes), "at most " + byte_count_text(kMaxKvBytesPerSequence));
}

}  // namespace

void validate_sizes(const ModelSpec& spec, DiagnosticEngine& diag) {
  check_weight_bytes(spec, diag);
  check_kv_bytes(spec, diag);
}

void validate_declaration(const ModelSpec& spec, DiagnosticEngine& diag) {
  check_kind(spec, LayerKind::sliding, diag);
  check_kind(spec, LayerKind::global, diag);
  check_shared_kv(spec, diag);
  check_quant_classes(spec, diag);
  check_ple_vocab(spec, diag);
  check_overrides(spec, diag);
}

}  // namespace g4c::detail
