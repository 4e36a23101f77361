// The tokenizer beyond llama.cpp's vectors: merge order, special tokens in text, BOS, byte
// fallback, end-of-generation tokens and pieces on a tiny vocabulary; Gemma 4's real vocabulary's
// keys and the encoding speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tiny_vocab.h"
#include "vocab_files.h"

namespace g4c::tokenizer {
namespace {

using namespace testing;  // the tiny vocabulary's token names
using Ids = std::vector<int32_t>;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kInstrumented = true;  // sanitizer builds run several times slower
#elif defined(__has_feature)
constexpr bool kInstrumented = __has_feature(address_sanitizer);
#else
constexpr bool kInstrumented = false;
#endif

const EncodeOptions kNoBos{.add_bos = false};

TEST(Tokenizer, MergesInTheOrderTheMergeListGives) {
  const Tokenizer t = tiny_tokenizer();
  // "a b" comes before "a a": a|ab, then "a ab"; leftmost first among equal ranks.
  EXPECT_EQ(t.encode("aab", kNoBos), (Ids{kAAB}));
  EXPECT_EQ(t.encode("aaa", kNoBos), (Ids{kAA, kA}));
  EXPECT_EQ(t.encode("aaab", kNoBos), (Ids{kAA, kAB}));
  EXPECT_EQ(t.encode(" Hi", kNoBos), (Ids{kSpaceHi}));  // a space is U+2581
}

TEST(Tokenizer, KeepsRunsOfNewlinesApart) {
  const Tokenizer t = tiny_tokenizer();
  EXPECT_EQ(t.encode("\n\n", kNoBos), (Ids{kTwoNewlines}));  // a whole run that is a token
  EXPECT_EQ(t.encode("\n\n\n", kNoBos), (Ids{kTwoNewlines, kNewline}));
  EXPECT_EQ(t.encode("a\n\nb", kNoBos), (Ids{kA, kTwoNewlines, kB}));
}

TEST(Tokenizer, AddsBosWhenAsked) {
  const Tokenizer t = tiny_tokenizer();
  EXPECT_EQ(t.encode("Hi"), (Ids{kBos, kHi}));
  EXPECT_EQ(t.encode("Hi", kNoBos), (Ids{kHi}));
  EXPECT_EQ(t.encode(""), (Ids{kBos}));
  EXPECT_EQ(t.encode("", kNoBos), (Ids{}));
}

TEST(Tokenizer, MatchesSpecialTokensWholeAndNeverSplitsThem) {
  const Tokenizer t = tiny_tokenizer();
  EXPECT_EQ(t.encode("<|turn>Hi<turn|>\n", kNoBos), (Ids{kTurn, kHi, kEndTurn, kNewline}));
  EXPECT_EQ(t.encode("a<bos><bos>b", kNoBos), (Ids{kA, kBos, kBos, kB}));
  // Without parse_special, control tokens are plain text; user-defined ones are still matched.
  const Ids plain = t.encode("<bos>", {.add_bos = false, .parse_special = false});
  EXPECT_EQ(plain.size(), 5u);
  EXPECT_EQ(t.decode(plain), "<bos>");
  EXPECT_EQ(t.encode("<|channel>", {.add_bos = false, .parse_special = false}), (Ids{kChannel}));
}

TEST(Tokenizer, FallsBackToBytesForTextNoTokenCovers) {
  const Tokenizer t = tiny_tokenizer();
  const Ids ids = t.encode("z\xC3\xA9", kNoBos);  // "zé": no token spells them
  EXPECT_EQ(ids, (Ids{byte_token('z'), byte_token(0xC3), byte_token(0xA9)}));
  EXPECT_EQ(t.decode(ids), "z\xC3\xA9");
  // Bytes that form no character are encoded and decoded as they are.
  EXPECT_EQ(t.decode(t.encode("a\xFF", kNoBos)), "a\xFF");
}

TEST(Tokenizer, PiecesSpellSpacesAndHideControlTokens) {
  const Tokenizer t = tiny_tokenizer();
  EXPECT_EQ(t.piece(kSpaceHi), " Hi");
  EXPECT_EQ(t.piece(byte_token(0xC3)), "\xC3");
  EXPECT_EQ(t.piece(kBos), "");
  EXPECT_EQ(t.piece(kChannel), "<|channel>");  // user-defined: written out
  EXPECT_EQ(t.piece(-1), "");
  EXPECT_EQ(t.piece(t.size()), "");
}

TEST(Tokenizer, KnowsWhereGenerationEnds) {
  const Tokenizer t = tiny_tokenizer();
  EXPECT_TRUE(t.ends_generation(kEos));
  EXPECT_TRUE(t.ends_generation(kEndTurn));
  EXPECT_FALSE(t.ends_generation(kTurn));
  EXPECT_FALSE(t.ends_generation(kHi));
}

const Tokenizer* gemma4() { return load_vocab("ggml-vocab-gemma-4.gguf"); }

TEST(Gemma4Tokenizer, ReadsTheVocabularyKeys) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  EXPECT_EQ(t->algorithm(), Algorithm::gemma4_bpe);
  EXPECT_EQ(t->size(), 262144);
  EXPECT_EQ(t->bos(), 2);
  EXPECT_EQ(t->eos(), 1);
  EXPECT_TRUE(t->adds_bos());
  EXPECT_EQ(t->type(105), TokenType::control);
  EXPECT_EQ(t->text(105), "<|turn>");
  EXPECT_TRUE(t->ends_generation(*t->find("<turn|>")));
  EXPECT_NE(t->chat_template().find("<|turn>"), std::string::npos);
  EXPECT_EQ(t->encode("<|turn>user\nHello<turn|>", kNoBos), (Ids{105, *t->find("user"), 107, 9259, 106}));
}

// 100 KB of mixed text — prose, code, numbers, CJK, emoji, long lines and runs of newlines —
// encodes in well under a second on one core (the measured time is printed).
TEST(Gemma4Tokenizer, Encodes100KilobytesFast) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  const std::string sample =
      "The quick brown fox jumps over the lazy dog. int main() { return 42; }\n\n"
      "Ein Beispiel: \xC3\x84pfel und Birnen kosten 3,50 \xE2\x82\xAC. \xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8" "apple"
      "\xE5\xB7\xA5\xE4\xBD\x9C" "1314151\xE5\xA4\xA9 \xF0\x9F\x9A\x80\n"
      "    indented    line\twith\ttabs and a very long sentence that goes on and on without a break ";
  std::string text;
  while (text.size() < 100 * 1024) text += sample;
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = t->encode(text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("encoded %zu bytes into %zu tokens in %.1f ms\n", text.size(), ids.size(), seconds * 1e3);
  EXPECT_EQ(t->decode(ids), text);
  EXPECT_LT(seconds, kInstrumented ? 10.0 : 0.5);
}

}  // namespace
}  // namespace g4c::tokenizer
