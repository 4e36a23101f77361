// Diagnostics, command-line parsing and text helpers shared by every tool.
#include <gtest/gtest.h>

#include <sstream>

#include "g4c/support/checked_math.h"
#include "g4c/support/cli.h"
#include "g4c/support/diagnostics.h"
#include "g4c/support/text.h"

namespace g4c {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0);
  EXPECT_EQ(edit_distance("hidden", "hidden"), 0);
  EXPECT_EQ(edit_distance("hiden", "hidden"), 1);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("abc", ""), 3);
}

TEST(ClosestMatch, PrefersACaseOnlyDifferenceOverATypo) {
  std::vector<std::string> types = {"Q4_0", "Q4_K", "Q5_K"};
  EXPECT_EQ(closest_match("Q4_k", types), "Q4_K");
  EXPECT_EQ(closest_match("q4_0", types), "Q4_0");
}

TEST(ClosestMatch, RejectsWordsTooFarFromEveryCandidate) {
  std::vector<std::string> keys = {"hidden", "vocab", "layers"};
  EXPECT_EQ(closest_match("hiddn", keys), "hidden");
  EXPECT_EQ(closest_match("temperature", keys), std::nullopt);
  EXPECT_EQ(did_you_mean("temperature", keys), "");
  EXPECT_EQ(did_you_mean("vocb", keys), "; did you mean 'vocab'?");
}

TEST(FormatDouble, ShortestRoundTrip) {
  EXPECT_EQ(format_double(1e-6), "1e-06");
  EXPECT_EQ(format_double(30.0), "30");
  EXPECT_EQ(format_double(0.25), "0.25");
  double v = 61.96773353931867;
  EXPECT_EQ(std::stod(format_double(v)), v);
}

TEST(Split, KeepsEmptyItemsSoCallersCanRejectThem) {
  EXPECT_EQ(split("alias,buffer-plan", ','), (std::vector<std::string>{"alias", "buffer-plan"}));
  EXPECT_EQ(split("a,,b,", ','), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
}

TEST(ByteCountText, ExactCountThenTheLargestUnit) {
  EXPECT_EQ(byte_count_text(int64_t{1023}), "1023 bytes");
  EXPECT_EQ(byte_count_text(int64_t{1024}), "1024 bytes (1 KiB)");
  EXPECT_EQ(byte_count_text(int64_t{3} << 39), "1649267441664 bytes (1.5 TiB)");
  EXPECT_EQ(byte_count_text(std::optional<int64_t>{}), "more than 9223372036854775807 bytes (8 EiB)");
}

TEST(CheckedMath, ReportsOverflowInsteadOfWrapping) {
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(checked_mul(int64_t{1} << 32, int64_t{1} << 31), std::nullopt);
  EXPECT_EQ(checked_add(INT64_MAX - 1, 1), INT64_MAX);
  EXPECT_EQ(checked_add(INT64_MAX, 1), std::nullopt);
  EXPECT_EQ(checked_product({1 << 20, 1 << 20, 1 << 20}), int64_t{1} << 60);
  EXPECT_EQ(checked_product({1 << 20, 1 << 20, 1 << 20, 16}), std::nullopt);
}

TEST(KeyedMessage, LeavesOutEmptyHalves) {
  EXPECT_EQ(keyed_message("a.b", "bad", "1", "2"), "a.b: bad (got 1, expected 2)");
  EXPECT_EQ(keyed_message("a.b", "bad", "", "2"), "a.b: bad (expected 2)");
  EXPECT_EQ(keyed_message("a.b", "bad", "1", ""), "a.b: bad (got 1)");
  EXPECT_EQ(keyed_message("a.b", "bad"), "a.b: bad");
  EXPECT_EQ(keyed_message("", "bad"), "bad");
}

TEST(Diagnostics, PrintsFileLineColumnOrToolName) {
  DiagnosticEngine diag;
  auto file = std::make_shared<const std::string>("m.toml");
  diag.error({file, 3, 7}, "x: wrong");
  diag.note({}, "see the schema");
  std::ostringstream os;
  diag.print(os, "g4c");
  EXPECT_EQ(os.str(), "m.toml:3:7: error: x: wrong\ng4c: note: see the schema\n");
  EXPECT_EQ(diag.error_count(), 1);
}

const std::vector<OptionSpec> kOptions = {
    {"emit", true, false, "stage", ""},
    {"o", true, false, "file", ""},
    {"route", true, true, "rule", ""},
    {"verbose", false, false, "", ""},
};

std::optional<ParsedArgs> parse(std::vector<const char*> argv, std::string& error) {
  argv.insert(argv.begin(), "tool");
  return parse_args(static_cast<int>(argv.size()), argv.data(), 1, kOptions, error);
}

TEST(ParseArgs, AcceptsInlineAndSeparateValues) {
  std::string error;
  auto args = parse({"a.toml", "--emit=spec", "-o", "out", "--route", "x", "--route=y", "--verbose", "-"}, error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(args->positional, (std::vector<std::string>{"a.toml", "-"}));
  EXPECT_EQ(args->value("emit"), "spec");
  EXPECT_EQ(args->value("o"), "out");
  EXPECT_EQ(args->values.at("route"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(args->has("verbose"));
  EXPECT_FALSE(args->has("missing"));
}

TEST(ParseArgs, ReportsMistakesInOneLine) {
  std::string error;
  EXPECT_FALSE(parse({"--emitt=spec"}, error));
  EXPECT_EQ(error, "unknown option '--emitt'; did you mean '--emit'?");
  EXPECT_FALSE(parse({"--emit"}, error));
  EXPECT_EQ(error, "option '--emit' needs a value (stage)");
  EXPECT_FALSE(parse({"--emit=a", "--emit=b"}, error));
  EXPECT_EQ(error, "option '--emit' given more than once");
  EXPECT_FALSE(parse({"--verbose=1"}, error));
  EXPECT_EQ(error, "option '--verbose' takes no value");
}

TEST(ParseArgs, DoubleDashEndsOptions) {
  std::string error;
  auto args = parse({"--", "--emit"}, error);
  ASSERT_TRUE(args);
  EXPECT_EQ(args->positional, (std::vector<std::string>{"--emit"}));
}

}  // namespace
}  // namespace g4c
