#include "text_io.h"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "g4c/gguf/file.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/tokenizer/chat.h"
#include "g4c/runtime/tokenizer/utf8.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4run {

namespace tok = g4c::tokenizer;

std::vector<g4c::OptionSpec> with_text_options(std::vector<g4c::OptionSpec> options) {
  static const std::vector<g4c::OptionSpec> text_options = {
    {"prompt", true, true, "text", "one sequence's prompt as text (repeat for more sequences)"},
    {"prompt-file", true, true, "file", "one sequence's prompt, the UTF-8 text of a file (repeatable)"},
    {"vocab", true, false, "file", "take the tokenizer from this GGUF file (default: the --weights GGUF)"},
    {"chat", false, false, "", "wrap each text prompt in Gemma 4's chat turns (user, then model)"},
    {"system", true, false, "text", "with --chat: a system turn before each prompt"},
    {"think", false, false, "", "with --chat: turn the model's thinking on"},
    {"stop", true, true, "text", "end a sequence where its text contains this; not printed (repeatable)"},
    {"jsonl", false, false, "", "print one JSON object per generated token and per finished sequence"},
    {"ignore-eos", false, false, "", "go on after end-of-sequence and end-of-turn tokens"},
  };
  auto after = std::find_if(options.begin(), options.end(), [](const g4c::OptionSpec& o) { return o.name == "prompt-ids"; });
  options.insert(after == options.end() ? after : after + 1, text_options.begin(), text_options.end());
  return options;
}

std::optional<std::vector<int32_t>> parse_ids(const std::string& text, std::string& error) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto v = g4c::parse_int(item);
    if (!v || *v < INT32_MIN || *v > INT32_MAX) {
      error = "--prompt-ids: " + g4c::quote(item) + " is not a token id";
      return std::nullopt;
    }
    ids.push_back(static_cast<int32_t>(*v));
  }
  if (ids.empty()) error = "--prompt-ids: expected token ids such as 2,651,1024";
  if (ids.empty()) return std::nullopt;
  return ids;
}

namespace {

std::string invalid_utf8(const std::string& text) {
  auto at = tok::first_invalid_utf8(text);
  if (!at) return {};
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[*at]));
  return "invalid UTF-8 at byte " + std::to_string(*at) + " (" + byte + "): prompts are UTF-8 text";
}

// JSON's string form of well-formed UTF-8 text.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// The options that put a tokenizer in play, the ones that need it most first.
constexpr const char* kTextOptionNames[] = {"prompt", "prompt-file", "chat",       "stop", "jsonl",
                                            "system", "think",       "ignore-eos", "vocab"};

// The first text option given, for messages; nullptr when none is.
const char* first_text_option(const g4c::ParsedArgs& args) {
  for (const char* name : kTextOptionNames)
    if (args.has(name)) return name;
  return nullptr;
}

}  // namespace

std::optional<std::vector<PromptInput>> read_prompts(const g4c::ParsedArgs& args, std::string& usage_error,
                                                     g4c::DiagnosticEngine& diag) {
  std::vector<PromptInput> prompts;
  int text_prompts = 0;
  for (const auto& [option, value] : args.in_order) {
    if (option == "prompt-ids") {
      auto ids = parse_ids(value, usage_error);
      if (!ids) return std::nullopt;
      prompts.push_back({"--prompt-ids " + std::to_string(prompts.size()), ids, {}});
    } else if (option == "prompt") {
      ++text_prompts;
      if (std::string why = invalid_utf8(value); !why.empty()) {
        usage_error = "--prompt: " + why;
        return std::nullopt;
      }
      prompts.push_back({"--prompt " + std::to_string(text_prompts), std::nullopt, value});
    } else if (option == "prompt-file") {
      std::string why;
      auto text = g4c::read_file(value, why);
      if (!text) {
        diag.error({}, "--prompt-file: cannot read " + g4c::quote(value) + ": " + why);
        return std::nullopt;
      }
      if (std::string bad = invalid_utf8(*text); !bad.empty()) {
        diag.error(g4c::SourceLoc{std::make_shared<const std::string>(value), 0, 0}, bad);
        return std::nullopt;
      }
      prompts.push_back({value, std::nullopt, *text});
    }
  }
  if (prompts.empty()) usage_error = "run: --prompt-ids, --prompt or --prompt-file: missing (one per sequence)";
  if (prompts.empty()) return std::nullopt;
  return prompts;
}

