// Streamed decoding: whole characters only, stop strings held back until they are decided.
#include "g4c/runtime/tokenizer/text_stream.h"

#include <gtest/gtest.h>

#include "tiny_vocab.h"

namespace g4c::tokenizer {
namespace {

using namespace testing;

// The text of each push of `ids`, joined by |.
std::string pushes(TextStream& s, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += s.push(id) + "|";
  return out;
}

TEST(TextStream, HoldsACharacterUntilItsLastByte) {
  const Tokenizer t = tiny_tokenizer();
  TextStream s(t);
  EXPECT_EQ(pushes(s, {kA, byte_token(0xC3), byte_token(0xA9), kB}), "a||\xC3\xA9|b|");
  EXPECT_EQ(s.finish(), "");
}

TEST(TextStream, RepairsBytesThatFormNoCharacter) {
  const Tokenizer t = tiny_tokenizer();
  TextStream s(t);
  EXPECT_EQ(pushes(s, {byte_token(0xFF), kA, byte_token(0xC3)}), "\xEF\xBF\xBD|a||");
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");  // a character cut off at the end
}

TEST(TextStream, StopsAtAStopStringAndDropsIt) {
  const Tokenizer t = tiny_tokenizer();
  TextStream s(t, {"ab\n"});
  EXPECT_EQ(pushes(s, {kHi, kA, kB, kNewline, kHi}), "Hi|||||");  // "a", "ab" wait; "ab\n" stops
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.finish(), "");
}

TEST(TextStream, ReleasesTextThatTurnsOutNotToBeAStopString) {
  const Tokenizer t = tiny_tokenizer();
  TextStream s(t, {"ab\n", "Hi!"});
  // "a" and "ab" might begin "ab\n"; "aba" might too from its last "a"; "Hi" might begin "Hi!".
  EXPECT_EQ(pushes(s, {kA, kB, kA, kHi}), "||ab|a|");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.finish(), "Hi");
}

TEST(TextStream, ControlTokensAddNothing) {
  const Tokenizer t = tiny_tokenizer();
  TextStream s(t);
  EXPECT_EQ(pushes(s, {kEos, kHi, kTurn}), "|Hi||");
}

}  // namespace
}  // namespace g4c::tokenizer
