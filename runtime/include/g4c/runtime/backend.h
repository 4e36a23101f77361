// What runs decode steps: the CPU plan interpreter or the GPU executor (runtime/gpu). Generation,
// benchmarks and tests drive any backend through this interface.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

struct StepRows {
  std::span<const int32_t> tokens;
  std::span<const int32_t> positions;
  std::span<const int32_t> sequences;  // cache slot of each row's sequence
};

struct StepOutput {
  int64_t width = 0;           // the compiled width that ran (≥ the rows given)
  std::vector<float> logits;   // rows × vocab
  std::vector<int32_t> next;   // rows
};

class DecodeBackend {
 public:
  virtual ~DecodeBackend() = default;
  // One decode step; nullopt after reporting bad rows (token, position or slot out of range).
  virtual std::optional<StepOutput> step(const StepRows& rows, DiagnosticEngine& diag) = 0;
  virtual int64_t vocab() const = 0;
  virtual int64_t max_rows() const = 0;
  // Rows one sequence may have in a step (consecutive positions: a prefill chunk).
  virtual int64_t max_rows_per_sequence() const = 0;
};

// What every backend checks before a step: one token, position and slot per row; 1..widest width
// rows; token ids inside the vocabulary; positions inside the plan's context; slots below
// `max_sequences`; a slot's rows (at most the plan's prefill_chunk) at consecutive positions.
// Reports the first violation.
bool check_step_rows(const plan::Plan& plan, int max_sequences, const StepRows& rows, DiagnosticEngine& diag);

}  // namespace g4c
