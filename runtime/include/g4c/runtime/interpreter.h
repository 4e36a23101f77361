// The CPU backend: executes a plan op by op, exactly as the plan lays it out — values at their
// buffer offsets in the arena of the step's width, views and in-place results in shared bytes,
// ring caches indexed by position mod window, shared-KV layers reading their source's cache.
// float32 arithmetic, row by row, so a row's result never depends on the other rows of the batch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/plan/storage.h"
#include "g4c/runtime/backend.h"
#include "g4c/runtime/cpu_ops.h"
#include "g4c/runtime/weights.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

class Interpreter final : public DecodeBackend {
 public:
  // Checks that the weights match the plan (names, types, shapes) and that caches for
  // `max_sequences` sequences and an arena of the widest width fit in host memory. Returns
  // nullopt after reporting a mismatch or what does not fit.
  static std::optional<Interpreter> create(const plan::Plan& plan, const WeightSet& weights, int max_sequences,
                                           DiagnosticEngine& diag);
  // The host memory the interpreter allocates beside the weights: KV caches for `max_sequences`
  // and one arena of the widest width.
  static int64_t cache_bytes(const plan::Plan& plan, int max_sequences);
  static int64_t arena_bytes(const plan::Plan& plan);

  // One decode step. Rejects (with a diagnostic) more rows than the widest compiled width, token
  // ids outside the vocabulary, positions past the context and unknown sequence slots.
  std::optional<StepOutput> step(const StepRows& rows, DiagnosticEngine& diag) override;
  int64_t vocab() const override { return plan_->header.vocab; }
  int64_t max_rows() const override { return plan_->header.widths.back(); }
  int64_t max_rows_per_sequence() const override { return plan_->header.prefill_chunk; }

  // Forgets a sequence's cache contents (its slot can serve a new sequence).
  void reset_sequence(int slot);
  // From now on every step's arena, and every cache when allocated or reset, starts as NaN
  // (0xFF bytes) instead of zeros, so a value read before it is written shows as NaN. For tests.
  void poison_memory() { poison_ = true; }
  const plan::Plan& plan() const { return *plan_; }

 private:
  Interpreter(const plan::Plan& plan, const WeightSet& weights, int max_sequences);
  struct Cache {
    const plan::KvCache* decl = nullptr;
    std::vector<uint8_t> k, v;  // [sequence][slot][kv_heads × head_dim] elements of decl->dtype; no K when v_only
    std::vector<float> k_norm;  // v_only: the K-norm weight that rebuilds K
    cpu::KvCacheView view(int64_t sequences);
  };
  struct Step;  // the state of one step: width, arena, rows

  bool check_rows(const StepRows& rows, DiagnosticEngine& diag) const;
  void run_op(const plan::Op& op, Step& step);
  float* value(Step& step, const std::string& name);
  Cache& cache(const std::string& name);

  const plan::Plan* plan_;
  const WeightSet* weights_;
  int max_sequences_;
  plan::StorageAnalysis storage_;
  std::map<std::string, int64_t> buffer_offsets_;  // storage root → per-sequence offset
  std::map<std::string, Cache> caches_;
  bool poison_ = false;
};

}  // namespace g4c
