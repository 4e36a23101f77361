// g4run: runs decode plans.
//
//   g4run [run] PLAN --weights SRC (--prompt-ids IDS | --prompt TEXT | --prompt-file F)... [--steps N]
//               [--vocab F.gguf] [--chat] [--stop S] [--jsonl] [--dump-logits F] [--backend gpu|cpu]
//   g4run bench PLAN --weights SRC [--batch 1,8,32] [--prompt P | --context C] [--steps S] [--json]
//   g4run profile PLAN --weights SRC [--batch N] [--prompt P] [--repeats R]
//   g4run export-gguf PLAN --weights SRC -o FILE [--vocab F.gguf]
//   g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]
//   g4run tune PLAN... [-o FILE] [--batch 1,8,32] [--routes ws,mmq,...] [--repeats R] [--check-rows N]
//
// SRC is `random:seed=N` or a GGUF file. Each prompt is one sequence; all sequences decode
// together, one batched step per token. Text prompts are encoded by the tokenizer of the weights
// GGUF (or --vocab's), and the generated text is streamed back. Plans run on the GPU executor when a CUDA device is present,
// else on the CPU backend (the plan interpreter); g4run says which.
//
// Exit status: 0 on success, 1 when an input has errors, 2 on a command-line mistake.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <sstream>

#include "g4c/kernels/matmul_args.h"
#include "g4c/plan/parser.h"
#include "g4c/runtime/export_gguf.h"
#include "g4c/runtime/generate.h"
#include "g4c/runtime/gpu/bench.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/gpu/executor.h"
#include "g4c/runtime/gpu/tune.h"
#include "g4c/runtime/jit.h"
#include "g4c/runtime/host_memory.h"
#include "g4c/runtime/interpreter.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/npy.h"
#include "g4c/support/checked_math.h"
#include "g4c/support/cli.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"
#include "text_io.h"

