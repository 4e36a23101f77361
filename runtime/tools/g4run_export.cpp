// g4run export-gguf: writes a plan's weights as a GGUF file other engines can read.
#include <iostream>

#include "g4c/plan/parser.h"
#include "g4c/runtime/export_gguf.h"
#include "g4c/support/file_io.h"
#include "g4run_common.h"
#include "text_io.h"

namespace g4run {

const std::vector<g4c::OptionSpec>& export_options() {
  static const std::vector<g4c::OptionSpec> options = {
      kWeightsOption,
      kCheckTensorsOption,
      {"o", true, false, "file", "the GGUF file to write"},
      {"vocab", true, false, "file", "write this GGUF file's tokenizer (tokenizer.* keys) beside the weights"},
      kHelpOption,
  };
  return options;
}

// Writes the plan's weights (typically random:seed=N) as a GGUF file other engines can read.
int export_gguf(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "export-gguf", export_options(), exit_code);
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
  if (plan) tokenizer = tokenizer_metadata(*args, *plan, diag);
  std::optional<g4c::WeightSet> weights;
  if (tokenizer) weights = g4c::load_weights(*plan, *source, diag, weight_options(*args));
  if (weights) g4c::export_gguf(*plan, *weights, *out, diag, *tokenizer);
  diag.print(std::cerr, kTool);
  return diag.has_errors() ? kInputError : 0;
}

}  // namespace g4run
