// Weights for a plan, from `random:seed=N` or a GGUF file, checked against the plan: every tensor
// the plan reads must exist with the plan's type and shape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "g4c/gguf/file.h"
#include "g4c/kernels/random_blocks.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/weights.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

// The shapes of the tensors a plan reads, in the plan's order.
std::vector<TensorShape> plan_tensor_shapes(const plan::Plan& plan);

// Values of tensors that are structure rather than learned weights: rope_freqs (1 on the pairs the
// plan's proportional RoPE rotates, 1e30 on the others, as llama.cpp writes it).
std::map<std::string, std::vector<float>> structural_tensors(const plan::Plan& plan);

// The generator parameters of one tensor of a model of `layers` layers (shared with the GPU
// generator).
RandomTensorParams random_tensor_params(const TensorShape& shape, uint64_t model_seed, int64_t layers);

// The number of layers whose tensors (blk.N.*) are among `shapes`.
int64_t count_layers(std::span<const TensorShape> shapes);

// Seeded random weights in the declared types; identical bytes for the same seed everywhere.
WeightSet random_weights(std::span<const TensorShape> shapes, uint64_t seed,
                         const std::map<std::string, std::vector<float>>& structural = {});

// N of a `random:seed=N` source; nullopt for anything else (a file path).
std::optional<uint64_t> parse_random_seed(const std::string& source);

// Whether `weights` holds every tensor the plan reads with the plan's type and shape; reports the
// first that does not.
bool check_weights_match_plan(const plan::Plan& plan, const WeightSet& weights, DiagnosticEngine& diag);

struct WeightLoadOptions {
  // Check every tensor of a GGUF file for NaN and infinities (g4run --check-tensors), not only
  // the vectors (norms, scales), which are always checked.
  bool check_every_tensor = false;
};

// `random:seed=N` or a path to a GGUF file. Reports a clear error when the source cannot be read,
// does not fit in memory, or disagrees with the plan (a missing tensor, another type or shape,
// attn_v where the plan aliases V, per-layer KV heads that differ from the plan's caches, a tensor
// of another model), or when a vector of the file (every tensor, with check_every_tensor) holds a
// NaN or an infinity. A GGUF file's tensors are copied into memory: it is never mapped.
std::optional<WeightSet> load_weights(const plan::Plan& plan, const std::string& source, DiagnosticEngine& diag,
                                      const WeightLoadOptions& options = {});

// The same for a GGUF file already read (the binding fuzzer's entry point).
std::optional<WeightSet> bind_gguf_weights(const plan::Plan& plan, const gguf::File& file, DiagnosticEngine& diag,
                                           const WeightLoadOptions& options = {});

// Where a tensor first holds a NaN or an infinity ("tensor X holds NaN at row 3, column 17"), or
// empty when every value is finite.
std::string first_non_finite(const HostTensor& t);

}  // namespace g4c
