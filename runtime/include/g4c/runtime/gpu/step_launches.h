// The step as data: every op's launch records at one width (launch_record.h), built once from the
// plan, the width's memory and the device's limits by the launchers themselves. The executor
// enqueues them (captured as a graph, eagerly, or op by op for `profile`); `g4run plan-launches`
// prints them, from symbolic memory, without a device.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "g4c/plan/kernels.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/gpu/launch_record.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gpu {

// A weight as the launchers read it.
struct WeightView {
  QuantType type = QuantType::F32;
  int64_t ne0 = 0, ne1 = 1;
  const void* data = nullptr;     // in the plan's layout
  const void* f16 = nullptr;      // the cublas route's fp16 copy of a quantized matrix
  const float* floats = nullptr;  // a vector as floats
};

// A KV cache's planes: K (null on a v_only cache) and V, each sequences × the cache's slots.
struct CachePlanes {
  void* k = nullptr;
  void* v = nullptr;
};

// A v_only cache's keys, and the queries and keys of rms_norm_rope, rotate by the (cos, sin) of
// their rotated pairs at every position of the plan's context: one table per distinct RoPE,
// [position][pair] (cpu::rope_table).
using RopeTableKey = std::tuple<int64_t, int64_t, double>;  // head_dim, rotated_pairs, theta
inline RopeTableKey rope_table_key(const plan::Op& rms_norm_rope) {
  return {rms_norm_rope.get_int("head_dim"), rms_norm_rope.get_int("rotated_pairs"),
          rms_norm_rope.get_number("theta")};
}

// The zeroed counters the last-block kernels of one width's step take (StepMemory::tickets), at
// least one: a `combine = last_block` attention's per row, a geglu epilogue's per segment and row
// group. Kernels run one after another and leave them zeroed, so the step shares one set.
int64_t step_tickets(const plan::Plan& plan, int64_t width);

// Where one width's step reads and writes, and what it launches.
struct StepMemory {
  int64_t width = 0;
  char* arena = nullptr;                   // width × the plan's buffers' seq_bytes
  const int32_t* staging = nullptr;        // the step's tokens, positions and sequences, width each
  unsigned* tickets = nullptr;             // zeroed counters of last-block kernels (step_tickets)
  int64_t sequences = 0;                   // rows each KV cache holds
  bool rope_tables = true;                 // false: the norm+RoPE kernels compute each angle
  int64_t attention_splits = 0;            // 0: attention_splits' choice at each width; else fixed
  DeviceLimits limits;                     // complete: the geometry must not depend on the host
  std::function<cudaKernel_t(const plan::KernelInstance&)> kernel;  // null: not compiled
  std::function<WeightView(const std::string& weight)> weight;
  std::function<CachePlanes(const std::string& cache)> cache;
  std::function<const float*(const RopeTableKey&)> rope_table;
};

// One op's launches: the op, the ops its launches compute beside it (`launched_with`), the
// route a matmul takes at this width, and the records in launch order.
struct OpLaunches {
  const plan::Op* op = nullptr;
  std::vector<const plan::Op*> group;
  std::string route;
  std::vector<LaunchRecord> records;
};

struct StepLaunches {
  int64_t width = 0;
  DeviceLimits limits;
  std::vector<OpLaunches> ops;  // plan order; ops that launch nothing are left out
  // The step's inputs (filled from the staging copy by the input ops' records) and outputs.
  int32_t *tokens = nullptr, *positions = nullptr, *sequences = nullptr;
  const float* logits = nullptr;
  const int32_t* next = nullptr;

  int64_t kernel_launches() const;  // plan::launches_per_step(plan, width) when built from plan
};

// The records of every op of `plan` at memory.width, or nullopt with the reason in `diag` (a
// kernel not compiled, a matmul without a route there, a launcher refusing its call).
std::optional<StepLaunches> build_step_launches(const plan::Plan& plan, const StepMemory& memory,
                                                DiagnosticEngine& diag);

// A step built in symbolic memory (distinct aligned addresses that are never dereferenced, kernel
// handles that stand for their instances): what a device of `limits` launches, without a device;
// `attention_splits` as StepMemory's.
struct SymbolicStep {
  StepLaunches step;
  std::vector<std::string> kernel_keys;  // the instances the handles stand for
  std::string kernel_key(cudaKernel_t kernel) const;
};
std::optional<SymbolicStep> symbolic_step_launches(const plan::Plan& plan, int64_t width, DeviceLimits limits,
                                                   DiagnosticEngine& diag, int64_t attention_splits = 0);

// The records as text: a line per op (`%result kind [route] [+ %member ...]`), an indented line
// per record (`kernel KEY grid XxYxZ block XxYxZ shared B args B`, `cublas gemm M x N x K TYPE`,
// `copy B bytes`), headed by the width, the device limits and the launch count.
std::string print_step_launches(const StepLaunches& step, const std::function<std::string(cudaKernel_t)>& kernel_key);

}  // namespace g4c::gpu