namespace {

using g4run::parse_ids;

constexpr std::string_view kTool = "g4run";
constexpr int kInputError = 1;
constexpr int kUsageError = 2;

// Options several subcommands share.
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

const std::vector<g4c::OptionSpec> kRunOptions = g4run::with_text_options({
    kWeightsOption,
    kCheckTensorsOption,
    {"prompt-ids", true, true, "ids", "one sequence's prompt token ids, e.g. 2,651,1024 (repeat for more sequences)"},
    {"steps", true, false, "n", "tokens to generate per sequence (default 16)"},
    {"dump-logits", true, false, "file", "write every position's logits as a .npy [sequences, positions, vocab]"},
    {"max-batch", true, false, "n", "sequences decoding at once; the others wait for a free slot (default: all, up to the widest width)"},
    {"prompt-chunk", true, false, "n", "prompt tokens per sequence per step (default: the plan's --prefill-chunk; 1: token by token)"},
    {"temperature", true, false, "t", "sample at this temperature (default 0: greedy)"},
    {"top-k", true, false, "k", "sample among the k most likely tokens (default 0: all)"},
    {"top-p", true, false, "p", "sample among the most likely tokens whose probability reaches p (default 1)"},
    {"seed", true, false, "n", "seed of the sampling stream (default 0)"},
    {"backend", true, false, "gpu|cpu", "where to run (default: gpu when a CUDA device is present, else cpu)"},
    kNoOverlapOption,
    kCacheDirOption,
    kNoCacheOption,
    kHelpOption,
});

const std::vector<g4c::OptionSpec> kBenchOptions = {
    kWeightsOption,
    kCheckTensorsOption,
    {"batch", true, false, "list", "numbers of sequences to time, e.g. 1,8,32 (default: every compiled width)"},
    {"prompt", true, false, "n", "prompt tokens per sequence before timing (default 128)"},
    {"context", true, false, "n", "time the steps after n positions of context instead of a prompt (caches not filled: attention reads as many bytes)"},
    {"steps", true, false, "n", "decode steps timed (default 128)"},
    {"json", false, false, "", "print the results as JSON"},
    kNoOverlapOption,
    kCacheDirOption,
    kNoCacheOption,
    kHelpOption,
};

const std::vector<g4c::OptionSpec> kProfileOptions = {
    kWeightsOption,
    kCheckTensorsOption,
    {"batch", true, false, "n", "sequences decoding together (default 1)"},
    {"prompt", true, false, "n", "prompt tokens per sequence before profiling (default 128)"},
    {"repeats", true, false, "n", "timed runs of every op; the median is shown (default 20)"},
    kNoOverlapOption,
    kCacheDirOption,
    kNoCacheOption,
    kHelpOption,
};

const std::vector<g4c::OptionSpec> kExportOptions = {
    kWeightsOption,
    kCheckTensorsOption,
    {"o", true, false, "file", "the GGUF file to write"},
    {"vocab", true, false, "file", "write this GGUF file's tokenizer (tokenizer.* keys) beside the weights"},
    kHelpOption,
};

const std::vector<g4c::OptionSpec> kJitOptions = {
    {"arch", true, false, "arch", "GPU architecture to compile for (default: the device's, else sm_90)"},
    kCacheDirOption,
    kNoCacheOption,
    kHelpOption,
};

const std::vector<g4c::OptionSpec> kTuneOptions = {
    {"o", true, false, "file", "the tuning file to write (default: standard output)"},
    {"batch", true, false, "list", "widths to tune, e.g. 1,8,32 (default: every compiled width up to 32)"},
    {"repeats", true, false, "n", "timed replays per route and width; the median is kept (default 15)"},
    {"check-rows", true, false, "n", "output rows per width compared against the CPU op (default 256)"},
    {"routes", true, false, "list", "routes to consider, e.g. ws,mmq,gemm_n (default: all; without cublas no fp16 weight copies)"},
    kCacheDirOption,
    kNoCacheOption,
    kHelpOption,
};

void print_usage(std::ostream& os) {
  os << "usage: g4run [run] PLAN --weights SRC (--prompt-ids IDS | --prompt TEXT | --prompt-file F)... [options]\n"
        "       g4run bench PLAN --weights SRC [--batch 1,8,32] [--prompt P | --context C] [--steps S] [--json]\n"
        "       g4run profile PLAN --weights SRC [--batch N] [--prompt P] [--repeats R]\n"
        "       g4run export-gguf PLAN --weights SRC -o FILE [--vocab F.gguf]\n"
        "       g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]\n"
        "       g4run tune PLAN... [-o FILE] [--batch 1,8,32] [--routes ws,mmq,...] [--repeats R] [--check-rows N]\n"
        "\n"
        "Runs a decode plan compiled by g4c: on the GPU executor when a CUDA device is present, else\n"
        "on the CPU backend.\n"
        "\n"
        "run options:\n"
     << g4c::format_options_help(kRunOptions) << "\nbench options:\n"
     << g4c::format_options_help(kBenchOptions) << "\nprofile options:\n"
     << g4c::format_options_help(kProfileOptions) << "\nexport-gguf options:\n"
     << g4c::format_options_help(kExportOptions) << "\njit options:\n"
     << g4c::format_options_help(kJitOptions) << "\ntune options:\n"
     << g4c::format_options_help(kTuneOptions);
}

int usage_error(const std::string& message) {
  std::cerr << kTool << ": error: " << g4c::clipped_message(message) << "\n"
            << "run 'g4run --help' for usage\n";
  return kUsageError;
}

bool dump_logits(const std::string& path, const g4c::GenerateResult& result, int64_t vocab, g4c::DiagnosticEngine& diag) {
  int64_t sequences = static_cast<int64_t>(result.logits.size()), positions = 0;
  for (const auto& s : result.logits) positions = std::max<int64_t>(positions, static_cast<int64_t>(s.size()));
  // Positions a sequence did not reach are NaN.
  std::vector<float> data(static_cast<size_t>(sequences * positions * vocab), std::nanf(""));
  for (int64_t s = 0; s < sequences; ++s)
    for (size_t p = 0; p < result.logits[s].size(); ++p)
      std::copy(result.logits[s][p].begin(), result.logits[s][p].end(), data.begin() + (s * positions + p) * vocab);
  std::vector<int64_t> shape = {sequences, positions, vocab};
  return g4c::write_npy(path, shape, data, diag);
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

// The GPU executor for a plan: `random:seed=N` weights are generated on the device, a GGUF file is
// read, checked against the plan and uploaded (kept in `host` while that happens).
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
  options.jit.cache_dir = kernel_cache_dir(args);
  options.progress = [](const std::string& message) { std::cerr << "g4run: " << message << "\n"; };
  return g4c::gpu::Executor::create(plan, weights, options, diag);
}

// --temperature, --top-k, --top-p, --seed; returns what is wrong, or nothing.
std::string parse_sampling(const g4c::ParsedArgs& args, g4c::SamplingOptions& sampling) {
  auto number = [&](const char* key, double& out) {
    auto text = args.value(key);
    if (!text) return true;
    char* end = nullptr;
    out = std::strtod(text->c_str(), &end);
    return !text->empty() && end == text->c_str() + text->size();
  };
  if (!number("temperature", sampling.temperature)) return "--temperature: expected a number";
  if (!number("top-p", sampling.top_p)) return "--top-p: expected a number";
  if (auto text = args.value("top-k")) {
    auto k = g4c::parse_int(*text);
    if (!k) return "--top-k: expected a number of tokens";
    sampling.top_k = *k;
  }
  if (auto text = args.value("seed")) {
    auto seed = g4c::parse_int(*text);
    if (!seed || *seed < 0) return "--seed: expected a non-negative integer";
    sampling.seed = static_cast<uint64_t>(*seed);
  }
  return g4c::check_sampling_options(sampling);
}

// The numbers of a run that the plan bounds, checked before caches are sized from them: sequences
// at once (each gets its own KV caches) and the positions the longest prompt and --steps reach.
std::string check_run_against_plan(const g4c::plan::Plan& plan, const std::vector<std::vector<int32_t>>& prompts,
                                   const g4c::GenerateOptions& options) {
  if (std::string why = g4c::check_sequences_at_once(options.max_active, plan.header.widths.back()); !why.empty())
    return why;
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  // The last generated token is never fed back, so a sequence takes prompt + steps - 1 positions
  // (none when it generates nothing: it never runs).
  const int64_t positions = options.steps > 0 ? static_cast<int64_t>(longest) + options.steps - 1 : 0;
  if (positions > plan.header.context)
    return "--steps: a prompt of " + std::to_string(longest) + " tokens and " + std::to_string(options.steps) +
           " steps need " + std::to_string(positions) + " positions, past the plan's context (" +
           std::to_string(plan.header.context) + ")";
  return {};
}

// What a run holds in host memory, checked before anything is allocated: on the CPU backend the
// weights, KV caches and arena (Interpreter); on either backend with --dump-logits every
// position's logits, kept during the run and copied once more into the .npy array.
bool run_fits_in_host_memory(const g4c::plan::Plan& plan, bool cpu, int sequences,
                             const std::vector<std::vector<int32_t>>& prompts, const g4c::GenerateOptions& options,
                             g4c::DiagnosticEngine& diag) {
  std::optional<int64_t> logits = 0;  // nullopt past int64: thousands of long prompts
  if (options.keep_logits)
    for (const auto& p : prompts)
      if (logits)
        if (auto bytes = g4c::checked_product({2, static_cast<int64_t>(p.size()) + options.steps, plan.header.vocab, 4}))
          logits = g4c::checked_add(*logits, *bytes);
  const int64_t logit_bytes = logits.value_or(std::numeric_limits<int64_t>::max());
  if (!cpu) return g4c::check_host_memory("the logits --dump-logits keeps", {{"logits", logit_bytes}}, diag);
  return g4c::check_host_memory("running " + plan.header.name + " on the CPU backend",
                                {{"weights", plan.weight_bytes()},
                                 {"KV caches for " + g4c::count_text(sequences, "sequence"),
                                  g4c::Interpreter::cache_bytes(plan, sequences)},
                                 {"arena", g4c::Interpreter::arena_bytes(plan)},
                                 {"logits", logit_bytes}},
                                diag);
}

int run(int argc, char** argv, int first) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, first, kRunOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("run: expected one plan file");
  auto weights_source = args->value("weights");
  if (!weights_source) return usage_error("run: --weights: missing (random:seed=N or a GGUF file)");
  if (std::string why = g4run::check_text_options(*args, *weights_source); !why.empty()) return usage_error(why);
  g4c::DiagnosticEngine diag;
  auto finish = [&](int code) {
    diag.print(std::cerr, kTool);
    return code;
  };
  auto inputs = g4run::read_prompts(*args, error, diag);
  if (!inputs) return diag.has_errors() ? finish(kInputError) : usage_error(error);
  g4c::GenerateOptions options;
  if (auto steps = args->value("steps")) {
    auto n = g4c::parse_int(*steps);
    if (!n || *n < 0 || *n > 1000000) return usage_error("--steps: expected a number of tokens (got " + g4c::quote(*steps) + ")");
    options.steps = static_cast<int>(*n);
  }
  options.keep_logits = args->has("dump-logits");
  if (auto error_text = parse_sampling(*args, options.sampling); !error_text.empty()) return usage_error(error_text);
  if (auto text = args->value("max-batch")) {
    auto n = g4c::parse_int(*text);
    if (!n || *n < 1 || *n > 4096) return usage_error("--max-batch: expected a number of sequences (got " + g4c::quote(*text) + ")");
    options.max_active = static_cast<int>(*n);
  }
  if (auto text = args->value("prompt-chunk")) {
    auto n = g4c::parse_int(*text);
    if (!n || *n < 1 || *n > 4096) return usage_error("--prompt-chunk: expected a number of tokens (got " + g4c::quote(*text) + ")");
    options.prompt_chunk = static_cast<int>(*n);
  }

