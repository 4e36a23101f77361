// The declaration reader: merging of `extends`, locations, quant recipe precedence, derived
// per-layer facts, and that a broken declaration stops before derived stages pile up errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "g4c/spec/describe.h"
#include "g4c/spec/limits.h"
#include "g4c/spec/load.h"
#include "kv_limit_declaration.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

// A valid tiny model; tests append TOML to change one thing.
constexpr const char* kTiny = R"(
[model]
name = "tiny"
vocab = 256
hidden = 256
layers = 6
context = 64

[attention]
query_heads = 4
layer_pattern = { period = 3, global = [2] }

[attention.sliding]
head_dim = 64
kv_heads = 2
window = 8
rope_theta = 10000.0

[attention.global]
head_dim = 128
kv_heads = 1
rope_theta = 1000000.0
rope_fraction = 0.25
k_eq_v = true

[ffn]
width = 512

[quant]
default = "Q4_K"
)";

std::optional<ModelSpec> load(const std::string& text, DiagnosticEngine& diag) {
  return load_model_spec_from_string(text, "test.toml", diag);
}

ModelSpec load_ok(const std::string& text) {
  DiagnosticEngine diag;
  auto spec = load(text, diag);
  std::string errors;
  for (const Diagnostic& d : diag.diagnostics()) errors += format_diagnostic(d, "test") + "\n";
  EXPECT_TRUE(spec.has_value()) << errors;
  return spec.value_or(ModelSpec{});
}

std::vector<std::string> errors_of(const std::string& text) {
  DiagnosticEngine diag;
  EXPECT_FALSE(load(text, diag).has_value());
  std::vector<std::string> out;
  for (const Diagnostic& d : diag.diagnostics()) out.push_back(format_diagnostic(d, "test"));
  return out;
}

TEST(Load, DerivesLayerKindsSourcesAndVProjections) {
  ModelSpec spec = load_ok(kTiny);
  ASSERT_EQ(spec.layers.size(), 6u);
  for (const LayerSpec& l : spec.layers) {
    bool global = l.index % 3 == 2;
    EXPECT_EQ(l.kind, global ? LayerKind::global : LayerKind::sliding) << l.index;
    EXPECT_EQ(l.has_v_proj, !global) << l.index;
    EXPECT_EQ(l.k_eq_v(), global) << l.index;
    EXPECT_EQ(l.kv_heads, global ? 1 : 2);
    EXPECT_EQ(l.window, global ? 0 : 8);
    EXPECT_EQ(l.rotated_pairs, global ? 16 : 32);
    EXPECT_EQ(l.kv_source, l.index);
  }
  EXPECT_NEAR(spec.embedding_scale, 16.0, 1e-12);
}

TEST(Load, RecordsWhereEachKeyWasWritten) {
  ModelSpec spec = load_ok(kTiny);
  SourceLoc loc = spec.loc("attention.sliding.window");
  EXPECT_EQ(*loc.file, "test.toml");
  EXPECT_EQ(loc.line, 16);
  EXPECT_EQ(loc.col, 10);
  // An unknown path falls back to its nearest declared parent.
  EXPECT_EQ(spec.loc("attention.sliding.nonexistent").line, spec.loc("attention.sliding").line);
}

