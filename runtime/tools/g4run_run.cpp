// g4run run: decodes the prompts of a plan, streaming text or token ids.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "g4c/plan/parser.h"
#include "g4c/runtime/generate.h"
#include "g4c/runtime/host_memory.h"
#include "g4c/runtime/interpreter.h"
#include "g4c/runtime/npy.h"
#include "g4c/support/checked_math.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"
#include "g4run_common.h"
#include "text_io.h"

namespace g4run {

const std::vector<g4c::OptionSpec>& run_options() {
  static const std::vector<g4c::OptionSpec> options = with_text_options({
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
      kEarlyLaunchOption,
      kNoRopeTablesOption,
      kWeightStagesOption,
      kStageMemoryOption,
      kAttentionStagesOption,
      kAttentionSplitsOption,
      kCacheDirOption,
      kNoCacheOption,
      kHelpOption,
  });
  return options;
}

namespace {

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

}  // namespace

int run(int argc, char** argv, int first) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, first, run_options(), error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("run: expected one plan file");
  auto weights_source = args->value("weights");
  if (!weights_source) return usage_error("run: --weights: missing (random:seed=N or a GGUF file)");
  if (std::string why = check_text_options(*args, *weights_source); !why.empty()) return usage_error(why);
  g4c::CommandDiagnostics diag(kTool);
  auto inputs = read_prompts(*args, error, diag);
  if (!inputs) return diag.has_errors() ? diag.finish(kInputError) : usage_error(error);
  g4c::GenerateOptions options;
  if (auto steps = args->value("steps")) {
    auto n = g4c::parse_int(*steps);
    if (!n || *n < 0 || *n > 1000000) return usage_error("--steps: expected a number of tokens (got " + g4c::quote(*steps) + ")");
    options.steps = static_cast<int>(*n);
  }
  options.keep_logits = args->has("dump-logits");
  if (auto error_text = parse_sampling(*args, options.sampling); !error_text.empty()) return usage_error(error_text);
  if (!attention_splits_option(*args, error) || !apply_staging_options(*args, error)) return usage_error(error);
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
  if (!plan) return diag.finish(kInputError);
  std::optional<g4c::tokenizer::Tokenizer> tokenizer;
  if (uses_text(*args) && !(tokenizer = load_tokenizer(*args, *weights_source, *plan, diag)))
    return diag.finish(kInputError);
  auto encoded = encode_prompts(*inputs, tokenizer ? &*tokenizer : nullptr, *args, *plan, diag);
  if (!encoded) return diag.finish(kInputError);
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
    return diag.finish(kInputError);
  if (backend_name == "gpu") {
    executor = make_executor(*plan, *weights_source, sequences, *args, host_weights, diag);
    if (!executor) return diag.finish(kInputError);
    std::cerr << "g4run: running " << plan->header.name << " on " << executor->device().name << " (GPU executor)\n";
    executor->set_keep_logits(options.keep_logits || !options.sampling.greedy());
    backend = executor.get();
  } else {
    host_weights = g4c::load_weights(*plan, *weights_source, diag, weight_options(*args));
    if (!host_weights) return diag.finish(kInputError);
    interpreter = g4c::Interpreter::create(*plan, *host_weights, sequences, diag);
    if (!interpreter) return diag.finish(kInputError);
    std::cerr << "g4run: running " << plan->header.name << " on the CPU backend (plan interpreter)\n";
    backend = &*interpreter;
  }
  std::optional<TextPrinter> printer;
  if (tokenizer) {
    printer.emplace(*tokenizer, *args, prompts, options.steps, std::cout, std::cerr);
    options.on_token = [&](int64_t sequence, int32_t token) { return printer->on_token(sequence, token); };
  }
  auto result = g4c::generate(*backend, prompts, options, diag);
  if (!result) return diag.finish(kInputError);
  if (printer) printer->finish();
  for (size_t s = 0; !printer && s < result->generated.size(); ++s) {
    std::cout << "sequence " << s << ":";
    for (int32_t t : result->generated[s]) std::cout << " " << t;
    std::cout << "\n";
  }
  if (auto path = args->value("dump-logits"); path && !dump_logits(*path, *result, backend->vocab(), diag))
    return diag.finish(kInputError);
  return diag.finish(0);
}

}  // namespace g4run
