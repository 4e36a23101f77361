// The reference model's building blocks against hand-computed values (shared/reference/gemma4.md),
// and model-level identities: a k_eq_v layer is a real-V layer whose V weight equals its K weight.
#include <gtest/gtest.h>

#include <cmath>

#include "g4c/runtime/reference_math.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

using reference::Vec;

TEST(ReferenceMath, RmsNormPerGroupWithAndWithoutScale) {
  Vec x = {3, 4, 1, 1};
  Vec w = {2, 0.5};
  Vec y = reference::rms_norm(x, &w, 2, 0.0);
  // group 0: mean(9, 16) = 12.5 → x / √12.5; group 1: mean(1, 1) = 1.
  EXPECT_NEAR(y[0], 3 / std::sqrt(12.5) * 2, 1e-15);
  EXPECT_NEAR(y[1], 4 / std::sqrt(12.5) * 0.5, 1e-15);
  EXPECT_NEAR(y[2], 2.0, 1e-15);
  EXPECT_NEAR(y[3], 0.5, 1e-15);
  Vec plain = reference::rms_norm({3, 4}, nullptr, 2, 0.5);
  EXPECT_NEAR(plain[0], 3 / std::sqrt(13.0), 1e-15);
}

TEST(ReferenceMath, ProportionalRopeRotatesOnlyTheFirstPairsWithTheFullHeadDimInTheExponent) {
  // A global head: d = 512, fraction 0.25 → pairs 0..63 rotate (0..63 with 256..319); the rest pass.
  Vec x(512);
  for (int i = 0; i < 512; ++i) x[i] = 1.0 + 0.01 * i;
  const int64_t pos = 7;
  Vec y = reference::rope(x, 512, 64, 1e6, pos);
  for (int i = 64; i < 256; ++i) EXPECT_EQ(y[i], x[i]) << i;
  for (int i = 320; i < 512; ++i) EXPECT_EQ(y[i], x[i]) << i;
  // Pair 0: angle pos · θ^0 = 7.
  EXPECT_NEAR(y[0], x[0] * std::cos(7.0) - x[256] * std::sin(7.0), 1e-12);
  EXPECT_NEAR(y[256], x[256] * std::cos(7.0) + x[0] * std::sin(7.0), 1e-12);
  // Pair 63: angle 7 · 1e6^(−126/512), the exponent over 512, not over 128.
  double angle = 7.0 * std::pow(1e6, -126.0 / 512.0);
  EXPECT_NEAR(y[63], x[63] * std::cos(angle) - x[319] * std::sin(angle), 1e-12);
  EXPECT_NEAR(y[319], x[319] * std::cos(angle) + x[63] * std::sin(angle), 1e-12);
}

TEST(ReferenceMath, DefaultRopeRotatesEveryPairAndIsTheIdentityAtPositionZero) {
  Vec x(256);
  for (int i = 0; i < 256; ++i) x[i] = std::sin(i + 1.0);
  EXPECT_EQ(reference::rope(x, 256, 128, 1e4, 0), x);
  Vec y = reference::rope(x, 256, 128, 1e4, 3);
  double angle = 3.0 * std::pow(1e4, -2.0 * 127 / 256);  // the slowest pair
  EXPECT_NEAR(y[127], x[127] * std::cos(angle) - x[255] * std::sin(angle), 1e-12);
  // Rotation keeps each pair's length.
  EXPECT_NEAR(y[5] * y[5] + y[133] * y[133], x[5] * x[5] + x[133] * x[133], 1e-12);
}

// Keys that all score 0 give uniform attention, so the output is the mean of the value rows the
// window admits: value(j) = j tells exactly which positions were read.
double mean_position_read(int64_t pos, int64_t window) {
  std::vector<Vec> keys, values;
  for (int64_t j = 0; j <= pos; ++j) {
    keys.push_back({0.0});
    values.push_back({static_cast<double>(j)});
  }
  Vec out = reference::attend({1.0}, 1, 1, 1, pos, window, [&](int64_t j) -> const Vec& { return keys[j]; },
                              [&](int64_t j) -> const Vec& { return values[j]; });
  return out[0];
}

