// Streamed decoding: whole characters only, stop strings held back until they are decided.
#include "g4c/runtime/tokenizer/text_stream.h"

#include <gtest/gtest.h>

#include "vocab_files.h"

namespace g4c::tokenizer {
namespace {

const Tokenizer* gemma4() { return testing::load_vocab("ggml-vocab-gemma-4.gguf"); }

// Pushes the encoding of `text` token by token; returns what came out of each push, joined by |.
std::string stream(TextStream& s, const Tokenizer& t, const std::string& text) {
  std::string out;
  for (int32_t id : t.encode(text, {.add_bos = false})) out += s.push(id) + "|";
  return out;
}

TEST(TextStream, HoldsACharacterUntilItsLastByte) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  TextStream s(*t);
  const std::string text = "\xEE\x80\x8B";  // U+E00B: three byte tokens
  EXPECT_EQ(stream(s, *t, text), "||" + text + "|");
  EXPECT_EQ(s.finish(), "");
}

TEST(TextStream, RepairsABrokenCharacterAtTheEnd) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  TextStream s(*t);
  EXPECT_EQ(s.push(*t->find("<0xEE>")), "");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
}

TEST(TextStream, StopsAtAStopStringAndDropsIt) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  TextStream s(*t, {"world!"});
  std::string out;
  for (int32_t id : t->encode("Hello, world! Bye", {.add_bos = false})) out += s.push(id);
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(out + s.finish(), "Hello, ");
}

TEST(TextStream, ReleasesTextThatTurnsOutNotToBeAStopString) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  TextStream s(*t, {"Hello there"});
  std::string out;
  for (int32_t id : t->encode("Hello world", {.add_bos = false})) out += s.push(id);
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(out + s.finish(), "Hello world");
}

TEST(TextStream, ControlTokensAddNothing) {
  const Tokenizer* t = gemma4();
  if (!t) return;
  TextStream s(*t);
  EXPECT_EQ(s.push(*t->eos()), "");
  EXPECT_EQ(s.push(9259), "Hello");
}

}  // namespace
}  // namespace g4c::tokenizer
