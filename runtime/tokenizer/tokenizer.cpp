#include <algorithm>

#include "g4c/runtime/tokenizer/utf8.h"
#include "merge.h"
#include "vocabulary.h"

namespace g4c::tokenizer {

namespace {

using Vocabulary = Tokenizer::Vocabulary;

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// A stretch of the input: plain text, or a special token written in it.
struct Fragment {
  size_t offset = 0, length = 0;
  int32_t token = -1;
};

// Splits the text around the special tokens written in it, longest token first (as llama.cpp
// does: a longer token wins wherever it occurs, then shorter ones are found in what remains).
std::vector<Fragment> split_special_tokens(const Vocabulary& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({0, text.size(), -1});
  for (int32_t id : v.special_tokens) {
    if (!parse_special && v.types[id] != TokenType::user_defined) continue;
    const std::string& special = v.tokens[id];
    std::vector<Fragment> next;
    next.reserve(fragments.size());
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t at = f.offset;
      const size_t end = f.offset + f.length;
      for (size_t match; (match = text.substr(0, end).find(special, at)) != std::string_view::npos;) {
        if (match > at) next.push_back({at, match - at, -1});
        next.push_back({match, special.size(), id});
        at = match + special.size();
      }
      if (at < end) next.push_back({at, end - at, -1});
    }
    fragments = std::move(next);
  }
  return fragments;
}

std::string escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ')
      out += kSpace;
    else
      out += c;
  }
  return out;
}

// The word's symbols after merging, each as a token or, when no token covers it, its bytes.
void emit_symbols(const Vocabulary& v, std::string_view word, const std::vector<Symbol>& symbols,
                  std::vector<int32_t>& out) {
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (v.is_token(s.id)) {
      out.push_back(s.id);
      continue;
    }
    for (size_t k = 0; k < s.size; ++k) {
      const int32_t byte = v.byte_tokens[static_cast<unsigned char>(word[s.start + k])];
      if (byte >= 0)
        out.push_back(byte);
      else if (v.unknown)
        out.push_back(*v.unknown);
    }
  }
}

// One symbol per character (a byte that starts no character is one of its own).
std::vector<Symbol> characters(const Vocabulary& v, std::string_view word) {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t at = 0; at < word.size();) {
    const size_t n = std::min(utf8_sequence_length(static_cast<unsigned char>(word[at])), word.size() - at);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(at), static_cast<uint32_t>(n), v.symbol_id(word.substr(at, n)), index - 1,
                       at + n < word.size() ? index + 1 : -1});
    at += n;
  }
  return symbols;
}

// BPE: a pair merges when tokenizer.ggml.merges lists it, earlier entries first.
void encode_bpe_word(const Vocabulary& v, std::string_view word, std::vector<int32_t>& out) {
  std::vector<Symbol> symbols = characters(v, word);
  merge_symbols(symbols, [&](const Symbol& left, const Symbol& right) -> std::optional<PairMerge> {
    if (left.id < 0 || right.id < 0) return std::nullopt;
    auto it = v.merges.find(Vocabulary::merge_key(left.id, right.id));
    if (it == v.merges.end()) return std::nullopt;
    return PairMerge{static_cast<double>(it->second.rank), it->second.result};
  });
  emit_symbols(v, word, symbols, out);
}

// Gemma 4: runs of newlines apart from the rest; a run of newlines that is a token stays whole.
void encode_gemma4_text(const Vocabulary& v, std::string_view text, std::vector<int32_t>& out) {
  for (size_t at = 0; at < text.size();) {
    const bool newlines = text[at] == '\n';
    size_t end = at;
    while (end < text.size() && (text[end] == '\n') == newlines) ++end;
    const std::string_view run = text.substr(at, end - at);
    if (const int32_t whole = newlines ? v.symbol_id(run) : -1; v.is_token(whole))
      out.push_back(whole);
    else
      encode_bpe_word(v, run, out);
    at = end;
  }
}

// SentencePiece: a pair merges when its concatenation is a token, the highest score first.
void encode_sentencepiece_text(const Vocabulary& v, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Symbol> symbols = characters(v, text);
  merge_symbols(symbols, [&](const Symbol& left, const Symbol& right) -> std::optional<PairMerge> {
    const int32_t id = v.symbol_id(text.substr(left.start, left.size + right.size));
    if (!v.is_token(id)) return std::nullopt;
    return PairMerge{-static_cast<double>(v.scores[id]), id};
  });
  emit_symbols(v, text, symbols, out);
}

bool is_special(TokenType t) {
  return t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown;
}

}  // namespace

Algorithm Tokenizer::algorithm() const { return vocab_->algorithm; }
const std::string& Tokenizer::model_name() const { return vocab_->model_name; }
int32_t Tokenizer::size() const { return static_cast<int32_t>(vocab_->tokens.size()); }
std::string_view Tokenizer::text(int32_t id) const {
  return vocab_->is_token(id) ? std::string_view(vocab_->tokens[id]) : std::string_view();
}
TokenType Tokenizer::type(int32_t id) const { return vocab_->is_token(id) ? vocab_->types[id] : TokenType::undefined; }
std::optional<int32_t> Tokenizer::bos() const { return vocab_->bos; }
std::optional<int32_t> Tokenizer::eos() const { return vocab_->eos; }
bool Tokenizer::adds_bos() const { return vocab_->add_bos; }
bool Tokenizer::ends_generation(int32_t id) const { return vocab_->end_of_generation.count(id) > 0; }
const std::string& Tokenizer::chat_template() const { return vocab_->chat_template; }
std::string_view Tokenizer::piece(int32_t id) const {
  return vocab_->is_token(id) ? std::string_view(vocab_->pieces[id]) : std::string_view();
}

std::optional<int32_t> Tokenizer::find(std::string_view text) const {
  const int32_t id = vocab_->symbol_id(text);
  if (!vocab_->is_token(id)) return std::nullopt;
  return id;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  const Vocabulary& v = *vocab_;
  std::vector<int32_t> out;
  if (options.add_bos && v.add_bos && v.bos) out.push_back(*v.bos);
  // SentencePiece's space prefix goes before the text and after each special token in it.
  bool after_special = true;
  for (const Fragment& f : split_special_tokens(v, text, options.parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string escaped =
        (v.add_space_prefix && after_special ? std::string(kSpace) : std::string()) + escape_spaces(text.substr(f.offset, f.length));
    after_special = false;
    if (v.algorithm == Algorithm::gemma4_bpe)
      encode_gemma4_text(v, escaped, out);
    else
      encode_sentencepiece_text(v, escaped, out);
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool strip_prefix = vocab_->add_space_prefix;
  for (int32_t id : ids) {
    if (is_special(type(id))) {
      out += piece(id);
      strip_prefix = vocab_->add_space_prefix;
      continue;
    }
    std::string_view p = piece(id);
    if (strip_prefix && !p.empty()) {
      if (p.front() == ' ') p.remove_prefix(1);
      strip_prefix = false;
    }
    out += p;
  }
  return out;
}

}  // namespace g4c::tokenizer