  if (auto path = args->value("dump-logits")) {
    std::vector<std::string> inputs = {args->positional[0], *weights_source};
    if (auto vocab = args->value("vocab")) inputs.push_back(*vocab);
    if (auto files = args->values.find("prompt-file"); files != args->values.end())
      inputs.insert(inputs.end(), files->second.begin(), files->second.end());
    if (std::string conflict = g4c::output_input_conflict("--dump-logits", *path, inputs); !conflict.empty())
      return usage_error(conflict);
  }

  const std::string backend_name = args->value("backend").value_or(has_device() ? "gpu" : "cpu");
  if (backend_name != "gpu" && backend_name != "cpu")
    return usage_error("--backend: expected gpu or cpu (got " + g4c::quote(backend_name) + ")");
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("--kernel-cache-dir and --no-kernel-cache contradict each other");

  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return finish(kInputError);
  std::optional<g4c::tokenizer::Tokenizer> tokenizer;
  if (g4run::uses_text(*args) && !(tokenizer = g4run::load_tokenizer(*args, *weights_source, *plan, diag)))
    return finish(kInputError);
  auto encoded = g4run::encode_prompts(*inputs, tokenizer ? &*tokenizer : nullptr, *args, *plan, diag);
  if (!encoded) return finish(kInputError);
  const std::vector<std::vector<int32_t>>& prompts = *encoded;
  if (std::string why = check_run_against_plan(*plan, prompts, options); !why.empty()) return usage_error(why);
  // Cache slots for the sequences decoding at once; the others wait for a free slot.
  if (options.max_active == 0)
    options.max_active = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(prompts.size()), plan->header.widths.back()));
  const int sequences = options.max_active;
  std::optional<g4c::WeightSet> host_weights;
  std::optional<g4c::Interpreter> interpreter;
  std::unique_ptr<g4c::gpu::Executor> executor;
  g4c::DecodeBackend* backend = nullptr;
  if (!run_fits_in_host_memory(*plan, backend_name == "cpu", sequences, prompts, options, diag))
    return finish(kInputError);
  if (backend_name == "gpu") {
    executor = make_executor(*plan, *weights_source, sequences, *args, host_weights, diag);
    if (!executor) return finish(kInputError);
    std::cerr << "g4run: running " << plan->header.name << " on " << executor->device().name << " (GPU executor)\n";
    executor->set_keep_logits(options.keep_logits || !options.sampling.greedy());
    backend = executor.get();
  } else {
    host_weights = g4c::load_weights(*plan, *weights_source, diag, weight_options(*args));
    if (!host_weights) return finish(kInputError);
    interpreter = g4c::Interpreter::create(*plan, *host_weights, sequences, diag);
    if (!interpreter) return finish(kInputError);
    std::cerr << "g4run: running " << plan->header.name << " on the CPU backend (plan interpreter)\n";
    backend = &*interpreter;
  }
  std::optional<g4run::TextPrinter> printer;
  if (tokenizer) {
    printer.emplace(*tokenizer, *args, prompts, options.steps, std::cout, std::cerr);
    options.on_token = [&](int64_t sequence, int32_t token) { return printer->on_token(sequence, token); };
  }
  auto result = g4c::generate(*backend, prompts, options, diag);
  if (!result) return finish(kInputError);
  if (printer) printer->finish();
  for (size_t s = 0; !printer && s < result->generated.size(); ++s) {
    std::cout << "sequence " << s << ":";
    for (int32_t t : result->generated[s]) std::cout << " " << t;
    std::cout << "\n";
  }
  if (auto path = args->value("dump-logits"); path && !dump_logits(*path, *result, backend->vocab(), diag))
    return finish(kInputError);
  return finish(0);
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

