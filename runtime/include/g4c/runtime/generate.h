// Greedy generation for a batch of prompts on any backend: every sequence advances one token per
// step, feeding its prompt first and then its own samples, all sequences in one batched step.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "g4c/runtime/backend.h"

namespace g4c {

struct GenerateOptions {
  int steps = 16;             // tokens to generate per sequence after its prompt
  bool keep_logits = false;   // keep the logits of every (sequence, position)
};

struct GenerateResult {
  std::vector<std::vector<int32_t>> generated;          // per sequence
  std::vector<std::vector<std::vector<float>>> logits;  // [sequence][position][vocab] when kept
  int64_t decode_steps = 0;
};

std::optional<GenerateResult> generate(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options, DiagnosticEngine& diag);

}  // namespace g4c
