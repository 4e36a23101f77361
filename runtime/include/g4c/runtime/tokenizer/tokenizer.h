// A model's tokenizer, read from the `tokenizer.ggml.*` keys of a GGUF file, encoding and
// decoding as the reference tokenizers do (checked against llama.cpp's vocab test vectors).
//
// Two algorithms, chosen by tokenizer.ggml.model:
//   gemma4  Gemma 4: BPE over tokenizer.ggml.merges (earlier merges first) on raw UTF-8, with
//           spaces written as U+2581 and no space prefix; runs of newlines are pieces of their
//           own (a run that is a token stays whole); a piece no token covers falls back to its
//           bytes as <0xNN> tokens.
//   llama   SentencePiece (LLaMA, Gemma 1-3): adjacent pieces merge while their concatenation is
//           a token, the highest-scoring first; a space prefix when tokenizer.ggml.add_space_prefix
//           (default true); the same byte fallback.
// Either way the control and user-defined tokens written in the text (`<bos>`, `<|turn>`, ...)
// are those tokens, matched whole (longest first) before anything else, and never split.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/gguf/file.h"
#include "g4c/support/diagnostics.h"

namespace g4c::tokenizer {

// tokenizer.ggml.token_type (SentencePiece's numbering, as llama.cpp writes it).
enum class TokenType : uint8_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

enum class Algorithm { gemma4_bpe, sentencepiece };

struct EncodeOptions {
  bool add_bos = true;        // a BOS token first, when the vocabulary asks for one (add_bos_token)
  bool parse_special = true;  // control tokens in the text are those tokens (user-defined ones always are)
};

class Tokenizer {
 public:
  // Whether `file` carries a tokenizer at all (tokenizer.ggml.model).
  static bool present(const gguf::File& file);
  // Reads and checks the tokenizer keys; errors name the file and the key.
  static std::optional<Tokenizer> load(const gguf::File& file, DiagnosticEngine& diag);

  Algorithm algorithm() const;
  const std::string& model_name() const;  // tokenizer.ggml.model
  int32_t size() const;                   // tokens in the vocabulary
  std::string_view text(int32_t id) const;  // the token as the vocabulary writes it
  TokenType type(int32_t id) const;
  std::optional<int32_t> find(std::string_view text) const;
  std::optional<int32_t> bos() const;
  std::optional<int32_t> eos() const;
  bool adds_bos() const;  // tokenizer.ggml.add_bos_token
  // Tokens after which a sequence has ended: EOS, end-of-turn (`<turn|>`, `<end_of_turn>`),
  // tokenizer.ggml.eot_token_id / eom_token_id, and Gemma 4's `<|tool_response>` (the model
  // waits for a tool's answer).
  bool ends_generation(int32_t id) const;
  const std::string& chat_template() const;  // tokenizer.chat_template, or empty

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes token `id` adds to a text: U+2581 as a space, a <0xNN> token as its byte,
  // user-defined tokens as written; control, unknown and unused tokens add nothing. Ids outside
  // the vocabulary add nothing.
  std::string_view piece(int32_t id) const;
  // The text of a whole encoding: the pieces, less the space prefix encode() added.
  std::string decode(std::span<const int32_t> ids) const;

  struct Vocabulary;  // defined in the implementation

 private:
  explicit Tokenizer(std::shared_ptr<const Vocabulary> vocab) : vocab_(std::move(vocab)) {}
  std::shared_ptr<const Vocabulary> vocab_;  // shared and immutable: copies are cheap
};

}  // namespace g4c::tokenizer
