// Reading a tokenizer from a GGUF file's tokenizer.ggml.* keys (llama.cpp's names). The file is
// untrusted: every key's type, every array's length and every token id is checked, and the
// first problem is reported as `FILE: error: <key>: <what> (got X, expected Y)`.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "g4c/support/text.h"
#include "vocabulary.h"

namespace g4c::tokenizer {

namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

class VocabularyReader {
 public:
  VocabularyReader(const gguf::File& file, DiagnosticEngine& diag) : file_(file), diag_(diag) {}

  std::shared_ptr<Tokenizer::Vocabulary> read() {
    auto v = std::make_shared<Tokenizer::Vocabulary>();
    if (!read_model(*v) || !read_tokens(*v) || !read_types_and_scores(*v) || !read_special_ids(*v)) return nullptr;
    if (!read_flags(*v)) return nullptr;
    index_symbols(*v);
    if (v->algorithm == Algorithm::gemma4_bpe && !read_merges(*v)) return nullptr;
    finish(*v);
    return v;
  }

 private:
  bool fail(std::string_view key, std::string_view what, std::string_view got = {}, std::string_view expected = {}) {
    diag_.error(SourceLoc{std::make_shared<const std::string>(file_.path()), 0, 0},
                keyed_message(key, what, got, expected));
    return false;
  }

  bool read_model(Tokenizer::Vocabulary& v) {
    const gguf::Value* value = file_.find(kModelKey);
    if (!value) return fail(kModelKey, "missing: the file carries no tokenizer");
    auto name = value->as_string();
    if (!name) return fail(kModelKey, "expected a string", value->summary());
    v.model_name = *name;
    if (*name == "gemma4") {
      v.algorithm = Algorithm::gemma4_bpe;
    } else if (*name == "llama") {
      v.algorithm = Algorithm::sentencepiece;
    } else {
      return fail(kModelKey, "unknown tokenizer", quote(*name), "gemma4 or llama");
    }
    return true;
  }

  bool read_tokens(Tokenizer::Vocabulary& v) {
    constexpr std::string_view key = "tokenizer.ggml.tokens";
    const gguf::Value* value = file_.find(key);
    if (!value) return fail(key, "missing: the tokenizer has no tokens");
    auto tokens = value->as_string_array();
    if (!tokens) return fail(key, "expected an array of strings", value->summary());
    if (tokens->empty()) return fail(key, "the tokenizer has no tokens");
    v.tokens = std::move(*tokens);
    return true;
  }

  // An array of one number per token, or nothing when the key is absent.
  std::optional<std::vector<double>> per_token_numbers(std::string_view key, size_t count, bool& ok) {
    const gguf::Value* value = file_.find(key);
    if (!value) return std::nullopt;
    auto numbers = value->as_float_array();
    if (!numbers) {
      ok = fail(key, "expected an array of numbers", value->summary());
    } else if (numbers->size() != count) {
      ok = fail(key, "expected one entry per token", std::to_string(numbers->size()) + " entries",
                std::to_string(count));
    }
    return numbers;
  }

  bool read_types_and_scores(Tokenizer::Vocabulary& v) {
    const size_t n = v.tokens.size();
    bool ok = true;
    auto types = per_token_numbers("tokenizer.ggml.token_type", n, ok);
    auto scores = ok ? per_token_numbers("tokenizer.ggml.scores", n, ok) : std::nullopt;
    if (!ok) return false;
    v.types.assign(n, TokenType::normal);
    v.scores.assign(n, 0.0f);
    for (size_t i = 0; types && i < n; ++i) {
      const double t = (*types)[i];
      if (t < 0 || t > 6 || t != static_cast<int>(t))
        return fail("tokenizer.ggml.token_type", "token " + std::to_string(i) + ": unknown token type",
                    format_double(t), "0..6");
      v.types[i] = static_cast<TokenType>(static_cast<int>(t));
    }
    for (size_t i = 0; scores && i < n; ++i) v.scores[i] = static_cast<float>((*scores)[i]);
    return true;
  }

  // An optional token id key, checked against the vocabulary.
  bool read_token_id(std::string_view key, size_t count, std::optional<int32_t>& id) {
    const gguf::Value* value = file_.find(key);
    if (!value) return true;
    auto n = value->as_int();
    if (!n) return fail(key, "expected a token id", value->summary());
    if (*n < 0 || *n >= static_cast<int64_t>(count))
      return fail(key, "not a token of the vocabulary", std::to_string(*n), "0.." + std::to_string(count - 1));
    id = static_cast<int32_t>(*n);
    return true;
  }

  bool read_special_ids(Tokenizer::Vocabulary& v) {
    const size_t n = v.tokens.size();
    std::optional<int32_t> eot, eom;
    if (!read_token_id("tokenizer.ggml.bos_token_id", n, v.bos) || !read_token_id("tokenizer.ggml.eos_token_id", n, v.eos) ||
        !read_token_id("tokenizer.ggml.unknown_token_id", n, v.unknown) ||
        !read_token_id("tokenizer.ggml.eot_token_id", n, eot) || !read_token_id("tokenizer.ggml.eom_token_id", n, eom))
      return false;
    for (const auto& id : {v.eos, eot, eom})
      if (id) v.end_of_generation.insert(*id);
    return true;
  }

