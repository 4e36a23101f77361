// Small text helpers shared by every tool: spelling suggestions and deterministic number output.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace g4c {

// Levenshtein distance, for did-you-mean suggestions.
int edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo
// (distance at most a third of the word's length, rounded up, and at least 1).
std::optional<std::string> closest_match(std::string_view word, std::span<const std::string> candidates);

// ` (did you mean 'x'?)` or empty.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

// Shortest text that reads back as the same double (std::to_chars): deterministic on every machine.
std::string format_double(double v);

// Number text that reads as a float, never as an integer: "3840" becomes "3840.0" (TOML output,
// and messages about a float where an integer belongs).
std::string float_text(std::string number);

// Quoted the way the diagnostics quote user text: "value".
std::string quote(std::string_view s);

// `a, b, c`
std::string join(std::span<const std::string> items, std::string_view sep = ", ");

// "a,,b" split at ',' → {"a", "", "b"}; "" → {""}.
std::vector<std::string> split(std::string_view s, char sep);

// "5497558138880 bytes (5 TiB)": the exact count, then the size in the largest binary unit it
// reaches, to one decimal when that is not whole. Counts below 1 KiB are just "N bytes".
std::string byte_count_text(int64_t bytes);
// The same, or "more than 9223372036854775807 bytes (8 EiB)" for a count that overflowed int64.
std::string byte_count_text(std::optional<int64_t> bytes);

// "1 sequence", "4 sequences".
std::string count_text(int64_t n, std::string_view noun);

// Parses a decimal integer that must use the whole string.
std::optional<int64_t> parse_int(std::string_view s);

}  // namespace g4c