TEST(ReferenceMath, SlidingWindowSeesExactlyWindowKeys) {
  const int64_t W = 4;
  EXPECT_DOUBLE_EQ(mean_position_read(W - 1, W), 1.5);          // keys 0..3
  EXPECT_DOUBLE_EQ(mean_position_read(W, W), 2.5);              // keys 1..4
  EXPECT_DOUBLE_EQ(mean_position_read(2 * W + 3, W), 9.5);      // keys 8..11
  EXPECT_DOUBLE_EQ(mean_position_read(2 * W + 3, 0), 5.5);      // global: keys 0..11
}

TEST(ReferenceMath, GqaAndMqaMapQueryHeadsToKvHeadGroups) {
  // head_dim 1; KV head g's value is 10·(g + 1).
  Vec k2 = {0, 0}, v2 = {10, 20};
  Vec gqa = reference::attend({1, 1, 1, 1}, 4, 2, 1, 0, 0, [&](int64_t) -> const Vec& { return k2; },
                              [&](int64_t) -> const Vec& { return v2; });
  EXPECT_EQ(gqa, (Vec{10, 10, 20, 20}));  // heads 0,1 → kv 0; heads 2,3 → kv 1
  Vec k1 = {0}, v1 = {10};
  Vec mqa = reference::attend(Vec(16, 1.0), 16, 1, 1, 0, 0, [&](int64_t) -> const Vec& { return k1; },
                              [&](int64_t) -> const Vec& { return v1; });
  EXPECT_EQ(mqa, Vec(16, 10.0));  // 16 query heads on one kv head (the 12B's global layers)
}

TEST(ReferenceMath, SoftcapAndGelu) {
  EXPECT_NEAR(reference::softcap(45.0, 30.0), 30.0 * std::tanh(1.5), 1e-15);
  EXPECT_LT(reference::softcap(1e6, 30.0), 30.0 + 1e-12);
  EXPECT_NEAR(reference::softcap(0.1, 30.0), 0.1, 1e-5);
  EXPECT_NEAR(reference::gelu_tanh(1.0), 0.8411919906082768, 1e-15);
  EXPECT_NEAR(reference::gelu_tanh(-3.0), -0.0036373920817729943, 1e-15);
}

TEST(ReferenceMath, PleInputCombinesTheProjectionAndTheTableRow) {
  // One layer, P = 2, H = 4: z = (3, 4) · 4^(−½) = (1.5, 2): RMS → (1.5, 2)/√3.125; w = (1, 2); row (0.5, −1) · √2.
  Vec pl = reference::per_layer_input({3, 4}, {0.5, -1}, {1, 2}, 4, 0.0);
  double inv = 1 / std::sqrt(3.125);
  EXPECT_NEAR(pl[0], (1.5 * inv * 1 + 0.5 * std::sqrt(2.0)) / std::sqrt(2.0), 1e-15);
  EXPECT_NEAR(pl[1], (2.0 * inv * 2 - 1.0 * std::sqrt(2.0)) / std::sqrt(2.0), 1e-15);
}

// A k_eq_v layer is exactly a real-V layer whose V projection equals its K projection.
TEST(ReferenceModel, KeqvIsVFromTheRawKProjection) {
  ModelSpec mixed = testing::load_shipped("synthetic/mixed-v-keqv.toml");  // layer 1 projects V
  DiagnosticEngine diag;
  auto all_keqv = load_model_spec_from_string(
      "extends = \"" + std::string(G4C_SOURCE_DIR) + "/models/synthetic/mixed-v-keqv.toml\"\nlayer = []\n",
      "all-keqv.toml", diag);
  ASSERT_TRUE(all_keqv);
  ASSERT_TRUE(all_keqv->layers[1].k_eq_v());
  std::vector<TensorShape> shapes;
  for (const TensorSpec& t : all_keqv->tensors) shapes.push_back({t.name, t.type, t.ne0, t.ne1});
  WeightSet base = random_weights(shapes, 11);
  WeightSet with_v = random_weights(shapes, 11);
  const HostTensor& k = with_v.at("blk.1.attn_k.weight");
  with_v.add_borrowed({"blk.1.attn_v.weight", k.type, k.ne0, k.ne1}, k.bytes);
  ReferenceModel a(*all_keqv, base), b(mixed, with_v);
  for (int32_t t : {3, 14, 15, 92, 65}) EXPECT_EQ(a.step(t), b.step(t));
}

}  // namespace
}  // namespace g4c
