// The plan interpreter (CPU backend) against the reference model on every synthetic model, with
// sequences of different prompt lengths decoded past every ring's wrap; batched runs equal
// single-sequence runs bit for bit; bad rows are refused with a message.
#include <gtest/gtest.h>

#include "runtime_helpers.h"

namespace g4c {
namespace {

using testing::LogitTrace;

// float32 interpreter vs float64 reference: max |Δ| / max |ref| per position.
constexpr double kInterpreterTolerance = 1e-4;

struct ReferenceCase {
  std::string model;
  int64_t prefill_chunk = 1;  // > 1: rings of window + chunk − 1 slots
};

class InterpreterVsReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(InterpreterVsReference, MatchesWithinFloat32Rounding) {
  const std::string model = GetParam().model;
  ModelSpec spec = testing::load_shipped(model);
  plan::Plan plan = testing::compile_shipped(model, {1, 2, 4}, {}, 0, GetParam().prefill_chunk);
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 5, structural_tensors(plan));
  // Three sequences, prompt lengths 3, 7 and 12 plus 24 more positions: every ring (window ≤ 8) wraps.
  auto tokens = testing::token_sequences({3 + 24, 7 + 24, 12 + 24}, spec.vocab);
  LogitTrace ref = testing::run_reference(spec, weights, tokens);
  LogitTrace got = testing::run_interpreter(plan, weights, tokens);
  testing::WorstDeviation worst;
  for (size_t s = 0; s < tokens.size(); ++s) {
    ASSERT_EQ(got[s].size(), ref[s].size());
    for (size_t p = 0; p < ref[s].size(); ++p)
      worst.add(testing::deviation(got[s][p], ref[s][p]), "sequence " + std::to_string(s) + " position " + std::to_string(p));
  }
  worst.expect_within(kInterpreterTolerance, model);
  std::cout << "  " << model << " (prefill chunk " << GetParam().prefill_chunk << "): max relative error "
            << worst.relative << "\n";
}

std::vector<ReferenceCase> reference_cases() {
  std::vector<ReferenceCase> cases;
  for (const char* model : {"all-global-keqv", "mixed-v-keqv", "pairing-12b-tiny", "ple-shared-kv-tiny", "quant-f32",
                            "quant-f16", "quant-bf16", "quant-q8_0", "quant-q4_0", "quant-q4_k", "quant-q5_k",
                            "quant-q6_k"})
    cases.push_back({"synthetic/" + std::string(model) + ".toml"});
  // Chunked-prefill plans: rings hold more slots than the window, so a ring indexed by its size
  // instead of the window reads keys the reference does not.
  for (const char* model : {"pairing-12b-tiny", "ple-shared-kv-tiny", "quant-q4_k"})
    cases.push_back({"synthetic/" + std::string(model) + ".toml", 3});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(SyntheticModels, InterpreterVsReference, ::testing::ValuesIn(reference_cases()),
                         [](const auto& info) {
                           std::string name = info.param.model.substr(info.param.model.find('/') + 1);
                           name = name.substr(0, name.find('.'));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           if (info.param.prefill_chunk > 1) name += "_chunk" + std::to_string(info.param.prefill_chunk);
                           return name;
                         });

// A row's arithmetic never depends on the other rows: N sequences batched give exactly the logits
// of N runs alone, whatever width serves the step.
TEST(Interpreter, BatchedEqualsSingleSequenceRunsExactly) {
  for (const char* model : {"synthetic/pairing-12b-tiny.toml", "synthetic/ple-shared-kv-tiny.toml",
                            "synthetic/quant-q4_k.toml"}) {
    plan::Plan plan = testing::compile_shipped(model, {1, 2, 4, 8});
    WeightSet weights = random_weights(plan_tensor_shapes(plan), 9, structural_tensors(plan));
    auto tokens = testing::token_sequences({5, 9, 14, 20, 11}, plan.header.vocab, 3);
    LogitTrace batched = testing::run_interpreter(plan, weights, tokens);
    for (size_t s = 0; s < tokens.size(); ++s) {
      LogitTrace alone = testing::run_interpreter(plan, weights, {tokens[s]});
      ASSERT_EQ(alone[0], batched[s]) << model << " sequence " << s;
    }
  }
}

// The arena is laid out per width; running a step at a larger compiled width than the rows need
// (padding rows) must not change any result.
TEST(Interpreter, PaddingRowsChangeNothing) {
  plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {8});
  plan::Plan tight = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 2, 3});
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 4, structural_tensors(plan));
  auto tokens = testing::token_sequences({6, 10, 3}, plan.header.vocab);
  EXPECT_EQ(testing::run_interpreter(plan, weights, tokens), testing::run_interpreter(tight, weights, tokens));
}

