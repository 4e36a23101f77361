// The shipped declarations in models/: every one is valid, and the real variants carry the
// numbers of shared/reference/gemma4.md (shapes, layer kinds, caches, quant mixes, byte counts).
#include <gtest/gtest.h>

#include <filesystem>

#include "g4c/spec/describe.h"
#include "g4c/spec/load.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

std::string model_path(const std::string& name) { return std::string(G4C_SOURCE_DIR) + "/models/" + name; }

ModelSpec load_model(const std::string& name) {
  DiagnosticEngine diag;
  auto spec = load_model_spec(model_path(name), diag);
  std::string errors;
  for (const Diagnostic& d : diag.diagnostics()) errors += format_diagnostic(d, "g4c") + "\n";
  EXPECT_TRUE(spec) << errors;
  return spec.value_or(ModelSpec{});
}

std::vector<int> layers_where(const ModelSpec& spec, bool (*pred)(const LayerSpec&)) {
  std::vector<int> out;
  for (const LayerSpec& l : spec.layers)
    if (pred(l)) out.push_back(l.index);
  return out;
}

int count_type(const ModelSpec& spec, TensorClass cls, QuantType type) {
  int n = 0;
  for (const TensorSpec& t : spec.tensors) n += t.cls == cls && t.type == type;
  return n;
}

TEST(Models, EveryDeclarationInModelsIsValid) {
  int checked = 0;
  for (const char* dir : {"models", "models/synthetic"}) {
    for (const auto& entry : fs::directory_iterator(std::string(G4C_SOURCE_DIR) + "/" + dir)) {
      if (entry.path().extension() != ".toml") continue;
      DiagnosticEngine diag;
      EXPECT_TRUE(load_model_spec(entry.path().string(), diag)) << entry.path();
      ++checked;
    }
  }
  EXPECT_GE(checked, 17);
}

TEST(Models, TwelveB) {
  ModelSpec spec = load_model("gemma4-12b.toml");
  ASSERT_EQ(spec.layers.size(), 48u);
  auto global = layers_where(spec, [](const LayerSpec& l) { return l.kind == LayerKind::global; });
  EXPECT_EQ(global, (std::vector<int>{5, 11, 17, 23, 29, 35, 41, 47}));
  EXPECT_EQ(layers_where(spec, [](const LayerSpec& l) { return l.k_eq_v(); }), global);
  for (const LayerSpec& l : spec.layers) {
    bool g = l.kind == LayerKind::global;
    EXPECT_EQ(l.kv_heads, g ? 1 : 8);
    EXPECT_EQ(l.head_dim, g ? 512 : 256);
    EXPECT_EQ(l.window, g ? 0 : 1024);
    EXPECT_EQ(l.rotated_pairs, g ? 64 : 128);
  }
  // Q4_K_M: use_more_bits picks 24 of 48 ffn_down and 20 of the 40 attn_v tensors for Q6_K.
  EXPECT_EQ(count_type(spec, TensorClass::ffn_down, QuantType::Q6_K), 24);
  EXPECT_EQ(count_type(spec, TensorClass::attn_v, QuantType::Q6_K), 20);
  EXPECT_EQ(count_type(spec, TensorClass::attn_v, QuantType::Q4_K), 20);
  EXPECT_EQ(spec.find_tensor("token_embd.weight")->type, QuantType::Q6_K);
  EXPECT_EQ(spec.find_tensor("blk.5.attn_v.weight"), nullptr);
  EXPECT_EQ(spec.find_tensor("blk.5.attn_k.weight")->ne1, 512);

  // Reference §9.2: 6,536,724,480 B of layer matrices + 825,753,600 B of Q6_K LM head.
  ModelTotals totals = compute_totals(spec);
  EXPECT_EQ(totals.streamed.matrices, 6536724480);
  EXPECT_EQ(totals.streamed.lm_head, 825753600);
}

TEST(Models, TwelveBQatMatchesTheRealFile) {
  ModelSpec spec = load_model("gemma4-12b-qat-q4_0.toml");
  // The real GGUF holds 667 tensors: 40 × 14 + 8 × 13 + token_embd, output_norm, rope_freqs.
  EXPECT_EQ(spec.tensors.size(), 667u);
  EXPECT_EQ(count_type(spec, TensorClass::ffn_down, QuantType::Q4_0), 48);
  EXPECT_EQ(count_type(spec, TensorClass::attn_v, QuantType::Q4_0), 40);
  ModelTotals totals = compute_totals(spec);
  // The file is 6,975,877,728 bytes; the rest is the tokenizer and metadata.
  constexpr double kRealFileBytes = 6975877728.0;
  EXPECT_LT(std::abs(totals.weight_bytes - kRealFileBytes) / kRealFileBytes, 0.005) << totals.weight_bytes;
  EXPECT_EQ(totals.classes.at(TensorClass::attn_q).bytes + totals.classes.at(TensorClass::attn_k).bytes +
                totals.classes.at(TensorClass::attn_v).bytes + totals.classes.at(TensorClass::attn_output).bytes +
                totals.classes.at(TensorClass::ffn_gate).bytes + totals.classes.at(TensorClass::ffn_up).bytes +
                totals.classes.at(TensorClass::ffn_down).bytes,
            6131220480);
}

