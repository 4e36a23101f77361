// g4run's text in and out: prompts given as text (--prompt, --prompt-file) encoded by the model's
// tokenizer (the --weights GGUF's, or --vocab's), optionally wrapped in Gemma 4's chat turns, and
// generated tokens streamed back as text, each sequence ending at an end-of-generation token, a
// --stop string or --steps.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "g4c/gguf/value.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/tokenizer/text_stream.h"
#include "g4c/runtime/tokenizer/tokenizer.h"
#include "g4c/support/cli.h"
#include "g4c/support/diagnostics.h"

namespace g4run {

// `options` (g4run run's) with the options for text after --prompt-ids.
std::vector<g4c::OptionSpec> with_text_options(std::vector<g4c::OptionSpec> options);

// Token ids written as `2,651,1024`; sets `error` (naming --prompt-ids) when they are not.
std::optional<std::vector<int32_t>> parse_ids(const std::string& text, std::string& error);

// One sequence's prompt as the command line gave it.
struct PromptInput {
  std::string name;                          // for messages: `--prompt 2`, `notes.txt`, `--prompt-ids 1`
  std::optional<std::vector<int32_t>> ids;   // --prompt-ids
  std::string text;                          // --prompt, --prompt-file
};

// --prompt-ids, --prompt and --prompt-file in the order given, one sequence each. A mistake on the
// command line sets `usage_error`; a file that cannot be read or is not UTF-8 is reported to `diag`.
std::optional<std::vector<PromptInput>> read_prompts(const g4c::ParsedArgs& args, std::string& usage_error,
                                                     g4c::DiagnosticEngine& diag);

// Whether the run reads or writes text, so needs a tokenizer.
bool uses_text(const g4c::ParsedArgs& args);

// The option combinations that make no sense without others (--system without --chat, ...);
// returns what is wrong, or nothing. `weights` is the --weights source.
std::string check_text_options(const g4c::ParsedArgs& args, const std::string& weights);

// The run's tokenizer: from --vocab, else from the --weights GGUF. Checked against the plan: the
// model must have an embedding row for every token.
std::optional<g4c::tokenizer::Tokenizer> load_tokenizer(const g4c::ParsedArgs& args, const std::string& weights,
                                                        const g4c::plan::Plan& plan, g4c::DiagnosticEngine& diag);

// The tokenizer keys (tokenizer.*) of --vocab's file, checked as load_tokenizer checks them, for
// export-gguf to write beside the weights; nothing (and no error) without --vocab.
std::optional<std::vector<std::pair<std::string, g4c::gguf::Value>>> tokenizer_metadata(
    const g4c::ParsedArgs& args, const g4c::plan::Plan& plan, g4c::DiagnosticEngine& diag);

// Every prompt as token ids: text encoded (BOS per the tokenizer; with --chat in Gemma 4's turns),
// ids as given. A prompt longer than the plan's context is an error.
std::optional<std::vector<std::vector<int32_t>>> encode_prompts(const std::vector<PromptInput>& prompts,
                                                                const g4c::tokenizer::Tokenizer* tokenizer,
                                                                const g4c::ParsedArgs& args, const g4c::plan::Plan& plan,
                                                                g4c::DiagnosticEngine& diag);

// Prints generated tokens as text while they come: one sequence as a plain stream, several as
// lines prefixed `sequence N: `, or with --jsonl one JSON object per token and per finished
// sequence. Says on `log` why each sequence ended.
class TextPrinter {
 public:
  TextPrinter(const g4c::tokenizer::Tokenizer& tokenizer, const g4c::ParsedArgs& args,
              const std::vector<std::vector<int32_t>>& prompts, int steps, std::ostream& out, std::ostream& log);
  // Takes sequence `sequence`'s next token; returns whether the sequence goes on.
  bool on_token(int64_t sequence, int32_t token);
  // Ends every sequence still open (a sequence with no steps, or when generation stopped early).
  void finish();

 private:
  struct Sequence {
    g4c::tokenizer::TextStream stream;
    std::string text;  // all of it, for --jsonl's summary
    std::string line;  // the unfinished line, for prefixed lines
    size_t prompt_tokens = 0;
    int tokens = 0;
    bool done = false;
  };
  void write(int64_t sequence, int32_t token, const std::string& text);
  void end(int64_t sequence, const std::string& reason, const std::string& why);

  const g4c::tokenizer::Tokenizer& tokenizer_;
  enum class Format { stream, lines, jsonl } format_;
  bool ignore_eos_;
  int steps_;
  std::vector<Sequence> sequences_;
  std::ostream& out_;
  std::ostream& log_;
};

}  // namespace g4run