// Times decode for each requested number of sequences on the GPU executor.
// The start every subcommand after `run` shares: its options parsed, --help answered, one plan
// file required (or several, for `many_plans`). Returns the arguments, or nothing with `exit_code` set when the command is done.
std::optional<g4c::ParsedArgs> start_subcommand(int argc, char** argv, const std::string& name,
                                                const std::vector<g4c::OptionSpec>& options, int& exit_code,
                                                bool many_plans = false) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, options, error);
  if (!args) {
    exit_code = usage_error(error);
  } else if (args->has("help")) {
    print_usage(std::cout);
    exit_code = 0;
  } else if (many_plans ? args->positional.empty() : args->positional.size() != 1) {
    exit_code = usage_error(name + (many_plans ? ": expected plan files" : ": expected one plan file"));
  } else {
    return args;
  }
  return std::nullopt;
}

// The --weights a subcommand cannot run without.
std::optional<std::string> required_weights(const g4c::ParsedArgs& args, const std::string& name, int& exit_code) {
  auto source = args.value("weights");
  if (!source) exit_code = usage_error(name + ": --weights: missing (random:seed=N or a GGUF file)");
  return source;
}

int bench(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "bench", kBenchOptions, exit_code);
  if (!args) return exit_code;
  auto source = required_weights(*args, "bench", exit_code);
  if (!source) return exit_code;
  std::string error;
  auto prompt = positive_option(*args, "prompt", 128, error);
  auto steps = prompt ? positive_option(*args, "steps", 128, error) : std::nullopt;
  auto context = steps ? positive_option(*args, "context", 0, error) : std::nullopt;
  if (!context) return usage_error(error);
  if (*context > 0 && args->has("prompt")) return usage_error("--prompt and --context contradict each other");
  g4c::DiagnosticEngine diag;
  auto finish = [&](int code) {
    diag.print(std::cerr, kTool);
    return code;
  };
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return finish(kInputError);
  std::vector<int64_t> batch = plan->header.widths;
  if (auto text = args->value("batch")) {
    auto ids = parse_ids(*text, error);
    if (!ids) return usage_error("--batch: expected numbers of sequences such as 1,8,32");
    batch.assign(ids->begin(), ids->end());
  }
  for (int64_t n : batch)
    if (n < 1 || n > plan->header.widths.back())
      return usage_error("--batch: " + std::to_string(n) + " sequences: the plan serves 1.." +
                         std::to_string(plan->header.widths.back()));
  if (*context > 0 && *context + *steps > plan->header.context)
    return usage_error("--context + --steps: " + std::to_string(*context + *steps) +
                       " positions, past the plan's context (" + std::to_string(plan->header.context) + ")");
  if (*context == 0 && *prompt + *steps > plan->header.context)
    return usage_error("--prompt + --steps: " + std::to_string(*prompt + *steps) + " positions, past the plan's context (" +
                       std::to_string(plan->header.context) + ")");
  if (!has_device()) {
    diag.error({}, "bench: needs a CUDA device (none found)");
    return finish(kInputError);
  }
  std::optional<g4c::WeightSet> host;
  const int widest = static_cast<int>(*std::max_element(batch.begin(), batch.end()));
  auto executor = make_executor(*plan, *source, widest, *args, host, diag);
  if (!executor) return finish(kInputError);
  const double copy_gbps = g4c::gpu::copy_bandwidth_gbps();
  std::vector<g4c::gpu::BenchResult> results;
  for (int64_t n : batch) {
    std::cerr << "g4run: bench: " << n << " sequences, "
              << (*context > 0 ? std::to_string(*context) + " positions of context, " : std::to_string(*prompt) + " prompt tokens, ")
              << *steps << " steps\n";
    auto r = g4c::gpu::bench(*executor, static_cast<int>(n), static_cast<int>(*prompt), static_cast<int>(*steps),
                             copy_gbps, diag, *context);
    if (!r) return finish(kInputError);
    r->attention_ms = g4c::gpu::attention_ms(*executor, r->width);
    results.push_back(*r);
  }
  if (args->has("json")) {
    std::cout << g4c::gpu::format_bench_json(plan->header.name, results, copy_gbps);
  } else {
    std::cout << plan->header.name << " on " << executor->device().name << ", weights " << *source << ", launch overlap "
              << (g4c::gpu::launch_overlap() ? "on" : "off") << "\n"
              << g4c::gpu::format_bench_table(results, copy_gbps);
  }
  return finish(0);
}

