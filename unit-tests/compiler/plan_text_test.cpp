// The plan's text form: print → parse → print is byte-identical for every shipped model, the
// verifier accepts what the compiler emits, and no truncation or corruption of a plan crashes
// the parser or the verifier.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "compile_helpers.h"
#include "g4c/plan/parser.h"
#include "g4c/plan/verifier.h"

namespace g4c {
namespace {

using namespace plan;
using testing::compile_shipped;
using testing::print;

// The op facts the schema states as flags agree with the attributes that carry them: every
// norm has an eps, every RoPE a theta, and nothing else has either.
TEST(OpSchemaFlags, MatchTheAttributesTheyName) {
  for (int k = 0; k < kOpKindCount; ++k) {
    const OpSchema& s = schema(static_cast<OpKind>(k));
    const auto has = [&](std::string_view key) {
      return std::any_of(s.attrs.begin(), s.attrs.end(), [&](const AttrSchema& a) { return a.key == key; });
    };
    EXPECT_EQ(s.normalizes, has("eps")) << s.name;
    EXPECT_EQ(s.rotates, has("theta")) << s.name;
  }
}

TEST(PlanText, RoundTripsEveryShippedModel) {
  for (const std::string& model : testing::shipped_models()) {
    std::string text = print(compile_shipped(model));
    DiagnosticEngine diag;
    auto parsed = parse_plan(text, model, diag);
    ASSERT_TRUE(parsed) << model << ": " << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
    EXPECT_TRUE(verify_plan(*parsed, diag)) << model << ": " << diag.diagnostics().at(0).message;
    EXPECT_EQ(print(*parsed), text) << model;
  }
}

TEST(PlanText, CompilingTwiceGivesTheSameBytes) {
  EXPECT_EQ(print(compile_shipped("gemma4-e4b.toml")), print(compile_shipped("gemma4-e4b.toml")));
}

TEST(PlanText, NoFileCheckMetacharacters) {
  std::string text = print(compile_shipped("gemma4-12b.toml"));
  EXPECT_EQ(text.find("{{"), std::string::npos);
  EXPECT_EQ(text.find("[["), std::string::npos);
}

// Every prefix of a valid plan either parses and verifies or reports an error; none crashes.
TEST(PlanText, TruncatedPlansFailCleanly) {
  std::string text = print(compile_shipped("synthetic/mixed-v-keqv.toml", {1, 8}));
  int rejected = 0;
  for (size_t cut = 0; cut < text.size(); cut += 7) {
    DiagnosticEngine diag;
    auto parsed = parse_plan(text.substr(0, cut), "cut.plan", diag);
    bool ok = parsed && verify_plan(*parsed, diag);
    rejected += !ok;
    if (!ok) {
      EXPECT_EQ(diag.error_count(), 1) << "cut at " << cut;
    }
  }
  EXPECT_GT(rejected, 0);
}

// Single-character corruptions: the parser and verifier report or accept, never crash.
TEST(PlanText, CorruptedPlansFailCleanly) {
  std::string text = print(compile_shipped("synthetic/ple-shared-kv-tiny.toml", {1, 8}));
  std::mt19937 rng(1234);
  const std::string alphabet = "%@{}[]=:,.0123456789-N xz\"";
  int rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string broken = text;
    size_t at = std::uniform_int_distribution<size_t>(0, broken.size() - 1)(rng);
    broken[at] = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    DiagnosticEngine diag;
    auto parsed = parse_plan(broken, "broken.plan", diag);
    bool ok = parsed && verify_plan(*parsed, diag);
    rejected += !ok;
  }
  EXPECT_GT(rejected, 200);
}

}  // namespace
}  // namespace g4c