TEST(Load, QuantPrecedenceIsDefaultThenClassThenRulesThenLayer) {
  ModelSpec spec = load_ok(std::string(kTiny) + R"(
ffn_down = "Q5_K"

[[quant.rule]]
tensors = ["ffn_down"]
layers = [1, 2]
type = "Q6_K"

[[layer]]
index = 2
quant = { ffn_down = "Q8_0" }
)");
  EXPECT_EQ(spec.find_tensor("blk.0.ffn_down.weight")->type, QuantType::Q5_K);
  EXPECT_EQ(spec.find_tensor("blk.0.ffn_down.weight")->type_from, "quant.ffn_down");
  EXPECT_EQ(spec.find_tensor("blk.1.ffn_down.weight")->type, QuantType::Q6_K);
  EXPECT_EQ(spec.find_tensor("blk.1.ffn_down.weight")->type_from, "quant.rule[0].type");
  EXPECT_EQ(spec.find_tensor("blk.2.ffn_down.weight")->type, QuantType::Q8_0);
  EXPECT_EQ(spec.find_tensor("blk.2.ffn_down.weight")->type_from, "layer[0].quant.ffn_down");
  EXPECT_EQ(spec.find_tensor("blk.0.attn_q.weight")->type, QuantType::Q4_K);
  EXPECT_EQ(spec.find_tensor("blk.0.attn_norm.weight")->type, QuantType::F32);
}

TEST(UseMoreBits, MatchesLlamaCppForTheTwelveB) {
  // ffn_down over 48 layers: the first and last 6, and every third in between: 24 in all.
  int count = 0;
  for (int i = 0; i < 48; ++i) count += use_more_bits(i, 48);
  EXPECT_EQ(count, 24);
  EXPECT_TRUE(use_more_bits(0, 48));
  EXPECT_TRUE(use_more_bits(8, 48));
  EXPECT_FALSE(use_more_bits(9, 48));
  EXPECT_TRUE(use_more_bits(47, 48));
  count = 0;
  for (int i = 0; i < 40; ++i) count += use_more_bits(i, 40);
  EXPECT_EQ(count, 20);
}

TEST(Load, LayerOverrideGivesAGlobalLayerARealV) {
  ModelSpec spec = load_ok(std::string(kTiny) + R"(
[[layer]]
index = 5
attn_v = true
)");
  EXPECT_TRUE(spec.layers[2].k_eq_v());
  EXPECT_FALSE(spec.layers[5].k_eq_v());
  EXPECT_NE(spec.find_tensor("blk.5.attn_v.weight"), nullptr);
  EXPECT_EQ(spec.find_tensor("blk.2.attn_v.weight"), nullptr);
}

TEST(Load, SharedKvSourceRules) {
  // Layers 0 1 [2] 3 4 [5]; sharing the last two layers leaves owners 0..3.
  std::string base = std::string(kTiny);
  base.replace(base.find("query_heads = 4"), 15, "query_heads = 4\nshared_kv_layers = 2");
  ModelSpec hf = load_ok(base);
  EXPECT_EQ(hf.layers[4].kv_source, 3);  // last sliding before the range
  EXPECT_EQ(hf.layers[5].kv_source, 2);  // last global before the range
  EXPECT_FALSE(hf.layers[4].owns_kv);
  EXPECT_FALSE(hf.layers[4].has_v_proj);
  EXPECT_EQ(hf.find_tensor("blk.4.attn_k.weight"), nullptr);

  // llama.cpp's rule reads n−2 for sliding and n−1 for global, which here are 2 and 3: wrong kinds.
  std::string cpp = base;
  cpp.replace(cpp.find("shared_kv_layers = 2"), 20, "shared_kv_layers = 2\nshared_kv_source = \"llama.cpp\"");
  auto errors = errors_of(cpp);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("shared layer 4 has no cache to read: layer 2 (the llama.cpp rule) is not sliding"),
            std::string::npos);
}

TEST(Load, DoubleWideFfnOnSharedLayersAndPerLayerWidths) {
  std::string base = std::string(kTiny);
  base.replace(base.find("query_heads = 4"), 15, "query_heads = 4\nshared_kv_layers = 2");
  base.replace(base.find("width = 512"), 11, "width = [256, 256, 512, 512, 256, 256]\ndouble_wide_shared_kv = true");
  ModelSpec spec = load_ok(base);
  std::vector<int> widths;
  for (const LayerSpec& l : spec.layers) widths.push_back(l.ffn_width);
  EXPECT_EQ(widths, (std::vector<int>{256, 256, 512, 512, 512, 512}));
  EXPECT_EQ(spec.find_tensor("blk.4.ffn_down.weight")->ne0, 512);
}