// Times every op of one width's step.
int profile(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "profile", kProfileOptions, exit_code);
  if (!args) return exit_code;
  auto source = required_weights(*args, "profile", exit_code);
  if (!source) return exit_code;
  std::string error;
  auto batch = positive_option(*args, "batch", 1, error);
  auto prompt = batch ? positive_option(*args, "prompt", 128, error) : std::nullopt;
  auto repeats = prompt ? positive_option(*args, "repeats", 20, error) : std::nullopt;
  if (!repeats) return usage_error(error);
  g4c::DiagnosticEngine diag;
  auto finish = [&](int code) {
    diag.print(std::cerr, kTool);
    return code;
  };
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return finish(kInputError);
  if (*batch > plan->header.widths.back())
    return usage_error("--batch: " + std::to_string(*batch) + " sequences: the plan serves 1.." +
                       std::to_string(plan->header.widths.back()));
  if (*prompt >= plan->header.context)
    return usage_error("--prompt: " + std::to_string(*prompt) + " tokens, past the plan's context");
  if (!has_device()) {
    diag.error({}, "profile: needs a CUDA device (none found)");
    return finish(kInputError);
  }
  std::optional<g4c::WeightSet> host;
  auto executor = make_executor(*plan, *source, static_cast<int>(*batch), *args, host, diag);
  if (!executor) return finish(kInputError);
  // Fill the caches so attention reads `prompt` positions of context.
  auto result = g4c::gpu::bench(*executor, static_cast<int>(*batch), static_cast<int>(*prompt), 1, 0, diag);
  if (!result) return finish(kInputError);
  // The timed step is the one at position `prompt` (bench's one decode step), which each op replays.
  const std::vector<int32_t> positions(static_cast<size_t>(*batch), static_cast<int32_t>(*prompt));
  std::cout << plan->header.name << " on " << executor->device().name << ": " << *batch << " sequences (width "
            << result->width << ") at position " << *prompt << ", median of " << *repeats << " runs per op\n"
            << g4c::gpu::format_profile(executor->profile(result->width, positions, static_cast<int>(*repeats)));
  return finish(0);
}

