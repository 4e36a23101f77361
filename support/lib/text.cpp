#include "g4c/support/text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <charconv>
#include <limits>

namespace g4c {

int edit_distance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

static std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> closest_match(std::string_view word, std::span<const std::string> candidates) {
  // Scores are doubled edit distances; a candidate that differs only in case scores 1, below
  // any one-letter typo, so `Q4_k` finds `Q4_K` rather than `Q4_0`.
  int limit = 2 * std::max<int>(1, static_cast<int>((word.size() + 2) / 3));
  int best = std::numeric_limits<int>::max();
  std::optional<std::string> match;
  std::string lower_word = lowercase(word);
  for (const std::string& c : candidates) {
    // The distance is at least the difference in length: a far longer word (a hostile key of
    // megabytes) is no typo of any candidate, and is not compared letter by letter.
    const size_t gap = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (2 * gap > static_cast<size_t>(limit)) continue;
    int score = std::min(2 * edit_distance(word, c), 2 * edit_distance(lower_word, lowercase(c)) + 1);
    if (score < best) {
      best = score;
      match = c;
    }
  }
  if (best > limit) return std::nullopt;
  return match;
}

std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  auto m = closest_match(word, candidates);
  if (!m) return {};
  return "; did you mean '" + *m + "'?";
}

std::string format_double(double v) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string float_text(std::string number) {
  if (number.find_first_of(".eEn") == std::string::npos) number += ".0";
  return number;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (size_t start = 0, end = 0; end != std::string_view::npos; start = end + 1) {
    end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
  }
  return out;
}

std::string join(std::span<const std::string> items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string byte_count_text(int64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::string text = std::to_string(bytes) + " bytes";
  int unit = -1;
  double size = static_cast<double>(bytes);
  while (unit + 1 < 6 && size >= 1024) {
    size /= 1024;
    ++unit;
  }
  if (unit < 0) return text;
  char scaled[32];
  std::snprintf(scaled, sizeof scaled, size == static_cast<int64_t>(size) ? "%.0f" : "%.1f", size);
  return text + " (" + scaled + " " + kUnits[unit] + ")";
}

std::string byte_count_text(std::optional<int64_t> bytes) {
  return bytes ? byte_count_text(*bytes) : "more than " + byte_count_text(std::numeric_limits<int64_t>::max());
}

std::string count_text(int64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace g4c
