// The plan interpreter (CPU backend) against the reference model on every synthetic model, with
// sequences of different prompt lengths decoded past every ring's wrap, k_eq_v caches keeping V
// alone (the default) or K and V; batched runs equal single-sequence runs bit for bit; V-only
// caches give the logits of K-and-V ones (exactly with F32 caches); bad rows are refused with a
// message.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime_helpers.h"

namespace g4c {
namespace {

using testing::LogitTrace;

// float32 interpreter vs float64 reference: max |Δ| / max |ref| per position.
constexpr double kInterpreterTolerance = 1e-4;

struct ReferenceCase {
  std::string model;
  int64_t prefill_chunk = 1;  // > 1: rings of window + chunk − 1 slots
  plan::KvStorage kv_storage = plan::KvStorage::v_only;
};

class InterpreterVsReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(InterpreterVsReference, MatchesWithinFloat32Rounding) {
  const std::string model = GetParam().model;
  ModelSpec spec = testing::load_shipped(model);
  plan::Plan plan = testing::compile_shipped(model, {1, 2, 4}, {}, 0, GetParam().prefill_chunk, FusionOptions::all(),
                                             GetParam().kv_storage);
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
  std::cout << "  " << model << " (prefill chunk " << GetParam().prefill_chunk << ", "
            << plan::name(GetParam().kv_storage) << "): max relative error " << worst.relative << "\n";
}

std::vector<ReferenceCase> reference_cases() {
  std::vector<ReferenceCase> cases;
  for (const char* model : {"all-global-keqv", "mixed-v-keqv", "pairing-12b-tiny", "ple-shared-kv-tiny", "quant-f32",
                            "quant-f16", "quant-bf16", "quant-q8_0", "quant-q4_0", "quant-q4_k", "quant-q5_k",
                            "quant-q6_k"})
    cases.push_back({"synthetic/" + std::string(model) + ".toml"});
  // Chunked-prefill plans: rings hold more slots than the window, so a ring indexed by its size
  // instead of the window reads keys the reference does not; the rows of one sequence's chunk
  // rebuild V-only keys at their own positions.
  for (const char* model : {"all-global-keqv", "mixed-v-keqv", "pairing-12b-tiny", "ple-shared-kv-tiny", "quant-q4_k"})
    cases.push_back({"synthetic/" + std::string(model) + ".toml", 3});
  // The k_eq_v models with K stored too (--kv-storage=separate).
  for (const char* model : {"all-global-keqv", "mixed-v-keqv", "pairing-12b-tiny"})
    cases.push_back({"synthetic/" + std::string(model) + ".toml", 1, plan::KvStorage::separate});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(SyntheticModels, InterpreterVsReference, ::testing::ValuesIn(reference_cases()),
                         [](const auto& info) {
                           std::string name = info.param.model.substr(info.param.model.find('/') + 1);
                           name = name.substr(0, name.find('.'));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           if (info.param.prefill_chunk > 1) name += "_chunk" + std::to_string(info.param.prefill_chunk);
                           if (info.param.kv_storage == plan::KvStorage::separate) name += "_separate";
                           return name;
                         });

// A row's arithmetic never depends on the other rows: N sequences batched give exactly the logits
// of N runs alone, whatever width serves the step.
TEST(Interpreter, BatchedEqualsSingleSequenceRunsExactly) {
  for (const char* model : {"synthetic/pairing-12b-tiny.toml", "synthetic/mixed-v-keqv.toml",
                            "synthetic/ple-shared-kv-tiny.toml", "synthetic/quant-q4_k.toml"}) {
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

// pairing-12b-tiny with F16 caches.
ModelSpec half_precision_pairing() {
  DiagnosticEngine diag;
  auto spec = load_model_spec_from_string("extends = \"" + std::string(G4C_SOURCE_DIR) +
                                              "/models/synthetic/pairing-12b-tiny.toml\"\n[attention]\nkv_dtype = \"F16\"\n",
                                          "f16-kv.toml", diag);
  EXPECT_TRUE(spec);
  return spec.value_or(ModelSpec{});
}

// Every position's logits within `bound` of the largest |ref| and with ref's argmax; returns the
// largest relative distance.
double expect_close_with_the_same_argmax(const LogitTrace& got, const LogitTrace& ref, double bound,
                                         const std::string& what) {
  testing::WorstDeviation worst;
  for (size_t s = 0; s < ref.size(); ++s) {
    EXPECT_EQ(got[s].size(), ref[s].size());
    for (size_t p = 0; p < std::min(got[s].size(), ref[s].size()); ++p) {
      worst.add(testing::deviation(got[s][p], ref[s][p]), "sequence " + std::to_string(s) + " position " + std::to_string(p));
      EXPECT_EQ(testing::argmax(got[s][p]), testing::argmax(ref[s][p])) << what << ": " << s << " " << p;
    }
  }
  worst.expect_within(bound, what);
  return worst.relative;
}

// F16 caches round K and V as the reference does; where the float32 and float64 values straddle an
// fp16 rounding boundary the stored element differs by one fp16 ulp (2^-11 relative), which the
// layers amplify to a few 1e-3 on the logits: the bound is 5e-3, and the argmax must agree.
TEST(Interpreter, HalfPrecisionCachesMatchTheReference) {
  ModelSpec spec = half_precision_pairing();
  plan::Plan plan = testing::compile_spec(spec, {1, 4});
  WeightSet weights = random_weights(plan_tensor_shapes(plan), 5, structural_tensors(plan));
  auto tokens = testing::token_sequences({20, 13}, spec.vocab);
  expect_close_with_the_same_argmax(testing::run_interpreter(plan, weights, tokens),
                                    testing::run_reference(spec, weights, tokens), 5e-3, "F16 caches");
}

// A V-only cache rebuilds K = rope(V ⊙ w) from the stored V. With F32 caches V is stored exactly,
// and V ⊙ w is the K-norm's own product (rms_norm computes x · inv · w, V is x · inv), so the
// rebuilt K is bit for bit the K a K-and-V cache stores: identical logits, chunked prefill
// included. In F16, K-and-V caches round K while V-only ones round V and multiply after, so the
// keys differ by about an fp16 ulp (2^-11 relative): the logits stay within 5e-3 of the largest,
// as F16 caches stay of the float64 reference (HalfPrecisionCachesMatchTheReference), with the
// same argmax. The distance measured is printed.
TEST(Interpreter, VOnlyCachesGiveTheLogitsOfKAndVCaches) {
  for (int64_t chunk : {1, 3})
    for (const char* model : {"synthetic/all-global-keqv.toml", "synthetic/mixed-v-keqv.toml",
                              "synthetic/pairing-12b-tiny.toml"}) {
      plan::Plan v_only = testing::compile_shipped(model, {1, 4}, {}, 0, chunk);
      plan::Plan separate = testing::compile_separate(model, {1, 4}, chunk);
      WeightSet weights = random_weights(plan_tensor_shapes(v_only), 8, structural_tensors(v_only));
      auto tokens = testing::token_sequences({17, 30}, v_only.header.vocab);
      EXPECT_EQ(testing::run_interpreter(v_only, weights, tokens), testing::run_interpreter(separate, weights, tokens))
          << model << " chunk " << chunk;
    }
  ModelSpec spec = half_precision_pairing();
  plan::Plan v_only = testing::compile_spec(spec, {1, 4});
  plan::Plan separate = testing::compile_spec(spec, {1, 4}, {}, 0, 1, FusionOptions::all(), plan::KvStorage::separate);
  WeightSet weights = random_weights(plan_tensor_shapes(v_only), 5, structural_tensors(v_only));
  auto tokens = testing::token_sequences({40, 23}, spec.vocab);
  const double distance = expect_close_with_the_same_argmax(testing::run_interpreter(v_only, weights, tokens),
                                                            testing::run_interpreter(separate, weights, tokens), 5e-3,
                                                            "F16 V-only vs K-and-V caches");
  std::cout << "  F16 caches, V-only vs K and V: max relative difference " << distance << "\n";
}

// The rebuild rotates each key at its own position, not its slot: over a ring that wrapped, V-only
// attention equals attention over K rows made by the rope op from V ⊙ w at each position.
TEST(CpuOps, VOnlyAttentionRebuildsEachKeyAtItsPosition) {
  auto random_floats = [](int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
  };
  const int64_t head_dim = 16, kv_heads = 2, q_heads = 4, slots = 6, window = 5, positions = 20;
  std::vector<float> v(size_t(slots * kv_heads * head_dim)), k(v.size()), norm(head_dim);
  std::vector<float> q = random_floats(2 * q_heads * head_dim, 3);
  for (int64_t i = 0; i < head_dim; ++i) norm[i] = 0.5f + 0.1f * float(i);
  cpu::KvCacheView v_only{nullptr, v.data(), QuantType::F32, plan::KvKind::ring, slots, kv_heads, head_dim,
                          0, norm.data(), 3, 10000.0};
  cpu::KvCacheView separate{k.data(), v.data(), QuantType::F32, plan::KvKind::ring, slots, kv_heads, head_dim};
  std::vector<float> row(size_t(kv_heads * head_dim)), key(row.size());
  for (int32_t p = 0; p < positions; ++p) {  // the ring wraps three times
    row = random_floats(kv_heads * head_dim, uint32_t(p + 11));
    for (int64_t i = 0; i < kv_heads * head_dim; ++i) key[i] = row[i] * norm[i % head_dim];
    cpu::rope(key.data(), &p, key.data(), 1, kv_heads * head_dim, head_dim, 3, 10000.0);
    const int32_t seq = 0;
    cpu::kv_write(key.data(), row.data(), &p, &seq, 1, separate);
    cpu::kv_write(nullptr, row.data(), &p, &seq, 1, v_only);
    const int32_t pos[2] = {p, p}, seqs[2] = {0, -1};  // a padding row beside
    std::vector<float> a(q.size()), b(q.size());
    cpu::attention(q.data(), pos, seqs, 2, v_only, q_heads, window, 1.0f, a.data());
    cpu::attention(q.data(), pos, seqs, 2, separate, q_heads, window, 1.0f, b.data());
    ASSERT_EQ(a, b) << "position " << p;
  }
}

// The GPU rotates V-only keys by this table: the rope op's own cos and sin at every position, and
// the factors whose product they are (the tensor-core attention's), the last tile's second coarse
// row included.
TEST(CpuOps, RopeTableHoldsTheRopeOpsCosAndSinAndTheirFactors) {
  const int64_t head_dim = 512, pairs = 64, positions = 300;
  const std::vector<cpu::CosSin> table = cpu::rope_table(1e6, head_dim, pairs, positions);
  ASSERT_EQ(table.size(), size_t(positions + 16 + positions / 16 + 2) * pairs);
  const cpu::CosSin* fine = table.data() + rope_fine_offset(positions, pairs) / 2;
  const cpu::CosSin* coarse = table.data() + rope_coarse_offset(positions, pairs) / 2;
  auto same = [](cpu::CosSin a, cpu::CosSin b) { return a.cos == b.cos && a.sin == b.sin; };
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < pairs; ++i) {
      const cpu::CosSin want = cpu::rope_cos_sin(1e6, head_dim, p, i), got = table[p * pairs + i];
      ASSERT_TRUE(same(got, want)) << "position " << p << " pair " << i;
      const cpu::CosSin product = rope_angle_sum(coarse[p / 16 * pairs + i], fine[p % 16 * pairs + i]);
      ASSERT_TRUE(same(product, want)) << "position " << p << " pair " << i;
    }
  // The factors are the angles rounded once: at position 16·h + 0 the product is the coarse factor
  // turned by (1, 0); the row past the last tile's start holds position 304's.
  EXPECT_TRUE(same(fine[0 * pairs + 5], cpu::CosSin{1.0f, 0.0f}));
  EXPECT_TRUE(same(coarse[19 * pairs + 7], cpu::rope_cos_sin(1e6, head_dim, 304, 7)));
  // Within a float rounding or two of the angle rounded once, at the longest positions.
  const double inverse = std::pow(1e6, -2.0 * 3 / head_dim);
  for (int64_t p : {262143, 100003, 17}) {
    const cpu::CosSin got = cpu::rope_cos_sin(1e6, head_dim, p, 3);
    EXPECT_NEAR(got.cos, std::cos(p * inverse), 3e-7) << p;
    EXPECT_NEAR(got.sin, std::sin(p * inverse), 3e-7) << p;
  }
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