  bool read_flag(std::string_view key, bool& flag) {
    const gguf::Value* value = file_.find(key);
    if (!value) return true;
    auto b = value->as_bool();
    if (!b) return fail(key, "expected a boolean", value->summary());
    flag = *b;
    return true;
  }

  bool read_flags(Tokenizer::Vocabulary& v) {
    v.add_bos = true;
    v.add_space_prefix = v.algorithm == Algorithm::sentencepiece;
    if (!read_flag("tokenizer.ggml.add_bos_token", v.add_bos) ||
        !read_flag("tokenizer.ggml.add_space_prefix", v.add_space_prefix))
      return false;
    if (v.add_bos && !v.bos)
      return fail("tokenizer.ggml.add_bos_token", "is true but tokenizer.ggml.bos_token_id is missing");
    constexpr std::string_view key = "tokenizer.chat_template";
    if (const gguf::Value* value = file_.find(key)) {
      auto text = value->as_string();
      if (!text) return fail(key, "expected a string", value->summary());
      v.chat_template = *text;
    }
    return true;
  }

  static void index_symbols(Tokenizer::Vocabulary& v) {
    v.symbol_ids.reserve(v.tokens.size() * 2);
    for (size_t i = 0; i < v.tokens.size(); ++i) v.symbol_ids.insert_or_assign(v.tokens[i], static_cast<int32_t>(i));
  }

  // A merge operand or result: its token, or a new symbol past the vocabulary.
  static int32_t intern(Tokenizer::Vocabulary& v, std::string_view text) {
    if (int32_t id = v.symbol_id(text); id >= 0) return id;
    const auto id = static_cast<int32_t>(v.tokens.size() + v.extra_symbols.size());
    v.extra_symbols.emplace_back(text);
    v.symbol_ids.emplace(v.extra_symbols.back(), id);
    return id;
  }

  // "left right" per entry, the first space after the first byte separating the two (a merge of
  // a space-free vocabulary). An entry without one can never apply; a pair listed twice keeps its
  // first rank.
  bool read_merges(Tokenizer::Vocabulary& v) {
    constexpr std::string_view key = "tokenizer.ggml.merges";
    const gguf::Value* value = file_.find(key);
    if (!value) return fail(key, "missing: a " + v.model_name + " tokenizer needs its BPE merges");
    if (!value->is_array() || (value->element_type != gguf::ValueType::string && !value->items.empty()))
      return fail(key, "expected an array of strings", value->summary());
    v.merges.reserve(value->items.size());
    int32_t rank = 0;
    std::string joined;
    for (const gguf::Value& item : value->items) {
      const std::string_view merge = item.text;
      const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
      if (space != std::string_view::npos) {
        const int32_t left = intern(v, merge.substr(0, space));
        const int32_t right = intern(v, merge.substr(space + 1));
        joined.assign(merge.substr(0, space)).append(merge.substr(space + 1));
        const int32_t result = intern(v, joined);
        v.merges.emplace(Tokenizer::Vocabulary::merge_key(left, right), Tokenizer::Vocabulary::Merge{rank, result});
      }
      ++rank;
    }
    return true;
  }

  static std::string piece_of(const Tokenizer::Vocabulary& v, size_t id) {
    const std::string& text = v.tokens[id];
    switch (v.types[id]) {
      case TokenType::normal: {
        std::string piece;
        for (size_t at = 0; at < text.size();) {
          if (text.compare(at, kSpace.size(), kSpace) == 0) {
            piece += ' ';
            at += kSpace.size();
          } else {
            piece += text[at++];
          }
        }
        return piece;
      }
      case TokenType::byte: {
        unsigned value = 0;
        char tail = 0;
        if (std::sscanf(text.c_str(), "<0x%2X>%c", &value, &tail) == 1 && text.size() == 6) return std::string(1, static_cast<char>(value));
        return text;
      }
      case TokenType::user_defined:
        return text;
      default:
        return {};
    }
  }

  static void finish(Tokenizer::Vocabulary& v) {
    v.pieces.resize(v.tokens.size());
    for (size_t i = 0; i < v.tokens.size(); ++i) v.pieces[i] = piece_of(v, i);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const int32_t id = v.symbol_id(name);
      v.byte_tokens[b] = v.is_token(id) ? id : -1;
    }
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      const TokenType t = v.types[i];
      if ((t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) && !v.tokens[i].empty())
        v.special_tokens.push_back(static_cast<int32_t>(i));
    }
    std::stable_sort(v.special_tokens.begin(), v.special_tokens.end(),
                     [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });
    for (std::string_view name : {"<turn|>", "<end_of_turn>", "<|tool_response>"})
      if (int32_t id = v.symbol_id(name); v.is_token(id)) v.end_of_generation.insert(id);
  }

  const gguf::File& file_;
  DiagnosticEngine& diag_;
};

}  // namespace

bool Tokenizer::present(const gguf::File& file) { return file.find(kModelKey) != nullptr; }

std::optional<Tokenizer> Tokenizer::load(const gguf::File& file, DiagnosticEngine& diag) {
  auto vocab = VocabularyReader(file, diag).read();
  if (!vocab) return std::nullopt;
  return Tokenizer(std::move(vocab));
}

}  // namespace g4c::tokenizer
