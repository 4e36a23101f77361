// g4run bench and g4run profile: time a plan's decode steps, whole or op by op, on the GPU executor.
#include <algorithm>
#include <iostream>

#include "g4c/plan/parser.h"
#include "g4c/runtime/gpu/bench.h"
#include "g4c/runtime/gpu/profile_page.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"
#include "g4run_common.h"

namespace g4run {

const std::vector<g4c::OptionSpec>& bench_options() {
  static const std::vector<g4c::OptionSpec> options = {
      kWeightsOption,
      kCheckTensorsOption,
      {"batch", true, false, "list", "numbers of sequences to time, e.g. 1,8,32 (default: every compiled width)"},
      {"prompt", true, false, "n", "prompt tokens per sequence before timing (default 128)"},
      {"context", true, false, "n", "time the steps after n positions of context instead of a prompt (caches not filled: attention reads as many bytes)"},
      {"steps", true, false, "n", "decode steps timed (default 128)"},
      {"json", false, false, "", "print the results as JSON"},
      kNoOverlapOption,
      kEarlyLaunchOption,
      kNoRopeTablesOption,
      kWeightStagesOption,
      kStageMemoryOption,
      kAttentionStagesOption,
      kAttentionSplitsOption,
      kCacheDirOption,
      kNoCacheOption,
      kHelpOption,
  };
  return options;
}

const std::vector<g4c::OptionSpec>& profile_options() {
  static const std::vector<g4c::OptionSpec> options = {
      kWeightsOption,
      kCheckTensorsOption,
      {"batch", true, false, "n", "sequences decoding together (default 1)"},
      {"prompt", true, false, "n", "prompt tokens per sequence before profiling (default 128)"},
      {"repeats", true, false, "n", "timed runs of every op; the median is shown (default 20)"},
      {"html", true, false, "file", "also write the profile as a self-contained page: timeline, bandwidth chart, table"},
      kNoOverlapOption,
      kEarlyLaunchOption,
      kNoRopeTablesOption,
      kWeightStagesOption,
      kStageMemoryOption,
      kAttentionStagesOption,
      kAttentionSplitsOption,
      kCacheDirOption,
      kNoCacheOption,
      kHelpOption,
  };
  return options;
}

// Times decode for each requested number of sequences on the GPU executor.
int bench(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "bench", bench_options(), exit_code);
  if (!args) return exit_code;
  auto source = required_weights(*args, "bench", exit_code);
  if (!source) return exit_code;
  std::string error;
  auto prompt = positive_option(*args, "prompt", 128, error);
  auto steps = prompt ? positive_option(*args, "steps", 128, error) : std::nullopt;
  auto context = steps ? positive_option(*args, "context", 0, error) : std::nullopt;
  if (!context) return usage_error(error);
  if (*context > 0 && args->has("prompt")) return usage_error("--prompt and --context contradict each other");
  g4c::CommandDiagnostics diag(kTool);
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return diag.finish(kInputError);
  const std::optional<std::vector<int64_t>> sizes = batch_sizes(*args, *plan, error);
  if (!sizes) return usage_error(error);
  const std::vector<int64_t>& batch = *sizes;
  if (*context > 0 && *context + *steps > plan->header.context)
    return usage_error("--context + --steps: " + std::to_string(*context + *steps) +
                       " positions, past the plan's context (" + std::to_string(plan->header.context) + ")");
  if (*context == 0 && *prompt + *steps > plan->header.context)
    return usage_error("--prompt + --steps: " + std::to_string(*prompt + *steps) + " positions, past the plan's context (" +
                       std::to_string(plan->header.context) + ")");
  if (!has_device()) {
    diag.error({}, "bench: needs a CUDA device (none found)");
    return diag.finish(kInputError);
  }
  std::optional<g4c::WeightSet> host;
  const int widest = static_cast<int>(*std::max_element(batch.begin(), batch.end()));
  auto executor = make_executor(*plan, *source, widest, *args, host, diag);
  if (!executor) return diag.finish(kInputError);
  const double copy_gbps = g4c::gpu::copy_bandwidth_gbps();
  std::vector<g4c::gpu::BenchResult> results;
  for (int64_t n : batch) {
    std::cerr << "g4run: bench: " << n << " sequences, "
              << (*context > 0 ? std::to_string(*context) + " positions of context, " : std::to_string(*prompt) + " prompt tokens, ")
              << *steps << " steps\n";
    auto r = g4c::gpu::bench(*executor, static_cast<int>(n), static_cast<int>(*prompt), static_cast<int>(*steps),
                             copy_gbps, diag, *context);
    if (!r) return diag.finish(kInputError);
    r->attention = g4c::gpu::attention_times(*executor, r->width);
    results.push_back(*r);
  }
  if (args->has("json")) {
    std::cout << g4c::gpu::format_bench_json(plan->header.name, results, copy_gbps);
  } else {
    std::cout << plan->header.name << " on " << executor->device().name << ", weights " << *source << ", launch overlap "
              << (g4c::gpu::launch_overlap() ? (args->has("early-launch") ? "on (early)" : "on") : "off")
              << ", weight stages "
              << g4c::gpu::weight_stages()
              << (g4c::gpu::stage_memory() == g4c::gpu::StageMemory::full ? " (full stage memory)" : "")
              << ", attention stages " << g4c::gpu::attention_stages() << "\n"
              << g4c::gpu::format_bench_table(results, copy_gbps);
  }
  return diag.finish(0);
}

