// Seeded random weights: the same bytes for the same seed on every machine (a committed
// fingerprint), realistic magnitudes, and every declared type.
#include <gtest/gtest.h>

#include <cmath>

#include "g4c/kernels/quant_host.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

uint64_t fingerprint(const WeightSet& set) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const HostTensor& t : set.tensors())
    for (uint8_t b : t.bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

std::vector<TensorShape> shapes_of(const std::string& model) {
  plan::Plan plan = testing::compile_shipped(model, {1});
  return plan_tensor_shapes(plan);
}

TEST(RandomWeights, SameSeedSameBytesDifferentSeedDifferentBytes) {
  auto shapes = shapes_of("synthetic/quant-q4_k.toml");
  EXPECT_EQ(fingerprint(random_weights(shapes, 7)), fingerprint(random_weights(shapes, 7)));
  EXPECT_NE(fingerprint(random_weights(shapes, 7)), fingerprint(random_weights(shapes, 8)));
}

// Integer-only generation: these bytes are the same on every machine and compiler. A change here
// changes every random:seed=N model; update the constants only on purpose.
TEST(RandomWeights, FingerprintsAreStable) {
  const std::pair<const char*, uint64_t> expected[] = {
      {"synthetic/quant-f32.toml", 5196044745194883443ull},
      {"synthetic/quant-f16.toml", 12105051028910968756ull},
      {"synthetic/quant-bf16.toml", 4979077372052546427ull},
      {"synthetic/quant-q8_0.toml", 11556800601763146973ull},
      {"synthetic/quant-q4_0.toml", 6474057118058489800ull},
      {"synthetic/quant-q4_k.toml", 3870614325974658872ull},
      {"synthetic/quant-q5_k.toml", 9529862127935846646ull},
      {"synthetic/quant-q6_k.toml", 15898953089924604503ull},
  };
  for (auto [model, value] : expected)
    EXPECT_EQ(fingerprint(random_weights(shapes_of(model), 7)), value) << model;
}

// Matrices ≈ N(0, 1/√fan-in) whatever their type; norms in [0.75, 1.25), Q and K norms times
// √2·d^(-1/4) (attention logits of standard deviation ≈ 2), post norms times 1/4; layer scales
// whose product over the layers is about 0.03.
TEST(RandomWeights, MagnitudesFollowTheRoleOfEachTensor) {
  for (const char* model : {"synthetic/quant-f32.toml", "synthetic/quant-bf16.toml", "synthetic/quant-q8_0.toml",
                            "synthetic/quant-q4_0.toml", "synthetic/quant-q4_k.toml", "synthetic/quant-q5_k.toml",
                            "synthetic/quant-q6_k.toml"}) {
    WeightSet set = random_weights(shapes_of(model), 3);
    double log_layer_scales = 0;
    for (const HostTensor& t : set.tensors()) {
      std::vector<float> v = dequantize_tensor(t);
      double sum = 0, sq = 0;
      for (float x : v) sum += x, sq += double(x) * x;
      double mean = sum / v.size(), stddev = std::sqrt(sq / v.size() - mean * mean);
      if (t.name.ends_with("layer_output_scale.weight")) {
        log_layer_scales += std::log(v[0]);
      } else if (t.ne1 == 1) {
        const bool qk = t.name.ends_with("attn_q_norm.weight") || t.name.ends_with("attn_k_norm.weight");
        const bool post = t.name.ends_with("post_attention_norm.weight") || t.name.ends_with("post_ffw_norm.weight");
        const double s = qk ? std::sqrt(2.0) * std::pow(double(t.ne0), -0.25) : post ? 0.25 : 1.0;
        for (float x : v) ASSERT_TRUE(x >= 0.75 * s * (1 - 1e-6) && x < 1.25 * s) << model << " " << t.name;
        // Logits q·k of unit-RMS q and k under these weights: standard deviation √d · mean(w²).
        if (qk) {
          EXPECT_NEAR(std::sqrt(double(t.ne0)) * sq / v.size(), 2.0, 0.3) << model << " " << t.name;
        }
      } else {
        double sigma = 1 / std::sqrt(double(t.ne0));
        EXPECT_NEAR(stddev / sigma, 1.0, 0.2) << model << " " << t.name;
        EXPECT_LT(std::abs(mean), 0.1 * sigma) << model << " " << t.name;
      }
    }
    // A handful of layers: the product is 0.03 only on average, within a factor of about 2.
    EXPECT_NEAR(log_layer_scales, std::log(0.03), std::log(2.5)) << model;
  }
}

TEST(RandomWeights, RopeFreqsHoldTheRotatedPairsAsLlamaCppWritesThem) {
  plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1});
  WeightSet set = random_weights(plan_tensor_shapes(plan), 1, structural_tensors(plan));
  std::vector<float> freqs = dequantize_tensor(set.at("rope_freqs.weight"));
  ASSERT_EQ(freqs.size(), 32u);  // global head_dim 64 → 32 pairs, 8 of them rotated (fraction 0.25)
  for (size_t i = 0; i < freqs.size(); ++i) EXPECT_EQ(freqs[i], i < 8 ? 1.0f : 1e30f) << i;
}

}  // namespace
}  // namespace g4c