bool uses_text(const g4c::ParsedArgs& args) { return first_text_option(args) != nullptr; }

std::string check_text_options(const g4c::ParsedArgs& args, const std::string& weights) {
  for (const char* name : {"system", "think"})
    if (args.has(name) && !args.has("chat")) return "--" + std::string(name) + " needs --chat";
  if (uses_text(args) && !args.has("vocab") && g4c::parse_random_seed(weights))
    return "--" + std::string(first_text_option(args)) +
           ": random weights carry no tokenizer; pass --vocab FILE.gguf to take one from a GGUF file";
  return {};
}

namespace {

// The tokenizer of `file`, checked against the plan (and, with --chat, for Gemma 4's turns).
std::optional<tok::Tokenizer> load_checked_tokenizer(const g4c::gguf::File& file, const g4c::ParsedArgs& args,
                                                     const g4c::plan::Plan& plan, g4c::DiagnosticEngine& diag) {
  const std::string& path = file.path();
  auto tokenizer = tok::Tokenizer::load(file, diag);
  if (!tokenizer) {
    if (!args.has("vocab")) diag.note({}, "--vocab FILE.gguf takes the tokenizer from another GGUF file");
    return std::nullopt;
  }
  const g4c::SourceLoc loc{std::make_shared<const std::string>(path), 0, 0};
  if (args.has("chat"))
    if (std::string why = tok::gemma4_chat_unsupported(*tokenizer); !why.empty()) {
      diag.error(loc, "--chat: " + why);
      return std::nullopt;
    }
  if (tokenizer->size() > plan.header.vocab) {
    diag.error(loc, g4c::keyed_message("tokenizer.ggml.tokens", "more tokens than the model " + plan.header.name + " has embedding rows",
                                       std::to_string(tokenizer->size()), "at most " + std::to_string(plan.header.vocab)));
    return std::nullopt;
  }
  return tokenizer;
}

}  // namespace

std::optional<tok::Tokenizer> load_tokenizer(const g4c::ParsedArgs& args, const std::string& weights,
                                             const g4c::plan::Plan& plan, g4c::DiagnosticEngine& diag) {
  auto file = g4c::gguf::File::open(args.value("vocab").value_or(weights), diag);
  if (!file) return std::nullopt;
  return load_checked_tokenizer(*file, args, plan, diag);
}

std::optional<std::vector<std::pair<std::string, g4c::gguf::Value>>> tokenizer_metadata(
    const g4c::ParsedArgs& args, const g4c::plan::Plan& plan, g4c::DiagnosticEngine& diag) {
  std::vector<std::pair<std::string, g4c::gguf::Value>> keys;
  auto path = args.value("vocab");
  if (!path) return keys;
  auto file = g4c::gguf::File::open(*path, diag);
  if (!file || !load_checked_tokenizer(*file, args, plan, diag)) return std::nullopt;
  for (const auto& [key, value] : file->metadata())
    if (key.starts_with("tokenizer.")) keys.emplace_back(key, value);
  return keys;
}

std::optional<std::vector<std::vector<int32_t>>> encode_prompts(const std::vector<PromptInput>& prompts,
                                                                const tok::Tokenizer* tokenizer,
                                                                const g4c::ParsedArgs& args, const g4c::plan::Plan& plan,
                                                                g4c::DiagnosticEngine& diag) {
  std::vector<std::vector<int32_t>> ids;
  for (const PromptInput& p : prompts) {
    if (p.ids) {
      ids.push_back(*p.ids);
    } else if (args.has("chat")) {
      std::vector<tok::ChatMessage> messages;
      if (auto system = args.value("system")) messages.push_back({"system", *system});
      messages.push_back({"user", p.text});
      const std::string turns = tok::render_gemma4_chat(messages, tokenizer->text(*tokenizer->bos()),
                                                        {.enable_thinking = args.has("think")});
      ids.push_back(tokenizer->encode(turns, {.add_bos = false}));
    } else {
      ids.push_back(tokenizer->encode(p.text));
    }
    if (static_cast<int64_t>(ids.back().size()) > plan.header.context) {
      diag.error({}, p.name + ": a prompt of " + std::to_string(ids.back().size()) +
                         " tokens, longer than the plan's context (" + std::to_string(plan.header.context) +
                         " positions)");
      return std::nullopt;
    }
    if (ids.back().empty()) {
      diag.error({}, p.name + ": the prompt encodes to no tokens (the tokenizer adds no BOS); give some text");
      return std::nullopt;
    }
  }
  return ids;
}