// Times every op of one width's step.
int profile(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "profile", profile_options(), exit_code);
  if (!args) return exit_code;
  auto source = required_weights(*args, "profile", exit_code);
  if (!source) return exit_code;
  std::string error;
  auto batch = positive_option(*args, "batch", 1, error);
  auto prompt = batch ? positive_option(*args, "prompt", 128, error) : std::nullopt;
  auto repeats = prompt ? positive_option(*args, "repeats", 20, error) : std::nullopt;
  if (!repeats) return usage_error(error);
  if (auto html = args->value("html")) {
    if (std::string conflict = g4c::output_input_conflict("--html", *html, {args->positional[0], *source});
        !conflict.empty())
      return usage_error(conflict);
  }
  g4c::CommandDiagnostics diag(kTool);
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return diag.finish(kInputError);
  if (*batch > plan->header.widths.back())
    return usage_error("--batch: " + std::to_string(*batch) + " sequences: the plan serves 1.." +
                       std::to_string(plan->header.widths.back()));
  if (*prompt >= plan->header.context)
    return usage_error("--prompt: " + std::to_string(*prompt) + " tokens, past the plan's context");
  if (!has_device()) {
    diag.error({}, "profile: needs a CUDA device (none found)");
    return diag.finish(kInputError);
  }
  std::optional<g4c::WeightSet> host;
  auto executor = make_executor(*plan, *source, static_cast<int>(*batch), *args, host, diag);
  if (!executor) return diag.finish(kInputError);
  // Fill the caches so attention reads `prompt` positions of context.
  auto result = g4c::gpu::bench(*executor, static_cast<int>(*batch), static_cast<int>(*prompt), 1, 0, diag);
  if (!result) return diag.finish(kInputError);
  // The timed step is the one at position `prompt` (bench's one decode step), which each op replays.
  const std::vector<int32_t> positions(static_cast<size_t>(*batch), static_cast<int32_t>(*prompt));
  g4c::gpu::ProfilePage page{plan->header.name + " on " + executor->device().name + ": " + std::to_string(*batch) +
                                 " sequences (width " + std::to_string(result->width) + ") at position " +
                                 std::to_string(*prompt),
                             executor->profile(result->width, positions, static_cast<int>(*repeats)), 0};
  std::cout << page.title << ", median of " << *repeats << " runs per op\n" << g4c::gpu::format_profile(page.timings);
  // The same step inside graphs: what each kind costs where launches are cheap.
  page.step_ms = executor->time_step(result->width, static_cast<int>(*repeats));
  page.parts = executor->time_step_parts(result->width, static_cast<int>(*repeats));
  std::cout << "\nin the captured step (each kind's launches replayed alone as a graph, median of " << *repeats
            << " runs)\n" << g4c::gpu::format_step_parts(page.parts, page.step_ms);
  if (auto html = args->value("html")) {
    page.copy_gbps = g4c::gpu::copy_bandwidth_gbps();
    std::string why;
    if (!g4c::write_output_file(*html, g4c::gpu::format_profile_html(page), why)) {
      diag.error({}, "profile: cannot write " + g4c::quote(*html) + ": " + why);
      return diag.finish(kInputError);
    }
    std::cerr << "g4run: profile: wrote " << *html << "\n";
  }
  return diag.finish(0);
}

}  // namespace g4run
