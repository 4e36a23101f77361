// `--emit=spec`: deterministic, FileCheck-safe, and its totals add up.
#include <gtest/gtest.h>

#include <sstream>

#include "g4c/spec/describe.h"
#include "g4c/spec/load.h"

namespace g4c {
namespace {

std::string describe(const std::string& model) {
  DiagnosticEngine diag;
  auto spec = load_model_spec(std::string(G4C_SOURCE_DIR) + "/models/" + model, diag);
  EXPECT_TRUE(spec);
  if (!spec) return {};
  std::ostringstream os;
  describe_model(*spec, KvFootprint{}, os);  // the caches' bytes come from a compiled plan (compiler tests)
  return os.str();
}

TEST(Describe, IsByteIdenticalAcrossLoads) {
  for (const char* model : {"gemma4-12b.toml", "gemma4-e4b.toml", "synthetic/ple-shared-kv-tiny.toml"}) {
    std::string a = describe(model);
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, describe(model)) << model;
  }
}

TEST(Describe, HasALinePerLayerAndNoFileCheckMetacharacters) {
  std::string text = describe("gemma4-e2b.toml");
  for (int i = 0; i < 35; ++i)
    EXPECT_NE(text.find("\nlayer " + std::to_string(i) + " {"), std::string::npos) << i;
  EXPECT_EQ(text.find("{{"), std::string::npos);
  EXPECT_EQ(text.find("[["), std::string::npos);
}

TEST(Describe, ClassTotalsSumToModelTotals) {
  DiagnosticEngine diag;
  auto spec = load_model_spec(std::string(G4C_SOURCE_DIR) + "/models/gemma4-e4b.toml", diag);
  ASSERT_TRUE(spec);
  ModelTotals totals = compute_totals(*spec);
  int64_t params = 0, bytes = 0;
  for (const auto& [cls, c] : totals.classes) {
    params += c.parameters;
    bytes += c.bytes;
  }
  EXPECT_EQ(params, totals.parameters);
  EXPECT_EQ(bytes, totals.weight_bytes);
}

}  // namespace
}  // namespace g4c
