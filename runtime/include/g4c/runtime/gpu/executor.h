// The GPU backend: runs a plan's decode step on one CUDA device, exactly as the plan lays it out —
// one arena per compiled width with every value at its buffer offset, a KV cache per plan cache
// for `max_sequences` sequences (rings of `window` slots, shared-KV layers reading their source's
// cache), each op launched on its route with the kernel instances the plan lists (NVRTC, through
// the disk cache), and the whole step of a width captured once into a CUDA graph and replayed.
//
// Weights come from host tensors (a GGUF mapping, or the CPU generator) or are generated on the
// device from a seed, bit for bit as random_weights() would write them.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/runtime/backend.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/jit.h"
#include "g4c/runtime/weights.h"

namespace g4c::gpu {

// Where the weights come from: host tensors checked against the plan, or `random:seed=N`
// generated on the device.
struct WeightSource {
  const WeightSet* host = nullptr;
  std::optional<uint64_t> random_seed;
  std::string description() const;
};

struct ExecutorOptions {
  int max_sequences = 1;
  JitOptions jit;            // arch is taken from the device
  bool use_graphs = true;    // capture each width's step into a CUDA graph
  bool keep_logits = true;   // copy every step's logits back (tokens are always copied)
  // rms_norm_rope looks its (cos, sin) up in the host-made tables (off: computes them in double in
  // each kernel, as before; for A/B timing, `g4run --no-rope-tables`).
  bool rope_tables = true;
  // Splits of each row's keys in attention: 0 chooses them per width and layer (launch_ops'
  // attention_splits: 8 to 128, more where few rows meet a long cache); 8, 16, 32, 64 or 128 fixes them (for
  // A/B timing, `g4run --attention-splits N`).
  int64_t attention_splits = 0;
  // Kernels built with G4C_EARLY_LAUNCH (kernels/launch_order.cuh): each lets the next launch once
  // its blocks are past their wait, not as they exit. Opt-in: measured faster at N = 1, slower from
  // N = 8 (docs/perf.md; `g4run --early-launch`).
  bool early_launch = false;
  // Fill every width's arena with NaN (0xFF bytes) before each step, and KV caches when created
  // and reset, so a value read before it is written shows as NaN in the logits. For tests.
  bool poison_memory = false;
  std::function<void(const std::string&)> progress;  // "uploading weights 3.1/6.9 GB", or null
};

// One op's launches at one width, for profiles.
struct OpTiming {
  std::string op;     // "%l5.q"
  std::string kind;   // "matmul"
  std::string route;  // matmul routes; empty for other ops
  double ms = 0;      // median over the repeats
  // Weight and KV bytes the op reads (plan::weight_bytes_read + plan::kv_bytes_read).
  int64_t bytes_read = 0;
};

// The launches of one op kind in a width's captured step, replayed alone as a graph of their own:
// what they cost inside a graph (launch gaps included), unlike OpTiming's one-by-one launches.
struct StepPart {
  std::string kind;  // "matmul", "input" (the step's input copies)
  int64_t launches = 0;
  double ms = 0;  // median over the repeats
};

// Device memory the executor needs, by purpose. `caches` is kv_per_sequence (plan::KvCache's
// seq_bytes summed) times the sequences; rope_tables are the (cos, sin) tables that rebuild the
// keys of v_only caches.
struct MemoryPlan {
  int64_t weights = 0, weight_copies = 0, caches = 0, arenas = 0, workspace = 0, rope_tables = 0;
  int64_t kv_per_sequence = 0;
  int64_t total() const { return weights + weight_copies + caches + arenas + workspace + rope_tables; }
  // How many sequences' caches fit in `free_bytes` beside everything else, keeping `headroom`.
  int64_t sequences_that_fit(int64_t free_bytes, int64_t headroom) const;
  // "weights 6.9 GiB, …, KV caches 0.60 GiB per sequence; 120 sequences fit in the 139.4 GiB free on NAME".
  std::string describe(int64_t free_bytes, int64_t headroom, const std::string& device) const;
};

// Device memory left free beside a plan's needs: the CUDA context's own allocations, cuBLAS, graphs.
inline constexpr int64_t kDeviceHeadroomBytes = int64_t{512} << 20;

// What the executor allocates for a plan and `max_sequences` sequences (computed on the host).
MemoryPlan plan_memory(const plan::Plan& plan, int max_sequences);

class Executor final : public DecodeBackend {
 public:
  // Compiles and loads the plan's kernels, places the weights, caches and arenas on the device.
  // Reports a clear error when the weights disagree with the plan, when the device lacks the
  // memory (needed vs free) and when a kernel fails to compile; nullopt then.
  static std::unique_ptr<Executor> create(const plan::Plan& plan, const WeightSource& weights,
                                          const ExecutorOptions& options, DiagnosticEngine& diag);
  ~Executor() override;

  std::optional<StepOutput> step(const StepRows& rows, DiagnosticEngine& diag) override;
  int64_t vocab() const override { return plan_->header.vocab; }
  int64_t max_rows() const override { return plan_->header.widths.back(); }
  int64_t max_rows_per_sequence() const override { return plan_->header.prefill_chunk; }

  // Clears a sequence's caches so its slot can serve a new sequence.
  void reset_sequence(int slot);
  void set_keep_logits(bool keep) { keep_logits_ = keep; }

  // Times every op of a width's step (the caches and arena as they are; call after real steps so
  // attention reads real context, the rows at `positions`, which count its KV bytes). Ops in plan
  // order; the median of `repeats` runs each.
  std::vector<OpTiming> profile(int64_t width, std::span<const int32_t> positions, int repeats);
  // The median time of a whole step at a width (graph replay when graphs are on), in ms.
  double time_step(int64_t width, int repeats);
  // Each op kind's launches of a width's step captured alone and replayed (graphs always), in the
  // order kinds first appear in the step; empty when a capture fails. Buffers and caches are read
  // as they are: the times are the kernels', the values they leave meaningless until the next step.
  std::vector<StepPart> time_step_parts(int64_t width, int repeats);

  const MemoryPlan& memory() const { return memory_; }
  const plan::Plan& plan() const { return *plan_; }
  const DeviceInfo& device() const { return device_; }
  const JitStats& jit_stats() const { return jit_stats_; }
  // Nodes of the CUDA graph that replays a step of this width (0 without graphs): the step's
  // input copies and its kernel launches (plan::launches_per_step).
  int64_t graph_nodes(int64_t width) const;

  struct Impl;

 private:
  explicit Executor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  const plan::Plan* plan_;
  DeviceInfo device_;
  MemoryPlan memory_;
  JitStats jit_stats_;
  bool keep_logits_ = true;
};

}  // namespace g4c::gpu
