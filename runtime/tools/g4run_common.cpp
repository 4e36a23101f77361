#include "g4run_common.h"

#include <iostream>

#include "g4c/kernels/op_args.h"
#include "g4c/plan/tuning_file.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "g4c/runtime/jit.h"
#include "g4c/support/text.h"
#include "text_io.h"

namespace g4run {

const g4c::OptionSpec kWeightsOption = {"weights", true, false, "source", "random:seed=N, or a GGUF file"};
const g4c::OptionSpec kCheckTensorsOption = {"check-tensors", false, false, "",
                                             "check every tensor of a GGUF file for NaN and infinities (norms always are)"};
const g4c::OptionSpec kCacheDirOption = {"kernel-cache-dir", true, false, "dir",
                                         "where compiled kernels are cached (default ~/.cache/g4c/kernels)"};
const g4c::OptionSpec kNoCacheOption = {"no-kernel-cache", false, false, "", "compile every kernel, read and write no cache"};
const g4c::OptionSpec kHelpOption = {"help", false, false, "", "show this help"};
const g4c::OptionSpec kNoOverlapOption = {"no-launch-overlap", false, false, "",
                                          "launch each kernel only after the previous one ends (for A/B timing; "
                                          "default: overlapped on sm_90+)"};

const g4c::OptionSpec kWeightStagesOption = {
    "weight-stages", true, false, "n",
    "records each mma16/mma16h warp keeps in flight through shared memory: 0 streams them through registers, "
    "1 to 8 fixes the count (for A/B timing; default: 2 on sm_90+)"};

const g4c::OptionSpec kStageMemoryOption = {
    "stage-memory", true, false, "sized|full",
    "shared memory of each mma16/mma16h warp's weight stages: 13,824 bytes whatever the count, or sized by the "
    "count (opt-in: measured within 0.6%, no GPU oracle run yet; default: full)"};

const g4c::OptionSpec kAttentionStagesOption = {
    "attention-stages", true, false, "n",
    "shared-memory stages of attention's tensor-core split: 2, 3 (default) or 4; more keep more key tiles in "
    "flight at the price of blocks an SM (for A/B timing)"};

bool apply_staging_options(const g4c::ParsedArgs& args, std::string& error) {
  if (auto text = args.value("attention-stages")) {
    auto n = g4c::parse_int(*text);
    if (!n || *n < g4c::kAttentionMmaMinStages || *n > g4c::kAttentionMmaMaxStages) {
      error = "--attention-stages: expected 2, 3 or 4 (got " + g4c::quote(*text) + ")";
      return false;
    }
    g4c::gpu::set_attention_stages(static_cast<int>(*n));
  }
  if (auto text = args.value("weight-stages")) {
    auto n = g4c::parse_int(*text);
    if (!n || *n < 0 || *n > g4c::gpu::kMaxWeightStages) {
      error = "--weight-stages: expected a number from 0 to " + std::to_string(g4c::gpu::kMaxWeightStages) + " (got " +
              g4c::quote(*text) + ")";
      return false;
    }
    g4c::gpu::set_weight_stages(static_cast<int>(*n));
  }
  if (auto text = args.value("stage-memory")) {
    if (*text != "sized" && *text != "full") {
      error = "--stage-memory: expected sized or full (got " + g4c::quote(*text) + ")";
      return false;
    }
    g4c::gpu::set_stage_memory(*text == "full" ? g4c::gpu::StageMemory::full : g4c::gpu::StageMemory::sized);
  }
  return true;
}

const g4c::OptionSpec kEarlyLaunchOption = {"early-launch", false, false, "",
                                            "let each kernel launch the next once its blocks run, not as they "
                                            "exit (sm_90+; opt-in: measured faster at N = 1 only)"};

const g4c::OptionSpec kNoRopeTablesOption = {"no-rope-tables", false, false, "",
                                             "compute each RoPE angle in the norm+RoPE kernels (double pow and "
                                             "sincos) instead of looking it up (for A/B timing)"};

const g4c::OptionSpec kAttentionSplitsOption = {
    "attention-splits", true, false, "n",
    "cut each row's attention keys into n splits: 8, 16, 32, 64 or 128 (default: chosen per width; for A/B timing)"};

std::optional<int64_t> attention_splits_option(const g4c::ParsedArgs& args, std::string& error) {
  auto text = args.value("attention-splits");
  if (!text) return 0;
  auto n = g4c::parse_int(*text);
  if (!n || !g4c::gpu::is_attention_split_count(*n)) {
    error = "--attention-splits: expected 8, 16, 32, 64 or 128 (got " + g4c::quote(*text) + ")";
    return std::nullopt;
  }
  return *n;
}

void print_usage(std::ostream& os) {
  os << "usage: g4run [run] PLAN --weights SRC (--prompt-ids IDS | --prompt TEXT | --prompt-file F)... [options]\n"
        "       g4run bench PLAN --weights SRC [--batch 1,8,32] [--prompt P | --context C] [--steps S] [--json]\n"
        "       g4run profile PLAN --weights SRC [--batch N] [--prompt P] [--repeats R] [--html FILE]\n"
        "       g4run export-gguf PLAN --weights SRC -o FILE [--vocab F.gguf]\n"
        "       g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]\n"
        "       g4run tune PLAN... [-o FILE] [--batch 1,8,32] [--routes ws,mmq,...] [--repeats R] [--check-rows N]\n"
        "       g4run plan-launches PLAN [--batch 1,8] [--sm-count 132] [--max-shared BYTES]\n"
        "\n"
        "Runs a decode plan compiled by g4c: on the GPU executor when a CUDA device is present, else\n"
        "on the CPU backend.\n"
        "\n"
        "run options:\n"
     << g4c::format_options_help(run_options()) << "\nbench options:\n"
     << g4c::format_options_help(bench_options()) << "\nprofile options:\n"
     << g4c::format_options_help(profile_options()) << "\nexport-gguf options:\n"
     << g4c::format_options_help(export_options()) << "\njit options:\n"
     << g4c::format_options_help(jit_options()) << "\ntune options:\n"
     << g4c::format_options_help(tune_options()) << "\nplan-launches options:\n"
     << g4c::format_options_help(launches_options());
}

int usage_error(const std::string& message) {
  std::cerr << kTool << ": error: " << g4c::clipped_message(message) << "\n"
            << "run 'g4run --help' for usage\n";
  return kUsageError;
}

bool has_device() {
  std::string why;
  return g4c::gpu::find_device(why).has_value();
}

std::string kernel_cache_dir(const g4c::ParsedArgs& args) {
  return args.has("no-kernel-cache") ? "" : args.value("kernel-cache-dir").value_or(g4c::default_kernel_cache_dir());
}

g4c::WeightLoadOptions weight_options(const g4c::ParsedArgs& args) {
  return {.check_every_tensor = args.has("check-tensors")};
}

// A plan compiled with another card's tuning file runs, but its routes were not measured here.
void warn_if_tuned_elsewhere(const g4c::plan::PlanHeader& header) {
  if (header.tuning.empty()) return;
  std::string why;
  const std::optional<g4c::gpu::DeviceInfo> device = g4c::gpu::find_device(why);
  g4c::DiagnosticEngine unread;  // a file moved since the compile: nothing to compare
  const std::optional<g4c::TuningTable> table = device ? g4c::load_tuning_file(header.tuning, unread) : std::nullopt;
  if (!table) return;
  if (std::string elsewhere = table->measured_elsewhere(device->name); !elsewhere.empty())
    std::cerr << "g4run: warning: " << elsewhere << "\n";
}

std::unique_ptr<g4c::gpu::Executor> make_executor(const g4c::plan::Plan& plan, const std::string& source,
                                                  int sequences, const g4c::ParsedArgs& args,
                                                  std::optional<g4c::WeightSet>& host, g4c::DiagnosticEngine& diag) {
  g4c::gpu::WeightSource weights;
  if (auto seed = g4c::parse_random_seed(source)) {
    weights.random_seed = *seed;
  } else {
    host = g4c::load_weights(plan, source, diag, weight_options(args));
    if (!host) return nullptr;
    weights.host = &*host;
  }
  if (args.has("no-launch-overlap")) g4c::gpu::set_launch_overlap(false);
  g4c::gpu::ExecutorOptions options;
  options.max_sequences = sequences;
  options.rope_tables = !args.has("no-rope-tables");
  options.early_launch = args.has("early-launch");
  std::string unused;
  options.attention_splits = attention_splits_option(args, unused).value_or(0);  // checked at the start
  options.jit.cache_dir = kernel_cache_dir(args);
  options.progress = [](const std::string& message) { std::cerr << "g4run: " << message << "\n"; };
  warn_if_tuned_elsewhere(plan.header);
  return g4c::gpu::Executor::create(plan, weights, options, diag);
}

std::optional<int64_t> positive_option(const g4c::ParsedArgs& args, const std::string& key, int64_t fallback,
                                       std::string& error) {
  auto text = args.value(key);
  if (!text) return fallback;
  auto n = g4c::parse_int(*text);
  if (!n || *n < 1 || *n > 1000000) {
    error = "--" + key + ": expected a positive number (got " + g4c::quote(*text) + ")";
    return std::nullopt;
  }
  return *n;
}

std::optional<std::vector<int64_t>> batch_sizes(const g4c::ParsedArgs& args, const g4c::plan::Plan& plan,
                                                std::string& error) {
  std::vector<int64_t> batch = plan.header.widths;
  if (auto text = args.value("batch")) {
    auto ids = parse_ids(*text, error);
    if (!ids) {
      error = "--batch: expected numbers of sequences such as 1,8,32";
      return std::nullopt;
    }
    batch.assign(ids->begin(), ids->end());
  }
  for (int64_t n : batch)
    if (n < 1 || n > plan.header.widths.back()) {
      error = "--batch: " + std::to_string(n) + " sequences: the plan serves 1.." + std::to_string(plan.header.widths.back());
      return std::nullopt;
    }
  return batch;
}

std::optional<g4c::ParsedArgs> start_subcommand(int argc, char** argv, const std::string& name,
                                                const std::vector<g4c::OptionSpec>& options, int& exit_code,
                                                bool many_plans) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, options, error);
  if (!args) {
    exit_code = usage_error(error);
  } else if (args->has("help")) {
    print_usage(std::cout);
    exit_code = 0;
  } else if (many_plans ? args->positional.empty() : args->positional.size() != 1) {
    exit_code = usage_error(name + (many_plans ? ": expected plan files" : ": expected one plan file"));
  } else if (!attention_splits_option(*args, error) || !apply_staging_options(*args, error)) {
    exit_code = usage_error(error);
  } else {
    return args;
  }
  return std::nullopt;
}

std::optional<std::string> required_weights(const g4c::ParsedArgs& args, const std::string& name, int& exit_code) {
  auto source = args.value("weights");
  if (!source) exit_code = usage_error(name + ": --weights: missing (random:seed=N or a GGUF file)");
  return source;
}

}  // namespace g4run
