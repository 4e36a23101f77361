// Generation for a list of prompts on any backend, with continuous batching: up to `max_active`
// sequences decode together, each at its own position; a sequence still in its prompt feeds up to
// a prefill chunk of prompt tokens per step, one decoding sequence one token. When a sequence has
// its tokens it leaves and the next waiting prompt takes its cache slot at the next step. The
// step's row count picks the backend's compiled width.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "g4c/runtime/backend.h"
#include "g4c/runtime/sampler.h"

namespace g4c {

struct GenerateOptions {
  int steps = 16;             // tokens to generate per sequence after its prompt
  bool keep_logits = false;   // keep the logits of every (sequence, position)
  int max_active = 0;         // sequences decoding at once (0: the backend's widest step)
  // Prompt tokens one sequence feeds per step (0: the plan's prefill_chunk; 1: token by token).
  // Chunks share the step with decoding sequences, which always get their row first.
  int prompt_chunk = 0;
  SamplingOptions sampling;   // greedy unless a temperature is set
  // Each prompt's id in the sampling stream (default: its index), so a sequence run on its own
  // can draw what it drew beside others.
  std::vector<uint64_t> sequence_ids;
  // Called with each generated token as soon as it is drawn (prompt index, token); returning
  // false ends that sequence there, freeing its slot for a waiting prompt.
  std::function<bool(int64_t sequence, int32_t token)> on_token;
};

struct GenerateResult {
  std::vector<std::vector<int32_t>> generated;          // per prompt, in prompt order
  std::vector<std::vector<std::vector<float>>> logits;  // [sequence][position][vocab] when kept
  int64_t decode_steps = 0;
  std::vector<int64_t> rows_per_step;                   // how many sequences each step ran
};

// Why `sequences` cannot decode at once under a plan whose widest width is `widest`, or nothing.
std::string check_sequences_at_once(int64_t sequences, int64_t widest);

// The backend needs cache slots 0 .. max_active − 1. A new sequence in a slot needs no reset:
// attention only reads a row's positions up to its own, all written by the sequence itself.
std::optional<GenerateResult> generate(DecodeBackend& backend, const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options, DiagnosticEngine& diag);

}  // namespace g4c
