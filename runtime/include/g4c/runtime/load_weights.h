// Weights for a plan, from `random:seed=N` or a GGUF file, checked against the plan: every tensor
// the plan reads must exist with the plan's type and shape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

// `random:seed=N` or a path to a GGUF file. Reports a clear error when the source cannot be read
// or disagrees with the plan (a missing tensor, another type or shape, attn_v where the plan
// aliases V, per-layer KV heads that differ from the plan's caches).
std::optional<WeightSet> load_weights(const plan::Plan& plan, const std::string& source, DiagnosticEngine& diag);

}  // namespace g4c
