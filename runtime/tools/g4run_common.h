// What every g4run subcommand shares (runtime/tools/g4run_*.cpp): exit codes, options, the usage
// text, and the start of a subcommand (options parsed, --help answered, the plan file named), and
// the GPU executor made from a plan and a weight source.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/runtime/gpu/executor.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/support/cli.h"

namespace g4run {

inline constexpr std::string_view kTool = "g4run";
inline constexpr int kInputError = 1;
inline constexpr int kUsageError = 2;

// Options several subcommands share.
extern const g4c::OptionSpec kWeightsOption, kCheckTensorsOption, kCacheDirOption, kNoCacheOption, kHelpOption,
    kNoOverlapOption, kEarlyLaunchOption, kNoRopeTablesOption, kWeightStagesOption, kStageMemoryOption,
    kAttentionStagesOption, kAttentionSplitsOption;

// Each subcommand's options (g4run_<subcommand>.cpp), for parsing and for the usage text.
const std::vector<g4c::OptionSpec>& run_options();
const std::vector<g4c::OptionSpec>& bench_options();
const std::vector<g4c::OptionSpec>& profile_options();
const std::vector<g4c::OptionSpec>& export_options();
const std::vector<g4c::OptionSpec>& jit_options();
const std::vector<g4c::OptionSpec>& tune_options();
const std::vector<g4c::OptionSpec>& launches_options();

void print_usage(std::ostream& os);
// Prints a command-line mistake and returns kUsageError.
int usage_error(const std::string& message);

bool has_device();
std::string kernel_cache_dir(const g4c::ParsedArgs& args);
g4c::WeightLoadOptions weight_options(const g4c::ParsedArgs& args);
// The GPU executor for a plan: `random:seed=N` weights are generated on the device, a GGUF file is
// read, checked against the plan and uploaded (kept in `host` while that happens).
std::unique_ptr<g4c::gpu::Executor> make_executor(const g4c::plan::Plan& plan, const std::string& source,
                                                  int sequences, const g4c::ParsedArgs& args,
                                                  std::optional<g4c::WeightSet>& host, g4c::DiagnosticEngine& diag);
// --attention-splits' count, 0 when absent; nothing (with `error`) unless it is 8, 16, 32, 64 or 128.
std::optional<int64_t> attention_splits_option(const g4c::ParsedArgs& args, std::string& error);
// --weight-stages, --stage-memory and --attention-stages, when given, into the process-wide
// settings (gpu/cuda.h); false (with `error`) unless the weight count is 0..8, the memory `sized`
// or `full` and the attention count 2..4.
bool apply_staging_options(const g4c::ParsedArgs& args, std::string& error);
// --key's value as a number in 1..1000000, `fallback` when absent; nothing (with `error`) when bad.
std::optional<int64_t> positive_option(const g4c::ParsedArgs& args, const std::string& key, int64_t fallback,
                                       std::string& error);
// --batch's numbers of sequences (default: every width the plan compiles), each one the plan
// serves; nothing, with a usage error in `error`, otherwise.
std::optional<std::vector<int64_t>> batch_sizes(const g4c::ParsedArgs& args, const g4c::plan::Plan& plan,
                                                std::string& error);
// The start every subcommand after `run` shares: its options parsed, --help answered, one plan
// file required (or several, for `many_plans`). Returns the arguments, or nothing with `exit_code`
// set when the command is done.
std::optional<g4c::ParsedArgs> start_subcommand(int argc, char** argv, const std::string& name,
                                                const std::vector<g4c::OptionSpec>& options, int& exit_code,
                                                bool many_plans = false);
// The --weights a subcommand cannot run without.
std::optional<std::string> required_weights(const g4c::ParsedArgs& args, const std::string& name, int& exit_code);

// The subcommands; `run` reads its arguments from argv[first] on (`g4run PLAN …` is `g4run run PLAN …`).
int run(int argc, char** argv, int first);
int bench(int argc, char** argv);
int profile(int argc, char** argv);
int export_gguf(int argc, char** argv);
int jit(int argc, char** argv);
int tune(int argc, char** argv);
int plan_launches(int argc, char** argv);

}  // namespace g4run
