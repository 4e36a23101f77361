// Generation on the CPU backend: continuous batching (sequences join as others leave, each at its
// own position) gives every sequence exactly what it gets alone; the sampler draws from the
// softmax it claims to, repeats under a seed and does not depend on batch mates.
#include <gtest/gtest.h>

#include <cmath>

#include "g4c/runtime/generate.h"
#include "g4c/runtime/sampler.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

struct Fixture {
  plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 2, 4});
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 21, structural_tensors(plan));

  GenerateResult generate(const std::vector<std::vector<int32_t>>& prompts, GenerateOptions options) {
    DiagnosticEngine diag;
    const int slots = options.max_active > 0 ? options.max_active : static_cast<int>(plan.header.widths.back());
    auto interpreter = Interpreter::create(plan, weights, slots, diag);
    EXPECT_TRUE(interpreter);
    interpreter->poison_memory();
    auto result = g4c::generate(*interpreter, prompts, options, diag);
    EXPECT_TRUE(result) << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
    return result.value_or(GenerateResult{});
  }
};

const std::vector<std::vector<int32_t>> kPrompts = {{2, 17, 93, 5}, {9, 8}, {100}, {4, 4, 4, 4, 4, 4, 4}, {77, 1, 3}};

TEST(Generate, ContinuousBatchingGivesEachSequenceWhatItGetsAlone) {
  Fixture f;
  GenerateOptions options;
  options.steps = 7;
  options.keep_logits = true;
  options.max_active = 2;  // five prompts through two slots: three wait, then join mid-run
  const GenerateResult batched = f.generate(kPrompts, options);
  ASSERT_EQ(batched.generated.size(), kPrompts.size());
  for (int64_t rows : batched.rows_per_step) EXPECT_LE(rows, 2);
  options.max_active = 1;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    const GenerateResult alone = f.generate({kPrompts[s]}, options);
    EXPECT_EQ(batched.generated[s], alone.generated[0]) << "sequence " << s;
    EXPECT_EQ(batched.logits[s], alone.logits[0]) << "sequence " << s;
    EXPECT_EQ(batched.generated[s].size(), 7u);
  }
  // Every prompt token and every generated token but the last took one row of some step.
  int64_t rows = 0, expected = 0;
  for (int64_t r : batched.rows_per_step) rows += r;
  for (const auto& p : kPrompts) expected += static_cast<int64_t>(p.size()) + 7 - 1;
  EXPECT_EQ(rows, expected);
}

TEST(Generate, SamplingRepeatsAndIgnoresBatchMates) {
  Fixture f;
  GenerateOptions options;
  options.steps = 12;
  options.sampling = {0.8, 20, 0.95, 1234};
  const GenerateResult batched = f.generate(kPrompts, options);
  const GenerateResult again = f.generate(kPrompts, options);
  EXPECT_EQ(batched.generated, again.generated);
  options.max_active = 1;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    options.sequence_ids = {s};
    EXPECT_EQ(batched.generated[s], f.generate({kPrompts[s]}, options).generated[0]) << "sequence " << s;
  }
  options.sequence_ids.clear();
  options.max_active = 0;
  options.sampling.seed = 99;
  EXPECT_NE(f.generate(kPrompts, options).generated, batched.generated);
}

// A sequence that on_token ends stops there, leaves its slot to a waiting prompt, and changes
// nothing for the others; on_token sees every generated token in order.
TEST(Generate, OnTokenEndsASequenceEarly) {
  Fixture f;
  GenerateOptions options;
  options.steps = 6;
  options.max_active = 2;
  const GenerateResult full = f.generate(kPrompts, options);
  std::vector<std::vector<int32_t>> seen(kPrompts.size());
  options.on_token = [&](int64_t sequence, int32_t token) {
    seen[sequence].push_back(token);
    return !(sequence == 1 && seen[sequence].size() == 2);  // sequence 1 ends after two tokens
  };
  const GenerateResult cut = f.generate(kPrompts, options);
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    EXPECT_EQ(seen[s], cut.generated[s]) << "sequence " << s;
    if (s == 1)
      EXPECT_EQ(cut.generated[s], std::vector<int32_t>(full.generated[s].begin(), full.generated[s].begin() + 2));
    else
      EXPECT_EQ(cut.generated[s], full.generated[s]) << "sequence " << s;
  }
  int64_t rows = 0;
  for (int64_t r : cut.rows_per_step) rows += r;
  int64_t expected = 0;
  for (size_t s = 0; s < kPrompts.size(); ++s) expected += static_cast<int64_t>(kPrompts[s].size()) + (s == 1 ? 2 : 6) - 1;
  EXPECT_EQ(rows, expected);
}

TEST(Generate, RefusesMoreActiveSequencesThanThePlanServes) {
  Fixture f;
  DiagnosticEngine diag;
  auto interpreter = Interpreter::create(f.plan, f.weights, 8, diag);
  GenerateOptions options;
  options.max_active = 8;
  EXPECT_FALSE(generate(*interpreter, kPrompts, options, diag));
  ASSERT_FALSE(diag.diagnostics().empty());
  EXPECT_EQ(diag.diagnostics()[0].message, "8 sequences at once: the plan serves 1..4 sequences per step");
}

