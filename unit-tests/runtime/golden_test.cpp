// The reference model and the plan interpreter against logits computed by Hugging Face
// transformers' own Gemma 4 (unit-tests/data/golden/README.md says how they were made).
#include <gtest/gtest.h>

#include "g4c/support/config.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

// transformers runs RMSNorm and RoPE angles in float32 even in a float64 model.
constexpr double kGoldenTolerance = 1e-3;  // absolute, on logits up to ~10 (measured: ≤ 2.3e-4)

struct Golden {
  std::vector<int32_t> prompt;
  std::vector<std::vector<double>> logits;  // [position][vocab]
};

Golden load_golden(const std::string& path) {
  DiagnosticEngine diag;
  auto root = load_config_file(path, diag);
  EXPECT_TRUE(root) << path;
  Golden g;
  const ConfigNode* golden = root->find("golden");
  for (const ConfigNode& t : golden->find("prompt")->items) g.prompt.push_back(static_cast<int32_t>(t.int_value));
  for (const ConfigNode& pos : root->find("position")->items) {
    g.logits.emplace_back();
    for (const ConfigNode& v : pos.find("logits")->items)
      g.logits.back().push_back(v.kind == ConfigNode::Kind::floating ? v.float_value : static_cast<double>(v.int_value));
  }
  return g;
}

class GoldenLogits : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenLogits, ReferenceAndInterpreterMatchTransformers) {
  std::string dir = std::string(G4C_SOURCE_DIR) + "/unit-tests/data/golden/";
  std::string name = GetParam();
  Golden golden = load_golden(dir + name + ".golden.toml");
  DiagnosticEngine diag;
  auto spec = load_model_spec(dir + name + ".toml", diag);
  ASSERT_TRUE(spec);
  plan::Plan plan = testing::compile_spec(*spec, {1, 2});
  auto weights = load_weights(plan, dir + name + ".gguf", diag);
  ASSERT_TRUE(weights) << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);

  auto ref = testing::run_reference(*spec, *weights, {golden.prompt})[0];
  auto got = testing::run_interpreter(plan, *weights, {golden.prompt})[0];
  ASSERT_EQ(ref.size(), golden.logits.size());
  ASSERT_EQ(got.size(), golden.logits.size());
  double worst_ref = 0, worst_interp = 0;
  for (size_t p = 0; p < golden.logits.size(); ++p) {
    const testing::Deviation d_ref = testing::deviation(ref[p], golden.logits[p]);
    const testing::Deviation d_interp = testing::deviation(got[p], golden.logits[p]);
    EXPECT_TRUE(d_ref.comparable()) << "reference, position " << p << ": " << d_ref.describe();
    EXPECT_TRUE(d_interp.comparable()) << "interpreter, position " << p << ": " << d_interp.describe();
    worst_ref = std::max(worst_ref, d_ref.absolute());
    worst_interp = std::max(worst_interp, d_interp.absolute());
    EXPECT_EQ(testing::argmax(ref[p]), testing::argmax(golden.logits[p])) << "position " << p;
    EXPECT_EQ(testing::argmax(got[p]), testing::argmax(golden.logits[p])) << "position " << p;
  }
  std::cout << "  " << name << ": max |reference - transformers| " << worst_ref
            << ", max |interpreter - transformers| " << worst_interp << "\n";
  testing::record_bound_ratio(worst_interp, kGoldenTolerance);
  EXPECT_LE(worst_ref, kGoldenTolerance);
  EXPECT_LE(worst_interp, kGoldenTolerance);
}

INSTANTIATE_TEST_SUITE_P(Transformers, GoldenLogits, ::testing::Values("pairing-12b-tiny", "ple-shared-kv-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace g4c
