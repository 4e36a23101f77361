// The normalized description of a model (`g4c compile --emit=spec`): model-wide settings, a line
// per layer, and totals (parameters, weight bytes per class, bytes streamed per decode token,
// KV bytes per token). Byte-identical for the same declaration and flags on every machine.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <vector>

#include "g4c/spec/model_spec.h"

namespace g4c {

struct ClassTotals {
  int tensors = 0;
  int64_t parameters = 0;
  int64_t bytes = 0;
  std::map<QuantType, int> types;  // type → tensor count
};

// Weight bytes one decode step of one token reads: every matrix once, the LM head, the norm
// vectors, and one row of each embedding table (the tables themselves are gathered, not streamed).
struct StreamedBytes {
  int64_t matrices = 0;        // attention, FFN and PLE matrices of the layers
  int64_t lm_head = 0;         // token_embd when tied, else output
  int64_t norms = 0;
  int64_t embedding_rows = 0;  // one token_embd row (+ one per_layer_token_embd row)
  int64_t total() const { return matrices + lm_head + norms + embedding_rows; }
};

struct ModelTotals {
  int64_t parameters = 0;
  int64_t weight_bytes = 0;
  std::map<TensorClass, ClassTotals> classes;
  StreamedBytes streamed;
};

// What the KV caches take. What a cache stores is the compiler's decision (K and V, or V alone on
// k_eq_v layers), so the compiled plan's caches give these (plan::kv_footprint); the model alone
// does not.
struct KvFootprint {
  std::vector<int64_t> bytes_per_token;  // by layer index: what its cache grows by per position, 0 without one
  int64_t bytes_per_token_total = 0;
  int64_t bytes_per_sequence = 0;  // every cache at its slots
};

ModelTotals compute_totals(const ModelSpec& spec);
void describe_model(const ModelSpec& spec, const KvFootprint& kv, std::ostream& os);

}  // namespace g4c
