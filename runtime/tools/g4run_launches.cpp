// g4run plan-launches: what the GPU runs for a step, without running it.
#include <algorithm>
#include <iostream>

#include "g4c/plan/parser.h"
#include "g4c/runtime/gpu/step_launches.h"
#include "g4run_common.h"

namespace g4run {

namespace {

// sm_90 (H100, H200): what the launch geometry is decided for when no device says otherwise.
constexpr int kDefaultSmCount = 132;
constexpr int kDefaultSharedBytes = 232448;

}  // namespace

const std::vector<g4c::OptionSpec>& launches_options() {
  static const std::vector<g4c::OptionSpec> options = {
      {"batch", true, false, "list", "numbers of sequences, e.g. 1,8 (default: every compiled width); each runs at the plan's width for it"},
      {"sm-count", true, false, "n", "SMs of the device the grids are shaped for (default: the device's, else 132)"},
      {"max-shared", true, false, "bytes", "dynamic shared memory a block may take (default: the device's, else 232448)"},
      kAttentionSplitsOption,
      kWeightStagesOption,
      kStageMemoryOption,
      kAttentionStagesOption,
      kHelpOption,
  };
  return options;
}

// Prints every op's launch records at each width: kernel instance, grid, block, shared memory,
// argument bytes; the cuBLAS GEMMs and input copies. Built by the executor's own code in symbolic
// memory, so no device is needed.
int plan_launches(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "plan-launches", launches_options(), exit_code);
  if (!args) return exit_code;
  std::string error;
  g4c::gpu::DeviceLimits limits;
  if (std::string why; g4c::gpu::find_device(why))
    limits = g4c::gpu::device_limits();
  else if (!args->has("weight-stages"))
    g4c::gpu::set_weight_stages(g4c::gpu::kDefaultWeightStages);  // as on sm_90
  auto sm_count = positive_option(*args, "sm-count", limits.sm_count ? limits.sm_count : kDefaultSmCount, error);
  auto shared = sm_count ? positive_option(*args, "max-shared",
                                           limits.max_shared_bytes ? limits.max_shared_bytes : kDefaultSharedBytes, error)
                         : std::nullopt;
  if (!shared) return usage_error(error);
  limits = {static_cast<int>(*sm_count), static_cast<int>(*shared)};
  g4c::CommandDiagnostics diag(kTool);
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return diag.finish(kInputError);
  const std::optional<std::vector<int64_t>> batch = batch_sizes(*args, *plan, error);
  if (!batch) return usage_error(error);
  std::vector<int64_t> widths;  // each batch runs at the narrowest width that holds it
  for (int64_t n : *batch) widths.push_back(*std::lower_bound(plan->header.widths.begin(), plan->header.widths.end(), n));
  for (int64_t width : widths) {
    auto symbolic = g4c::gpu::symbolic_step_launches(*plan, width, limits, diag, *attention_splits_option(*args, error));
    if (!symbolic) return diag.finish(kInputError);
    std::cout << g4c::gpu::print_step_launches(symbolic->step, [&](cudaKernel_t k) { return symbolic->kernel_key(k); });
  }
  return diag.finish(0);
}

}  // namespace g4run