// Writes the plan's weights (typically random:seed=N) as a GGUF file other engines can read.
int export_gguf(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "export-gguf", kExportOptions, exit_code);
  if (!args) return exit_code;
  auto source = required_weights(*args, "export-gguf", exit_code);
  if (!source) return exit_code;
  auto out = args->value("o");
  if (!out) return usage_error("export-gguf: -o: missing (the GGUF file to write)");
  std::vector<std::string> inputs = {args->positional[0], *source};
  if (auto vocab = args->value("vocab")) inputs.push_back(*vocab);
  if (std::string conflict = g4c::output_input_conflict("-o", *out, inputs); !conflict.empty())
    return usage_error(conflict);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  std::optional<std::vector<std::pair<std::string, g4c::gguf::Value>>> tokenizer;
  if (plan) tokenizer = g4run::tokenizer_metadata(*args, *plan, diag);
  std::optional<g4c::WeightSet> weights;
  if (tokenizer) weights = g4c::load_weights(*plan, *source, diag, weight_options(*args));
  if (weights) g4c::export_gguf(*plan, *weights, *out, diag, *tokenizer);
  diag.print(std::cerr, kTool);
  return diag.has_errors() ? kInputError : 0;
}

// Compiles every kernel instance the plan lists ahead of time (NVRTC needs no GPU).
int jit(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "jit", kJitOptions, exit_code);
  if (!args) return exit_code;
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("jit: --kernel-cache-dir and --no-kernel-cache contradict each other");
  g4c::JitOptions options;
  if (auto arch = args->value("arch")) {
    options.arch = *arch;
  } else if (std::string why; auto device = g4c::gpu::find_device(why)) {
    options.arch = device->arch();
  }
  options.cache_dir = kernel_cache_dir(*args);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  std::optional<std::vector<g4c::CompiledProgram>> programs;
  g4c::JitStats stats;
  if (plan) programs = g4c::jit_compile(g4c::jit_requests(*plan), options, stats, diag);
  diag.print(std::cerr, kTool);
  if (!programs) return kInputError;
  std::printf("g4run: jit: %d kernel instances of %s in %d NVRTC programs for %s: %d programs from the cache, %.2f s\n",
              stats.instances, plan->header.name.c_str(), stats.programs, options.arch.c_str(), stats.cache_hits,
              stats.compile_seconds);
  return 0;
}