// F16 caches round K and V as the reference does; where the float32 and float64 values straddle an
// fp16 rounding boundary the stored element differs by one fp16 ulp (2^-11 relative), which the
// layers amplify to a few 1e-3 on the logits: the bound is 5e-3, and the argmax must agree.
TEST(Interpreter, HalfPrecisionCachesMatchTheReference) {
  DiagnosticEngine diag;
  auto spec = load_model_spec_from_string("extends = \"" + std::string(G4C_SOURCE_DIR) +
                                              "/models/synthetic/pairing-12b-tiny.toml\"\n[attention]\nkv_dtype = \"F16\"\n",
                                          "f16-kv.toml", diag);
  ASSERT_TRUE(spec);
  plan::Plan plan = testing::compile_spec(*spec, {1, 4});
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 5, structural_tensors(plan));
  auto tokens = testing::token_sequences({20, 13}, spec->vocab);
  LogitTrace ref = testing::run_reference(*spec, weights, tokens);
  LogitTrace got = testing::run_interpreter(plan, weights, tokens);
  testing::WorstDeviation worst;
  for (size_t s = 0; s < tokens.size(); ++s) {
    ASSERT_EQ(got[s].size(), ref[s].size());
    for (size_t p = 0; p < ref[s].size(); ++p) {
      worst.add(testing::deviation(got[s][p], ref[s][p]), "sequence " + std::to_string(s) + " position " + std::to_string(p));
      EXPECT_EQ(testing::argmax(got[s][p]), testing::argmax(ref[s][p])) << s << " " << p;
    }
  }
  worst.expect_within(5e-3, "F16 caches");
}

TEST(Interpreter, RefusesRowsOutsideThePlan) {
  plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 2});
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 1, structural_tensors(plan));
  DiagnosticEngine diag;
  auto interp = Interpreter::create(plan, weights, 2, diag);
  ASSERT_TRUE(interp);
  auto refuse = [&](std::vector<int32_t> tok, std::vector<int32_t> pos, std::vector<int32_t> seq) {
    DiagnosticEngine d;
    EXPECT_FALSE(interp->step({tok, pos, seq}, d));
    return d.diagnostics().empty() ? std::string() : d.diagnostics()[0].message;
  };
  EXPECT_EQ(refuse({256}, {0}, {0}), "token id 256 is outside the vocabulary (0..255)");
  EXPECT_EQ(refuse({1}, {256}, {0}), "position 256 is past the plan's context (256 positions)");
  EXPECT_EQ(refuse({1}, {0}, {2}), "sequence slot 2 is outside 0..1");
  EXPECT_EQ(refuse({1, 2, 3}, {0, 0, 0}, {0, 1, 1}), "a step of 3 rows: the plan serves 1..2 rows");
}

TEST(Interpreter, RefusesWeightsThatDisagreeWithThePlan) {
  plan::Plan plan = testing::compile_shipped("synthetic/quant-f32.toml", {1});
  plan::Plan other = testing::compile_shipped("synthetic/quant-q8_0.toml", {1});
  WeightSet weights = random_weights(plan_tensor_shapes(other), 1);
  DiagnosticEngine diag;
  EXPECT_FALSE(Interpreter::create(plan, weights, 1, diag));
  ASSERT_EQ(diag.error_count(), 1);
  EXPECT_EQ(diag.diagnostics()[0].message,
            "tensor token_embd.weight is F32 [256, 512] in the plan but Q8_0 [256, 512] in \"random:seed=1\"");
}

}  // namespace
}  // namespace g4c