TEST(Models, E4B) {
  ModelSpec spec = load_model("gemma4-e4b.toml");
  ASSERT_EQ(spec.layers.size(), 42u);
  for (const LayerSpec& l : spec.layers) {
    if (l.index < 24) {
      EXPECT_TRUE(l.owns_kv);
      EXPECT_EQ(l.kv_source, l.index);
    } else {
      EXPECT_FALSE(l.owns_kv);
      EXPECT_EQ(l.kv_source, l.kind == LayerKind::sliding ? 22 : 23) << l.index;
    }
    EXPECT_EQ(l.kv_heads, 2);
  }
  EXPECT_EQ(spec.layers[22].kind, LayerKind::sliding);
  EXPECT_EQ(spec.layers[23].kind, LayerKind::global);
  // Reference §9.2: 5,121,652,544 B streamed per token (matrices, LM head, one row of each table).
  ModelTotals totals = compute_totals(spec);
  EXPECT_EQ(totals.streamed.matrices + totals.streamed.lm_head + totals.streamed.embedding_rows, 5121652544);
  EXPECT_EQ(spec.find_tensor("per_layer_token_embd.weight")->ne0, 42 * 256);
  EXPECT_EQ(spec.find_tensor("per_layer_model_proj.weight")->type, QuantType::BF16);
}

TEST(Models, E2BDoubleWideTail) {
  ModelSpec spec = load_model("gemma4-e2b.toml");
  ASSERT_EQ(spec.layers.size(), 35u);
  for (const LayerSpec& l : spec.layers) {
    EXPECT_EQ(l.ffn_width, l.index < 15 ? 6144 : 12288) << l.index;
    EXPECT_EQ(l.kind == LayerKind::global, l.index % 5 == 4) << l.index;
    if (!l.owns_kv) {
      EXPECT_EQ(l.kv_source, l.kind == LayerKind::sliding ? 13 : 14);
    }
  }
}

TEST(Models, ThirtyOneB) {
  ModelSpec spec = load_model("gemma4-31b.toml");
  ASSERT_EQ(spec.layers.size(), 60u);
  EXPECT_EQ(spec.layers[59].kind, LayerKind::global);
  EXPECT_EQ(spec.layers[59].kv_heads, 4);
  EXPECT_EQ(spec.layers[0].kv_heads, 16);
  EXPECT_EQ(spec.find_tensor("blk.0.attn_q.weight")->ne1, 8192);
  EXPECT_EQ(spec.find_tensor("blk.5.attn_q.weight")->ne1, 16384);
  EXPECT_EQ(spec.find_tensor("blk.5.attn_k.weight")->ne1, 2048);
}

TEST(Models, SyntheticFixturesCoverTheirMechanisms) {
  ModelSpec all_global = load_model("synthetic/all-global-keqv.toml");
  for (const LayerSpec& l : all_global.layers) EXPECT_TRUE(l.k_eq_v());

  ModelSpec mixed = load_model("synthetic/mixed-v-keqv.toml");
  ASSERT_EQ(mixed.layers.size(), 3u);
  EXPECT_TRUE(mixed.layers[0].k_eq_v());
  EXPECT_TRUE(mixed.layers[1].has_v_proj);
  EXPECT_TRUE(mixed.layers[2].k_eq_v());

  ModelSpec pairing = load_model("synthetic/pairing-12b-tiny.toml");
  for (const LayerSpec& l : pairing.layers) {
    EXPECT_EQ(l.k_eq_v(), l.kind == LayerKind::global);
    if (l.kind == LayerKind::sliding) {
      EXPECT_LE(l.window, 8);
    }
  }

  ModelSpec ple = load_model("synthetic/ple-shared-kv-tiny.toml");
  EXPECT_TRUE(ple.has_ple());
  EXPECT_GT(ple.shared_kv_layers, 0);
  EXPECT_EQ(ple.layers.back().ffn_width, 2 * ple.layers.front().ffn_width);

  for (QuantType t : kAllQuantTypes) {
    std::string lower(name(t));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ModelSpec q = load_model("synthetic/quant-" + lower + ".toml");
    EXPECT_EQ(q.find_tensor("blk.0.ffn_down.weight")->type, t);
    EXPECT_EQ(q.find_tensor("token_embd.weight")->type, t);
  }
}

}  // namespace
}  // namespace g4c
