// g4run: runs decode plans.
//
//   g4run [run] PLAN --weights SRC --prompt-ids IDS [--prompt-ids IDS]... [--steps N] [--dump-logits F]
//   g4run export-gguf PLAN --weights SRC -o FILE
//   g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]
//
// SRC is `random:seed=N` or a GGUF file. Each --prompt-ids is one sequence; all sequences decode
// together, one batched step per token. Without a GPU the plan runs on the CPU backend (the plan
// interpreter), and g4run says so.
//
// Exit status: 0 on success, 1 when an input has errors, 2 on a command-line mistake.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "g4c/plan/parser.h"
#include "g4c/runtime/export_gguf.h"
#include "g4c/runtime/generate.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/jit.h"
#include "g4c/runtime/interpreter.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/npy.h"
#include "g4c/support/cli.h"
#include "g4c/support/text.h"

namespace {

constexpr std::string_view kTool = "g4run";
constexpr int kInputError = 1;
constexpr int kUsageError = 2;

const std::vector<g4c::OptionSpec> kRunOptions = {
    {"weights", true, false, "source", "random:seed=N, or a GGUF file"},
    {"prompt-ids", true, true, "ids", "one sequence's prompt token ids, e.g. 2,651,1024 (repeat for more sequences)"},
    {"steps", true, false, "n", "tokens to generate per sequence (default 16)"},
    {"dump-logits", true, false, "file", "write every position's logits as a .npy [sequences, positions, vocab]"},
    {"help", false, false, "", "show this help"},
};

const std::vector<g4c::OptionSpec> kExportOptions = {
    {"weights", true, false, "source", "random:seed=N, or a GGUF file"},
    {"o", true, false, "file", "the GGUF file to write"},
    {"help", false, false, "", "show this help"},
};

const std::vector<g4c::OptionSpec> kJitOptions = {
    {"arch", true, false, "arch", "GPU architecture to compile for (default: the device's, else sm_90)"},
    {"kernel-cache-dir", true, false, "dir", "where compiled kernels are cached (default ~/.cache/g4c/kernels)"},
    {"no-kernel-cache", false, false, "", "compile everything, read and write no cache"},
    {"help", false, false, "", "show this help"},
};

void print_usage(std::ostream& os) {
  os << "usage: g4run [run] PLAN --weights SRC --prompt-ids IDS [options]\n"
        "       g4run export-gguf PLAN --weights SRC -o FILE\n"
        "       g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]\n"
        "\n"
        "Runs a decode plan compiled by g4c. Without a GPU, plans run on the CPU backend.\n"
        "\n"
        "run options:\n"
     << g4c::format_options_help(kRunOptions) << "\nexport-gguf options:\n"
     << g4c::format_options_help(kExportOptions) << "\njit options:\n"
     << g4c::format_options_help(kJitOptions);
}

int usage_error(const std::string& message) {
  std::cerr << kTool << ": error: " << message << "\n"
            << "run 'g4run --help' for usage\n";
  return kUsageError;
}

std::optional<std::vector<int32_t>> parse_ids(const std::string& text, std::string& error) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto v = g4c::parse_int(item);
    if (!v || *v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
      error = "--prompt-ids: " + g4c::quote(item) + " is not a token id";
      return std::nullopt;
    }
    ids.push_back(static_cast<int32_t>(*v));
  }
  if (ids.empty()) error = "--prompt-ids: expected token ids such as 2,651,1024";
  if (ids.empty()) return std::nullopt;
  return ids;
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
  std::vector<std::vector<int32_t>> prompts;
  if (auto it = args->values.find("prompt-ids"); it != args->values.end())
    for (const std::string& text : it->second) {
      auto ids = parse_ids(text, error);
      if (!ids) return usage_error(error);
      prompts.push_back(*ids);
    }
  if (prompts.empty()) return usage_error("run: --prompt-ids: missing (one per sequence)");
  g4c::GenerateOptions options;
  if (auto steps = args->value("steps")) {
    auto n = g4c::parse_int(*steps);
    if (!n || *n < 0 || *n > 1000000) return usage_error("--steps: expected a number of tokens (got " + g4c::quote(*steps) + ")");
    options.steps = static_cast<int>(*n);
  }
  options.keep_logits = args->has("dump-logits");

  g4c::DiagnosticEngine diag;
  auto finish = [&](int code) {
    diag.print(std::cerr, kTool);
    return code;
  };
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return finish(kInputError);
  auto weights = g4c::load_weights(*plan, *weights_source, diag);
  if (!weights) return finish(kInputError);
  auto backend = g4c::Interpreter::create(*plan, *weights, static_cast<int>(prompts.size()), diag);
  if (!backend) return finish(kInputError);
  std::cerr << "g4run: running " << plan->header.name << " on the CPU backend (plan interpreter)\n";
  auto result = g4c::generate(*backend, prompts, options, diag);
  if (!result) return finish(kInputError);
  for (size_t s = 0; s < result->generated.size(); ++s) {
    std::cout << "sequence " << s << ":";
    for (int32_t t : result->generated[s]) std::cout << " " << t;
    std::cout << "\n";
  }
  if (auto path = args->value("dump-logits"); path && !dump_logits(*path, *result, backend->vocab(), diag))
    return finish(kInputError);
  return finish(0);
}

// Writes the plan's weights (typically random:seed=N) as a GGUF file other engines can read.
int export_gguf(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kExportOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("export-gguf: expected one plan file");
  auto source = args->value("weights");
  auto out = args->value("o");
  if (!source) return usage_error("export-gguf: --weights: missing (random:seed=N or a GGUF file)");
  if (!out) return usage_error("export-gguf: -o: missing (the GGUF file to write)");
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  std::optional<g4c::WeightSet> weights;
  if (plan) weights = g4c::load_weights(*plan, *source, diag);
  if (weights) g4c::export_gguf(*plan, *weights, *out, diag);
  diag.print(std::cerr, kTool);
  return diag.has_errors() ? kInputError : 0;
}

// Compiles every kernel instance the plan lists ahead of time (NVRTC needs no GPU).
int jit(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kJitOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("jit: expected one plan file");
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("jit: --kernel-cache-dir and --no-kernel-cache contradict each other");
  g4c::JitOptions options;
  if (auto arch = args->value("arch")) {
    options.arch = *arch;
  } else if (std::string why; auto device = g4c::gpu::find_device(why)) {
    options.arch = device->arch();
  }
  options.cache_dir = args->has("no-kernel-cache") ? "" : args->value("kernel-cache-dir").value_or(g4c::default_kernel_cache_dir());
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

}  // namespace

int main(int argc, char** argv) {
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
  if (command == "export-gguf") return export_gguf(argc, argv);
  if (command == "jit") return jit(argc, argv);
  // `run` is the default subcommand: `g4run PLAN ...` is `g4run run PLAN ...`.
  return run(argc, argv, 1);
}