// Prompts fed in chunks of up to 4 tokens per step (plans compiled with --prefill-chunk 4: rings
// of window + 3 slots) give exactly the tokens and logits of feeding them one by one — across
// ring wraps (window 4), shared-KV layers and k_eq_v layers, with sequences joining mid-run.
TEST(Generate, ChunkedPrefillEqualsTokenByToken) {
  const std::vector<std::vector<int32_t>> prompts = {
      {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4}, {7}, {2, 7, 1, 8, 2, 8, 1, 8, 2}, {6, 6}, {1, 2, 3, 4, 5}};
  for (const char* model : {"synthetic/pairing-12b-tiny.toml", "synthetic/ple-shared-kv-tiny.toml",
                            "synthetic/mixed-v-keqv.toml"}) {
    const plan::Plan plan = testing::compile_shipped(model, {1, 2, 4, 8}, {}, 0, 4);
    DiagnosticEngine diag;
    const WeightSet weights = random_weights(plan_tensor_shapes(plan), 5, structural_tensors(plan));
    auto run = [&](int prompt_chunk) {
      auto interpreter = Interpreter::create(plan, weights, 3, diag);
      interpreter->poison_memory();
      GenerateOptions options;
      options.steps = 6;
      options.keep_logits = true;
      options.max_active = 3;
      options.prompt_chunk = prompt_chunk;
      auto result = generate(*interpreter, prompts, options, diag);
      EXPECT_TRUE(result) << (diag.diagnostics().empty() ? "" : diag.diagnostics().back().message);
      return result.value_or(GenerateResult{});
    };
    const GenerateResult chunked = run(0), single = run(1);
    EXPECT_EQ(chunked.generated, single.generated) << model;
    EXPECT_EQ(chunked.logits, single.logits) << model;
    EXPECT_LT(chunked.decode_steps, single.decode_steps) << model;
    int64_t widest = 0;
    for (int64_t rows : chunked.rows_per_step) widest = std::max(widest, rows);
    EXPECT_GT(widest, 3) << model << ": no step carried a chunk";
  }
}

TEST(Generate, RefusesStepsThatBreakAChunk) {
  const plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 2, 4}, {}, 0, 2);
  DiagnosticEngine diag;
  const WeightSet weights = random_weights(plan_tensor_shapes(plan), 5, structural_tensors(plan));
  auto interpreter = Interpreter::create(plan, weights, 2, diag);
  ASSERT_TRUE(interpreter);
  const std::vector<int32_t> three = {1, 2, 3}, p012 = {0, 1, 2}, slot0 = {0, 0, 0};
  EXPECT_FALSE(interpreter->step({three, p012, slot0}, diag));
  const std::vector<int32_t> two = {1, 2}, p02 = {0, 2}, slots00 = {0, 0};
  EXPECT_FALSE(interpreter->step({two, p02, slots00}, diag));
  ASSERT_EQ(diag.diagnostics().size(), 2u);
  EXPECT_EQ(diag.diagnostics()[0].message,
            "sequence slot 0 has 3 rows in one step; the plan allows 2 (g4c compile --prefill-chunk)");
  EXPECT_EQ(diag.diagnostics()[1].message,
            "sequence slot 0's rows in one step are not consecutive positions (0 then 2)");
  GenerateOptions options;
  options.prompt_chunk = 3;
  EXPECT_FALSE(generate(*interpreter, {{1, 2, 3}}, options, diag));
  EXPECT_EQ(diag.diagnostics().back().message,
            "prompt chunks of 3 tokens: the plan allows 2 (g4c compile --prefill-chunk)");
}

TEST(Sampler, TopKOfOneAndTinyTopPAreGreedy) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f};
  for (int64_t pos = 0; pos < 50; ++pos) {
    EXPECT_EQ(sample_token(logits, {1.0, 1, 1.0, 7}, 0, pos), 1);
    EXPECT_EQ(sample_token(logits, {1.0, 0, 1e-9, 7}, 0, pos), 1);
  }
  EXPECT_EQ(sample_token(logits, {}, 0, 0), 1);  // greedy: the first of the tied largest
}

TEST(Sampler, DrawsFromTheTemperatureSoftmax) {
  // Probabilities 1/8, 3/8, 4/8 at temperature 1; at temperature 2 they flatten to ∝ √p.
  const std::vector<float> logits = {0.0f, std::log(3.0f), std::log(4.0f)};
  for (double temperature : {1.0, 2.0}) {
    std::vector<double> want = {1, std::pow(3.0, 1 / temperature), std::pow(4.0, 1 / temperature)};
    double sum = want[0] + want[1] + want[2];
    std::vector<int> count(3, 0);
    const int draws = 40000;
    for (int64_t pos = 0; pos < draws; ++pos) ++count[sample_token(logits, {temperature, 0, 1.0, 5}, 3, pos)];
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(count[i] / static_cast<double>(draws), want[i] / sum, 0.01) << "temperature " << temperature;
  }
  // top-p 0.45 keeps only the most likely token (its 4/8 reaches the mass).
  for (int64_t pos = 0; pos < 100; ++pos) EXPECT_EQ(sample_token(logits, {1.0, 0, 0.45, 5}, 3, pos), 2);
}

TEST(Sampler, RejectsMeaninglessOptions) {
  EXPECT_EQ(check_sampling_options({-1, 0, 1, 0}), "--temperature: expected a number >= 0");
  EXPECT_EQ(check_sampling_options({1, -2, 1, 0}), "--top-k: expected a number of tokens >= 0 (0: all)");
  EXPECT_EQ(check_sampling_options({1, 0, 0, 0}), "--top-p: expected a probability mass in (0, 1]");
  EXPECT_EQ(check_sampling_options({1, 0, 1.5, 0}), "--top-p: expected a probability mass in (0, 1]");
  EXPECT_EQ(check_sampling_options({0.7, 40, 0.9, 3}), "");
}

}  // namespace
}  // namespace g4c