// The widths `g4run tune` measures: --batch, else every compiled width of the plans the matmul
// routes run (1..32).
std::optional<std::vector<int64_t>> tune_widths(const g4c::ParsedArgs& args,
                                                const std::vector<g4c::plan::Plan>& plans, std::string& error) {
  std::vector<int64_t> widths;
  if (auto text = args.value("batch")) {
    auto ids = parse_ids(*text, error);
    if (!ids) {
      error = "--batch: expected widths such as 1,8,32";
      return std::nullopt;
    }
    widths.assign(ids->begin(), ids->end());
    for (int64_t w : widths)
      if (w < 1 || w > g4c::matmul::kMaxWidth) {
        error = "--batch: width " + std::to_string(w) + ": the matmul routes run widths 1.." +
                std::to_string(g4c::matmul::kMaxWidth);
        return std::nullopt;
      }
  } else {
    for (const g4c::plan::Plan& p : plans)
      for (int64_t w : p.header.widths)
        if (w <= g4c::matmul::kMaxWidth) widths.push_back(w);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  if (widths.empty()) error = "tune: the plans compile no width of 1..32 to tune (pass --batch)";
  if (widths.empty()) return std::nullopt;
  return widths;
}

// Measures every legal route of every matmul shape of the plans and writes the tuning file.
int tune(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "tune", kTuneOptions, exit_code, true);
  if (!args) return exit_code;
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("tune: --kernel-cache-dir and --no-kernel-cache contradict each other");
  std::string error;
  auto repeats = positive_option(*args, "repeats", 15, error);
  auto check_rows = repeats ? positive_option(*args, "check-rows", 256, error) : std::nullopt;
  if (!check_rows) return usage_error(error);
  std::vector<g4c::plan::Route> routes;
  if (auto text = args->value("routes")) {
    std::stringstream list(*text);
    for (std::string item; std::getline(list, item, ',');) {
      auto route = g4c::plan::parse_route(item);
      if (!route) {
        const std::vector<std::string> names = g4c::plan::route_names();
        return usage_error("--routes: unknown route " + g4c::quote(item) + g4c::did_you_mean(item, names) +
                           " (expected a list of " + g4c::join(names) + ")");
      }
      routes.push_back(*route);
    }
  }
  g4c::DiagnosticEngine diag;
  auto finish = [&](int code) {
    diag.print(std::cerr, kTool);
    return code;
  };
  if (auto out = args->value("o")) {
    if (std::string conflict = g4c::output_input_conflict("-o", *out, args->positional); !conflict.empty())
      return usage_error(conflict);
  }
  std::vector<g4c::plan::Plan> plans;
  for (const std::string& path : args->positional)
    if (auto p = g4c::plan::load_plan_file(path, diag)) plans.push_back(std::move(*p));
  if (diag.has_errors()) return finish(kInputError);
  auto widths = tune_widths(*args, plans, error);
  if (!widths) return usage_error(error);
  std::string why;
  auto device = g4c::gpu::find_device(why);
  if (!device) {
    diag.error({}, "tune: needs a CUDA device (none found)");
    return finish(kInputError);
  }
  g4c::gpu::TuneOptions options;
  options.widths = *widths;
  options.repeats = static_cast<int>(*repeats);
  options.check_rows = *check_rows;
  options.routes = routes;
  options.jit.arch = device->arch();
  options.jit.cache_dir = kernel_cache_dir(*args);
  options.progress = [](const std::string& message) { std::cerr << "g4run: " << message << "\n"; };
  std::vector<const g4c::plan::Plan*> plan_pointers;
  std::string sources;
  for (const g4c::plan::Plan& p : plans) {
    plan_pointers.push_back(&p);
    sources += (sources.empty() ? "" : ", ") + p.header.source;
  }
  const std::vector<g4c::gpu::MatmulShape> shapes = g4c::gpu::matmul_shapes(plan_pointers);
  auto results = g4c::gpu::tune_matmuls(shapes, options, diag);
  if (!results) return finish(kInputError);
  std::string width_list;
  for (int64_t w : *widths) width_list += (width_list.empty() ? "" : ",") + std::to_string(w);
  std::string route_list = "every legal route";
  if (!routes.empty()) {
    route_list = "the legal routes among";
    for (g4c::plan::Route r : routes) route_list += " " + std::string(g4c::plan::name(r));
  }
  const std::string comment =
      "Written by `g4run tune` on " + device->name + " (" + device->arch() + ") for the matmuls of " + sources +
      " at widths " + width_list + ".\nOf " + route_list + ", each is checked against the CPU op on " +
      std::to_string(*check_rows) + " output rows, then timed as the median of " + std::to_string(*repeats) +
      " CUDA-graph replays over\nweight copies larger than the L2 cache; the fastest wins, and routes within 2% of it "
      "tie, going to the first of ws, mmq, gemm_n, cublas, mma16.\nA shape takes mma16 (a repacked weight) at every width "
      "if that is faster over the widths together, else at none.";
  const std::string text =
      g4c::format_tuning_file(g4c::gpu::tuning_table(*results, device->arch(), device->name, comment));
  std::cerr << g4c::gpu::format_tune_report(*results, g4c::gpu::copy_bandwidth_gbps());
  if (auto path = args->value("o")) {
    std::string why;
    if (!g4c::write_output_file(*path, text, why)) {
      diag.error({}, "tune: cannot write " + g4c::quote(*path) + ": " + why);
      return finish(kInputError);
    }
    std::cerr << "g4run: tune: wrote " << results->size() << " entries to " << *path << "\n";
  } else {
    std::cout << text;
  }
  return finish(0);
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return kUsageError;
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (command == "run") return run(argc, argv, 2);
  if (command == "bench") return bench(argc, argv);
  if (command == "profile") return profile(argc, argv);
  if (command == "export-gguf") return export_gguf(argc, argv);
  if (command == "jit") return jit(argc, argv);
  if (command == "tune") return tune(argc, argv);
  // `run` is the default subcommand: `g4run PLAN ...` is `g4run run PLAN ...`.
  return run(argc, argv, 1);
}

int main(int argc, char** argv) { return g4c::run_tool(kTool, dispatch, argc, argv); }