TextPrinter::TextPrinter(const tok::Tokenizer& tokenizer, const g4c::ParsedArgs& args,
                         const std::vector<std::vector<int32_t>>& prompts, int steps, std::ostream& out, std::ostream& log)
    : tokenizer_(tokenizer),
      format_(args.has("jsonl") ? Format::jsonl : prompts.size() == 1 ? Format::stream : Format::lines),
      ignore_eos_(args.has("ignore-eos")),
      steps_(steps),
      out_(out),
      log_(log) {
  std::vector<std::string> stop;
  if (auto it = args.values.find("stop"); it != args.values.end()) stop = it->second;
  for (const auto& prompt : prompts) sequences_.push_back({tok::TextStream(tokenizer, stop), {}, {}, prompt.size(), 0, false});
}

bool TextPrinter::on_token(int64_t sequence, int32_t token) {
  Sequence& s = sequences_[sequence];
  if (s.done) return false;
  ++s.tokens;
  if (tokenizer_.ends_generation(token) && !ignore_eos_) {
    end(sequence, "end_token", "at " + g4c::quote(tokenizer_.text(token)));
    return false;
  }
  write(sequence, token, s.stream.push(token));
  if (s.stream.stopped()) {
    end(sequence, "stop_string", "at a --stop string");
    return false;
  }
  if (s.tokens >= steps_) {
    end(sequence, "steps", "at --steps");
    return false;
  }
  return true;
}

void TextPrinter::finish() {
  for (size_t s = 0; s < sequences_.size(); ++s)
    if (!sequences_[s].done) end(static_cast<int64_t>(s), "steps", "at --steps");
}

void TextPrinter::write(int64_t sequence, int32_t token, const std::string& text) {
  Sequence& s = sequences_[sequence];
  s.text += text;
  switch (format_) {
    case Format::stream:
      out_ << text << std::flush;
      break;
    case Format::lines:
      s.line += text;
      for (size_t newline; (newline = s.line.find('\n')) != std::string::npos; s.line.erase(0, newline + 1))
        out_ << "sequence " << sequence << ": " << std::string_view(s.line).substr(0, newline) << "\n" << std::flush;
      break;
    case Format::jsonl:
      out_ << "{\"sequence\": " << sequence << ", \"token\": " << token << ", \"text\": " << json_string(text) << "}\n"
           << std::flush;
      break;
  }
}

void TextPrinter::end(int64_t sequence, const std::string& reason, const std::string& why) {
  Sequence& s = sequences_[sequence];
  s.done = true;
  if (std::string rest = s.stream.finish(); !rest.empty()) {
    s.text += rest;
    if (format_ == Format::stream) out_ << rest;
    if (format_ == Format::lines) s.line += rest;
    if (format_ == Format::jsonl) out_ << "{\"sequence\": " << sequence << ", \"text\": " << json_string(rest) << "}\n";
  }
  if (format_ == Format::stream) out_ << "\n";
  // The unfinished last line; a sequence that wrote nothing still gets its line.
  if (format_ == Format::lines && (!s.line.empty() || s.text.empty()))
    out_ << "sequence " << sequence << ": " << s.line << "\n";
  if (format_ == Format::jsonl)
    out_ << "{\"sequence\": " << sequence << ", \"done\": true, \"reason\": \"" << reason << "\", \"tokens\": " << s.tokens
         << ", \"text\": " << json_string(s.text) << "}\n";
  out_ << std::flush;
  log_ << "g4run: sequence " << sequence << ": " << s.prompt_tokens << " prompt tokens, " << s.tokens << " generated, ended "
       << why << "\n";
}

}  // namespace g4run