TEST(Load, StopsAfterTheStageThatFailed) {
  // A bad kv_heads must not also produce errors from layers or tensors derived from it.
  std::string text = std::string(kTiny);
  text.replace(text.find("kv_heads = 2"), 12, "kv_heads = 3");
  auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.toml:15:12: error: attention.sliding.kv_heads: must divide attention.query_heads (4) "
            "(got 3, expected a divisor of 4)");
}

TEST(Load, ReportsEveryIndependentMistakeOfAStage) {
  std::string text = std::string(kTiny) + "\nunknown_one = 1\n";
  text.replace(text.find("vocab = 256"), 11, "vocab = -1\nvocabb = 3");
  auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("model.vocab: must be positive (got -1"), std::string::npos);
  EXPECT_NE(errors[1].find("model.vocabb: unknown key; did you mean 'vocab'?"), std::string::npos);
  EXPECT_NE(errors[2].find("quant.unknown_one: unknown key"), std::string::npos);
}

// kKvAtTheLimit: exactly the limit, which is allowed; F32 doubles it past.
using testing::kKvAtTheLimit;

TEST(Load, AcceptsAKvCacheOfExactlyTheLimit) { load_ok(kKvAtTheLimit); }

TEST(Load, RefusesAKvCacheOverTheLimitWithTheBytesItNeeds) {
  std::string text = std::string(kKvAtTheLimit);
  text.replace(text.find("query_heads = 4"), 15, "query_heads = 4\nkv_dtype = \"F32\"");
  auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.toml:7:11: error: model.context: the KV cache of one sequence at this context would need more "
            "memory than any device has (got 2199023255552 bytes (2 TiB), expected at most 1099511627776 bytes "
            "(1 TiB))");
}

class ExtendsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("g4c-extends-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_ / "base");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(ExtendsTest, ChildTablesMergeAndArraysReplace) {
  write("base/tiny.toml", std::string(kTiny) + R"(
[[quant.rule]]
tensors = ["ffn_down"]
select = "use_more_bits"
type = "Q6_K"
)");
  std::string child = write("child.toml", R"(extends = "base/tiny.toml"
[model]
name = "child"
[attention.sliding]
window = 16
[quant]
rule = []
)");
  DiagnosticEngine diag;
  auto spec = load_model_spec(child, diag);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->name, "child");
  EXPECT_EQ(spec->sliding.window, 16);
  EXPECT_EQ(spec->sliding.head_dim, 64);  // inherited from the same table
  EXPECT_TRUE(spec->quant_rules.empty());
  // Locations follow the file each key came from.
  EXPECT_EQ(*spec->loc("attention.sliding.window").file, child);
  EXPECT_NE(spec->loc("attention.sliding.head_dim").file->find("tiny.toml"), std::string::npos);
}

TEST_F(ExtendsTest, CyclesAndMissingFilesAreErrors) {
  std::string a = write("a.toml", "extends = \"b.toml\"\n");
  write("b.toml", "extends = \"a.toml\"\n");
  DiagnosticEngine diag;
  EXPECT_FALSE(load_model_spec(a, diag));
  ASSERT_EQ(diag.error_count(), 1);
  EXPECT_NE(diag.diagnostics()[0].message.find("extends: cycle:"), std::string::npos);

  std::string lost = write("lost.toml", "extends = \"nowhere.toml\"\n");
  DiagnosticEngine diag2;
  EXPECT_FALSE(load_model_spec(lost, diag2));
  ASSERT_EQ(diag2.error_count(), 1);
  EXPECT_EQ(diag2.diagnostics()[0].loc.line, 1);
  EXPECT_NE(diag2.diagnostics()[0].message.find("no such file"), std::string::npos);
}

}  // namespace
}  // namespace g4c
