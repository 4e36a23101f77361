#include "g4c/runtime/tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace g4c::tokenizer {
namespace {

TEST(Utf8, FindsTheFirstByteThatIsNotWellFormed) {
  EXPECT_EQ(first_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("\xC3\xA4pfel \xF0\x9F\x9A\x80"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(first_invalid_utf8("ab\xC3"), 2u);              // cut short
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0u);            // overlong '/'
  EXPECT_EQ(first_invalid_utf8("x\xED\xA0\x80"), 1u);       // a surrogate
  EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0u);    // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xE2\x82"), 0u);
}

TEST(Utf8, MeasuresAnUnfinishedCharacterAtTheEnd) {
  EXPECT_EQ(incomplete_utf8_tail(""), 0u);
  EXPECT_EQ(incomplete_utf8_tail("abc"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F\x9A"), 3u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F\x9A\x80"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xC3"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("a\xFF"), 0u);  // no character starts with 0xFF: nothing to wait for
}

TEST(Utf8, RepairsBytesThatFormNoCharacter) {
  EXPECT_EQ(repair_utf8("ok \xC3\xA4"), "ok \xC3\xA4");
  EXPECT_EQ(repair_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(repair_utf8("\xF0\x9F"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8, StripsWhatPythonCallsWhitespace) {
  EXPECT_EQ(strip_python_whitespace("  \t\nHello world\r\n "), "Hello world");
  // NO-BREAK SPACE, IDEOGRAPHIC SPACE, NEXT LINE and the information separators are whitespace to
  // Python; ZERO WIDTH SPACE is not.
  EXPECT_EQ(strip_python_whitespace("\xC2\xA0\xE3\x80\x80x\xC2\x85\x1F"), "x");
  EXPECT_EQ(strip_python_whitespace("\xE2\x80\x8Bx"), "\xE2\x80\x8Bx");
  EXPECT_EQ(strip_python_whitespace("   "), "");
  EXPECT_EQ(strip_python_whitespace("x\xFF "), "x\xFF");
}

}  // namespace
}  // namespace g4c::tokenizer
