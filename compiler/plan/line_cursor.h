// The plan parser's view of one line of text: a cursor that reads words, names, numbers, strings
// and punctuation with the column of each, and the `{k = v, ...}` field lists built on it. Every
// failure throws ParseError with the column it happened at, which the parser turns into a
// `file:line:col: error:` diagnostic. Private to compiler/plan/parser.cpp.
#pragma once

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "g4c/support/text.h"

namespace g4c::plan::parsing {

struct ParseError {
  int col;
  std::string message;
};

inline std::string range_text(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max()) return "at least " + std::to_string(min);
  return std::to_string(min) + ".." + std::to_string(max);
}

inline bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }
inline bool is_name_char(char c) { return is_word_char(c); }

// A cursor over one line. Every failure throws ParseError with the column it happened at.
class Cursor {
 public:
  explicit Cursor(std::string_view line) : line_(line) {}

  [[noreturn]] void fail(std::string message) const { throw ParseError{static_cast<int>(pos_) + 1, std::move(message)}; }
  [[noreturn]] void fail_at(size_t pos, std::string message) const { throw ParseError{static_cast<int>(pos) + 1, std::move(message)}; }

  void skip_spaces() {
    while (pos_ < line_.size() && line_[pos_] == ' ') ++pos_;
  }
  bool at_end() {
    skip_spaces();
    return pos_ >= line_.size();
  }
  size_t pos() {  // where the next token starts
    skip_spaces();
    return pos_;
  }
  // The next word must be `keyword`; fails at the word's start otherwise.
  void keyword(std::string_view keyword, std::string message) {
    size_t at = pos();
    if (word() != keyword) fail_at(at, std::move(message));
  }
  char peek() {
    skip_spaces();
    return pos_ < line_.size() ? line_[pos_] : '\0';
  }
  bool eat(std::string_view token) {
    skip_spaces();
    if (line_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  void expect(std::string_view token) {
    if (!eat(token)) fail("expected '" + std::string(token) + "'" + found());
  }
  void expect_end() {
    if (!at_end()) fail("unexpected text at the end of the line" + found());
  }
  std::string found() {
    skip_spaces();
    if (pos_ >= line_.size()) return " (got end of line)";
    size_t end = pos_ + 1;
    while (end < line_.size() && is_word_char(line_[end]) && is_word_char(line_[pos_])) ++end;
    return " (got '" + std::string(line_.substr(pos_, end - pos_)) + "')";
  }

  // The word at the cursor, without moving past it; empty when none starts there.
  std::string_view next_word() {
    skip_spaces();
    size_t end = pos_;
    while (end < line_.size() && is_word_char(line_[end])) ++end;
    return line_.substr(pos_, end - pos_);
  }
  std::string word() {
    skip_spaces();
    size_t start = pos_;
    while (pos_ < line_.size() && is_word_char(line_[pos_])) ++pos_;
    if (start == pos_) fail("expected a word" + found());
    return std::string(line_.substr(start, pos_ - start));
  }
  std::string name(char sigil, std::string_view what) {
    skip_spaces();
    if (pos_ >= line_.size() || line_[pos_] != sigil) fail("expected " + std::string(what) + found());
    size_t start = ++pos_;
    while (pos_ < line_.size() && is_name_char(line_[pos_])) ++pos_;
    if (start == pos_) fail("expected a name after '" + std::string(1, sigil) + "'");
    return std::string(line_.substr(start, pos_ - start));
  }
  int64_t integer() {
    skip_spaces();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(line_.data() + pos_, line_.data() + line_.size(), v);
    if (ec == std::errc::result_out_of_range) fail("integer out of range" + found());
    if (ec != std::errc()) fail("expected an integer" + found());
    const size_t end = ptr - line_.data();
    // `4.5` or `1e3` is a number where an integer belongs: say so, not "expected ','".
    const auto digit_at = [&](size_t i) { return i < line_.size() && std::isdigit(static_cast<unsigned char>(line_[i])); };
    const bool fraction = end < line_.size() && line_[end] == '.' && digit_at(end + 1);
    const bool exponent = end < line_.size() && (line_[end] == 'e' || line_[end] == 'E') &&
                          (digit_at(end + 1) || (end + 1 < line_.size() && (line_[end + 1] == '-' || line_[end + 1] == '+')));
    if (fraction || exponent) {
      size_t stop = end;
      while (stop < line_.size() && is_word_char(line_[stop])) ++stop;
      fail("expected an integer (got '" + std::string(line_.substr(pos_, stop - pos_)) + "')");
    }
    pos_ = end;
    return v;
  }
  // An integer in min..max; `what` names it in the error.
  int64_t integer_in(int64_t min, int64_t max, std::string_view what) {
    size_t at = pos();
    int64_t v = integer();
    if (v < min || v > max)
      fail_at(at, std::string(what) + " must be " + range_text(min, max) + " (got " + std::to_string(v) + ")");
    return v;
  }
  double number() {
    skip_spaces();
    size_t start = pos_;
    while (pos_ < line_.size() && (std::isalnum(static_cast<unsigned char>(line_[pos_])) || line_[pos_] == '.' ||
                                   line_[pos_] == '-' || line_[pos_] == '+'))
      ++pos_;
    std::string text(line_.substr(start, pos_ - start));
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
      fail_at(start, "expected a number (got '" + text + "')");
    return v;
  }
  std::string string() {
    skip_spaces();
    if (peek() != '"') fail("expected a quoted string" + found());
    ++pos_;
    std::string out;
    while (pos_ < line_.size() && line_[pos_] != '"') {
      if (line_[pos_] == '\\' && pos_ + 1 < line_.size()) {
        ++pos_;
        out += line_[pos_] == 'n' ? '\n' : line_[pos_];
      } else {
        out += line_[pos_];
      }
      ++pos_;
    }
    if (pos_ >= line_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }
  bool boolean() {
    size_t start = pos_;
    std::string w = word();
    if (w == "true") return true;
    if (w == "false") return false;
    fail_at(start, "expected true or false (got '" + w + "')");
  }
  std::vector<int64_t> int_list(int64_t min = std::numeric_limits<int64_t>::min(),
                                int64_t max = std::numeric_limits<int64_t>::max(), std::string_view what = {}) {
    expect("[");
    std::vector<int64_t> out;
    if (eat("]")) return out;
    do out.push_back(integer_in(min, max, what));
    while (eat(","));
    expect("]");
    return out;
  }
  // The text up to `stop` (not included), without surrounding spaces.
  std::string until(char stop) {
    skip_spaces();
    size_t start = pos_;
    while (pos_ < line_.size() && line_[pos_] != stop) ++pos_;
    if (pos_ >= line_.size()) fail("expected '" + std::string(1, stop) + "'");
    size_t end = pos_;
    while (end > start && line_[end - 1] == ' ') --end;
    return std::string(line_.substr(start, end - start));
  }
  // The key of the next field (after its comma when `after_comma`), without moving past it; empty
  // when none follows.
  std::string_view peek_key(bool after_comma) {
    skip_spaces();
    size_t at = pos_;
    if (after_comma) {
      if (at >= line_.size() || line_[at] != ',') return {};
      ++at;
      while (at < line_.size() && line_[at] == ' ') ++at;
    }
    size_t end = at;
    while (end < line_.size() && is_word_char(line_[end])) ++end;
    return line_.substr(at, end - at);
  }
  // `key = ` with the key the fixed order requires next.
  void key(std::string_view expected) {
    skip_spaces();
    size_t start = pos_;
    std::string k = pos_ < line_.size() && is_word_char(line_[pos_]) ? word() : std::string();
    if (k != expected) fail_at(start, "expected attribute '" + std::string(expected) + "'" + (k.empty() ? found() : " (got '" + k + "')"));
    expect("=");
  }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

// `{k1 = v1, k2 = v2, ...}` with the keys in their fixed order: `fields.key("k1").integer()`.
class Fields {
 public:
  explicit Fields(Cursor& c) : c_(c) { c_.expect("{"); }
  Cursor& key(std::string_view k) {
    if (count_++) c_.expect(",");
    c_.key(k);
    return c_;
  }
  // Whether the next field is `k`: for fields printed only when they say something.
  bool next_is(std::string_view k) { return c_.peek_key(count_ > 0) == k; }
  void close() { c_.expect("}"); }

 private:
  Cursor& c_;
  int count_ = 0;
};

}  // namespace g4c::plan::parsing
