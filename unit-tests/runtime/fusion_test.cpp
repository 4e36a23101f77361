// Fused plans on the CPU backend: the interpreter runs add_rms_norm and rms_norm_rope by composing
// the CPU ops of the pairs they replace, so a fused plan's logits equal the unfused plan's bit for
// bit, on every synthetic model (k_eq_v layers, shared-KV and PLE layers, rings that wrap, every
// weight type) and for each fusion alone. The fused CPU ops equal their composition when they
// write over an input, as fused plans run them.
#include <gtest/gtest.h>

#include "g4c/runtime/cpu_ops.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

using testing::LogitTrace;

struct Case {
  std::string model;
  std::vector<std::string> fusions;
};

class FusedPlan : public ::testing::TestWithParam<Case> {};

TEST_P(FusedPlan, GivesTheUnfusedLogitsBitForBit) {
  const Case& c = GetParam();
  plan::Plan unfused = testing::compile_shipped(c.model, {1, 2, 4}, {}, 0, 1, FusionOptions::none());
  plan::Plan fused = testing::compile_shipped(c.model, {1, 2, 4}, {}, 0, 1, FusionOptions{c.fusions});
  ASSERT_EQ(fused.header.fusions, c.fusions);
  ASSERT_LT(fused.ops().size(), unfused.ops().size()) << "the fusion found nothing to fuse";
  // Random weights fix rope_freqs from the plan's RoPE ops, fused or not.
  EXPECT_EQ(structural_tensors(fused), structural_tensors(unfused));
  WeightSet weights = random_weights(plan_tensor_shapes(unfused), 3, structural_tensors(unfused));
  // Three sequences of different lengths, past every ring's wrap (windows are at most 8).
  auto tokens = testing::token_sequences({4 + 14, 9 + 14, 1 + 14}, unfused.header.vocab);
  LogitTrace want = testing::run_interpreter(unfused, weights, tokens);
  LogitTrace got = testing::run_interpreter(fused, weights, tokens);
  ASSERT_EQ(got.size(), want.size());
  for (size_t s = 0; s < want.size(); ++s) {
    ASSERT_EQ(got[s].size(), want[s].size()) << "sequence " << s;
    for (size_t p = 0; p < want[s].size(); ++p)
      ASSERT_EQ(got[s][p], want[s][p]) << c.model << " sequence " << s << " position " << p;
  }
}

std::vector<Case> cases() {
  const std::vector<std::vector<std::string>> selections = {
      {"residual-norm"}, {"norm-rope"}, {"residual-norm", "norm-rope"}};
  std::vector<Case> out;
  for (const char* model : {"all-global-keqv", "mixed-v-keqv", "pairing-12b-tiny", "ple-shared-kv-tiny"})
    for (const auto& fusions : selections) out.push_back({"synthetic/" + std::string(model) + ".toml", fusions});
  // Every weight type with both fusions: the norm weights are stored in the declared norm type.
  for (const char* type : {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k"})
    out.push_back({"synthetic/quant-" + std::string(type) + ".toml", {"residual-norm", "norm-rope"}});
  return out;
}

INSTANTIATE_TEST_SUITE_P(SyntheticModels, FusedPlan, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string name = info.param.model.substr(info.param.model.find('/') + 1);
  name = name.substr(0, name.find('.'));
  for (const std::string& f : info.param.fusions) name += "_" + f;
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
});

std::vector<float> values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(((i * 2654435761u + seed * 40503u) % 2001) - 1000) / 250.0f;
  return v;
}

TEST(FusedCpuOps, AddRmsNormIsTheNormThenTheAddEvenInPlace) {
  const int64_t group = 48, total = 5 * group;
  const auto residual = values(total, 1), x = values(total, 2), w = values(group, 3);
  for (const float* weight : {w.data(), static_cast<const float*>(nullptr)}) {
    std::vector<float> normed(total), want(total);
    cpu::rms_norm(x.data(), weight, normed.data(), total, group, 1e-6f);
    cpu::add(residual.data(), normed.data(), want.data(), total);

    std::vector<float> out(total);
    cpu::add_rms_norm(residual.data(), x.data(), weight, out.data(), total, group, 1e-6f);
    EXPECT_EQ(out, want);
    std::vector<float> over_residual = residual;  // in place, as the plan runs it
    cpu::add_rms_norm(over_residual.data(), x.data(), weight, over_residual.data(), total, group, 1e-6f);
    EXPECT_EQ(over_residual, want);
    std::vector<float> over_x = x;
    cpu::add_rms_norm(residual.data(), over_x.data(), weight, over_x.data(), total, group, 1e-6f);
    EXPECT_EQ(over_x, want);
  }
}

TEST(FusedCpuOps, RmsNormRopeIsTheNormThenTheRopeEvenInPlace) {
  const int64_t head_dim = 32, heads = 3, rows = 4, row_elems = heads * head_dim, total = rows * row_elems;
  const std::vector<int32_t> pos = {0, 5, 1023, 262143};
  const auto x = values(total, 4), w = values(head_dim, 5);
  for (int64_t pairs : {int64_t{16}, int64_t{4}, int64_t{0}}) {
    std::vector<float> normed(total), want(total);
    cpu::rms_norm(x.data(), w.data(), normed.data(), total, head_dim, 1e-6f);
    cpu::rope(normed.data(), pos.data(), want.data(), rows, row_elems, head_dim, pairs, 1e6);

    std::vector<float> out(total);
    cpu::rms_norm_rope(x.data(), w.data(), pos.data(), out.data(), rows, row_elems, 1e-6f, head_dim, pairs, 1e6);
    EXPECT_EQ(out, want) << pairs << " rotated pairs";
    std::vector<float> in_place = x;
    cpu::rms_norm_rope(in_place.data(), w.data(), pos.data(), in_place.data(), rows, row_elems, 1e-6f, head_dim, pairs,
                       1e6);
    EXPECT_EQ(in_place, want) << pairs << " rotated pairs, in place";
  }
}

}  // namespace
}  // namespace g4c
