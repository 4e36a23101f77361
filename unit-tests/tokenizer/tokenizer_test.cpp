// The Gemma 4 tokenizer's behaviour beyond llama.cpp's vectors: special tokens in text, BOS,
// byte fallback, end-of-generation tokens, pieces, and speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "vocab_files.h"

namespace g4c::tokenizer {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kInstrumented = true;  // sanitizer builds run several times slower
#elif defined(__has_feature)
constexpr bool kInstrumented = __has_feature(address_sanitizer);
#else
constexpr bool kInstrumented = false;
#endif

const Tokenizer* gemma4() { return testing::load_vocab("ggml-vocab-gemma-4.gguf"); }

int32_t id_of(const Tokenizer& t, std::string_view text) {
  auto id = t.find(text);
  EXPECT_TRUE(id.has_value()) << "no token " << text;
  return id.value_or(-1);
}

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
  EXPECT_NE(t->chat_template().find("<|turn>"), std::string::npos);
}

TEST(Gemma4Tokenizer, AddsBosWhenAsked) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  EXPECT_EQ(t->encode("Hello"), (std::vector<int32_t>{2, 9259}));
  EXPECT_EQ(t->encode("Hello", {.add_bos = false}), (std::vector<int32_t>{9259}));
  EXPECT_EQ(t->encode(""), (std::vector<int32_t>{2}));
}

TEST(Gemma4Tokenizer, MatchesSpecialTokensWholeAndNeverSplitsThem) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  const int32_t turn = id_of(*t, "<|turn>"), end_turn = id_of(*t, "<turn|>"), newline = id_of(*t, "\n");
  const std::vector<int32_t> ids = t->encode("<|turn>user\nHello<turn|>\n", {.add_bos = false});
  EXPECT_EQ(ids, (std::vector<int32_t>{turn, id_of(*t, "user"), newline, 9259, end_turn, newline}));
  // Written twice in a row, and next to text that could merge with their characters.
  EXPECT_EQ(t->encode("x<bos><bos>y", {.add_bos = false}),
            (std::vector<int32_t>{id_of(*t, "x"), 2, 2, id_of(*t, "y")}));
  // Without parse_special, control tokens are plain text; user-defined ones are still matched.
  const std::vector<int32_t> plain = t->encode("<bos>", {.add_bos = false, .parse_special = false});
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(t->decode(plain), "<bos>");
  EXPECT_EQ(t->encode("<|channel>", {.add_bos = false, .parse_special = false}),
            (std::vector<int32_t>{id_of(*t, "<|channel>")}));
}

TEST(Gemma4Tokenizer, FallsBackToBytesForTextNoTokenCovers) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  const std::string text = "\xEE\x80\x8B";  // U+E00B, a private-use character no token spells
  ASSERT_FALSE(t->find(text));
  const std::vector<int32_t> ids = t->encode(text, {.add_bos = false});
  EXPECT_EQ(ids, (std::vector<int32_t>{id_of(*t, "<0xEE>"), id_of(*t, "<0x80>"), id_of(*t, "<0x8B>")}));
  EXPECT_EQ(t->decode(ids), text);
  EXPECT_EQ(t->piece(id_of(*t, "<0xEE>")), "\xEE");
}

TEST(Gemma4Tokenizer, PiecesSpellSpacesAndHideControlTokens) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  EXPECT_EQ(t->piece(26352), " Hello");
  EXPECT_EQ(t->piece(2), "");
  EXPECT_EQ(t->piece(id_of(*t, "<|channel>")), "<|channel>");  // user-defined: written out
  EXPECT_EQ(t->piece(-1), "");
  EXPECT_EQ(t->piece(t->size()), "");
}

TEST(Gemma4Tokenizer, KnowsWhereGenerationEnds) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  EXPECT_TRUE(t->ends_generation(1));                       // <eos>
  EXPECT_TRUE(t->ends_generation(id_of(*t, "<turn|>")));   // end of turn
  EXPECT_FALSE(t->ends_generation(id_of(*t, "<|turn>")));
  EXPECT_FALSE(t->ends_generation(9259));
}

// 100 KB of mixed text — prose, code, numbers, CJK, emoji, long lines and runs of newlines —
// encodes in well under a second on one core (the measured time is printed).
TEST(Gemma4Tokenizer, Encodes100KilobytesFast) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  const std::string sample =
      "The quick brown fox jumps over the lazy dog. int main() { return 42; }\n\n"
      "Ein Beispiel: Äpfel und Birnen kosten 3,50 €. 我想在apple工作1314151天～ 🚀😶‍🌫️✅\n"
      "    indented    line\twith\ttabs and a very long sentence that goes on and on without a break ";
  std::string text;
  while (text.size() < 100 * 1024) text += sample;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = t->encode(text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("encoded %zu bytes into %zu tokens in %.1f ms\n", text.size(), ids.size(), seconds * 1e3);
  EXPECT_EQ(t->decode(ids), text);
  EXPECT_LT(seconds, kInstrumented ? 10.0 : 0.5);
}

}  // namespace
}  // namespace g4c::tokenizer
