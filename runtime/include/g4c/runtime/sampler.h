// Choosing the next token from a row of logits: greedy (the first largest logit, as the plan's
// sample op), or temperature sampling restricted to the top k and/or the top-p probability mass,
// from a seeded stream keyed by (seed, sequence, position) — so a sequence's samples never depend
// on which other sequences share its steps, and a run repeats exactly.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace g4c {

struct SamplingOptions {
  double temperature = 0;  // 0: greedy
  int64_t top_k = 0;       // 0: every token
  double top_p = 1;        // keep the most likely tokens whose probabilities reach this mass
  uint64_t seed = 0;
  bool greedy() const { return temperature <= 0; }
};

// Empty when the options make sense; else what is wrong ("--top-p: ...").
std::string check_sampling_options(const SamplingOptions& options);

// The token for `sequence` (a stable id, e.g. its index in the request list) at `position`.
int32_t sample_token(std::span<const float> logits, const SamplingOptions& options, uint64_t sequence,
                     int64_t position);

}  // namespace g4c
