// Decode benchmarks on the GPU executor: steady-state tok/s for N sequences, the bytes a step
// must read, and the floor those bytes set at the copy bandwidth measured in the same process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "g4c/runtime/gpu/executor.h"

namespace g4c::gpu {

// Device-to-device copy bandwidth in GB/s (bytes read + written per second), the median of
// several 1 GiB copies. The decode floor is a step's bytes at this rate (DESIGN.md §9).
double copy_bandwidth_gbps();

// The step's attention ops timed alone, in ms: all of them and those over whole-context caches
// (window 0: the 12B's global layers), whose time grows with the context.
struct AttentionTimes {
  double all = 0, full_context = 0;
};

struct BenchResult {
  int sequences = 0;
  int64_t width = 0;          // the compiled width that ran
  int prompt = 0, steps = 0;
  int64_t context = 0;        // positions before the first timed step
  double step_ms = 0;         // median device time of one decode step (graph replay)
  double wall_step_ms = 0;    // host-measured, including the token copies
  double tokens_per_s = 0;    // aggregate, from wall time
  double tokens_per_s_per_sequence = 0;
  int64_t weight_bytes = 0;   // per step, as the routes read them: plan::step_weight_bytes_read
  int64_t stored_weight_bytes = 0;  // per step, as stored (the floor's): plan::step_stored_weight_bytes
  int64_t kv_bytes = 0;       // per step at the positions the timed steps reach on average: plan::step_kv_bytes_read
  double achieved_gbps = 0;   // (weight + KV bytes) / step_ms
  double floor_fraction = 0;  // the copy-bandwidth floor's time ((stored weight + KV bytes) / copy) / step_ms
  AttentionTimes attention;   // attention_times(), when the caller measured them
  int64_t launches = 0;       // kernel launches per step (plan::launches_per_step)
};

// Feeds `prompt` tokens to each of `sequences` sequences (slots 0..), then decodes `steps`
// steps, timing them; copy_gbps is copy_bandwidth_gbps()'s result. With `skip_to` > 0 no prompt
// is fed: the timed steps start at position skip_to over caches as they are (attention reads as
// many bytes whatever they hold), so long contexts are timed without prefilling them.
std::optional<BenchResult> bench(Executor& executor, int sequences, int prompt, int steps, double copy_gbps,
                                 DiagnosticEngine& diag, int64_t skip_to = 0);

// The step's attention ops at a width, each timed alone (median of a few runs): run after bench()
// so they read its context.
AttentionTimes attention_times(Executor& executor, int64_t width);

std::string format_bench_table(const std::vector<BenchResult>& results, double copy_gbps);
std::string format_bench_json(const std::string& plan_name, const std::vector<BenchResult>& results, double copy_gbps);

// The per-op profile of a width as a table: op, kind, route, ms, share of the step, GB/s of the
// bytes each op reads (OpTiming::bytes_read).
std::string format_profile(const std::vector<OpTiming>& timings);
// Executor::time_step_parts as a table: each kind's launches replayed alone against the whole
// captured step, and the sum of the kinds (near the step when launches do not overlap).
std::string format_step_parts(const std::vector<StepPart>& parts, double step_ms);

}  // namespace g4c::gpu
