// What a loaded tokenizer knows (internal to the tokenizer library): built once by load.cpp,
// then read-only and shared by every copy of the Tokenizer.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "g4c/runtime/tokenizer/tokenizer.h"

namespace g4c::tokenizer {

struct Tokenizer::Vocabulary {
  Algorithm algorithm = Algorithm::gemma4_bpe;
  std::string model_name;
  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  std::vector<float> scores;
  std::vector<std::string> pieces;  // what each token adds to a text (Tokenizer::piece)

  // Symbols: every token's text, then merge operands and results that are no token (ids from
  // tokens.size() on, texts in `extra_symbols`). Views point into `tokens` and `extra_symbols`,
  // which never move once built. A text listed twice is its last token, as in llama.cpp.
  std::unordered_map<std::string_view, int32_t> symbol_ids;
  std::deque<std::string> extra_symbols;

  struct Merge {
    int32_t rank = 0;    // position in tokenizer.ggml.merges: lower merges first
    int32_t result = 0;  // the symbol the pair becomes
  };
  std::unordered_map<uint64_t, Merge> merges;  // keyed by merge_key(left, right)
  static uint64_t merge_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  std::array<int32_t, 256> byte_tokens{};  // <0xNN>, else -1
  std::vector<int32_t> special_tokens;     // control, user-defined and unknown tokens, longest first
  std::optional<int32_t> bos, eos, unknown;
  std::unordered_set<int32_t> end_of_generation;
  bool add_bos = true;
  bool add_space_prefix = false;
  std::string chat_template;

  // A symbol's id, or -1.
  int32_t symbol_id(std::string_view text) const {
    auto it = symbol_ids.find(text);
    return it == symbol_ids.end() ? -1 : it->second;
  }
  bool is_token(int32_t id) const { return id >= 0 && id < static_cast<int32_t>(tokens.size()); }
};

}  // namespace g4c::tokenizer
