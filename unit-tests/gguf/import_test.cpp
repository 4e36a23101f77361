// `g4c import`: a GGUF written the way llama.cpp's converter writes a model (from a declaration,
// zero-filled weights) imports to a declaration that derives the same layers and tensor types;
// quant recipes come out in the schema's own terms; bad metadata gets one keyed error.
#include "g4c/gguf/import.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <set>

#include "g4c/gguf/gguf.h"
#include "g4c/spec/load.h"

namespace g4c::gguf {
namespace {

namespace fs = std::filesystem;

std::string errors_of(const DiagnosticEngine& diag) {
  std::string out;
  for (const Diagnostic& d : diag.diagnostics()) out += format_diagnostic(d, "g4c") + "\n";
  return out;
}

ModelSpec load_spec(const std::string& path) {
  DiagnosticEngine diag;
  auto spec = load_model_spec(path, diag);
  EXPECT_TRUE(spec) << errors_of(diag);
  return spec.value_or(ModelSpec{});
}

ModelSpec load_text(const std::string& toml) {
  DiagnosticEngine diag;
  auto spec = load_model_spec_from_string(toml, "imported.toml", diag);
  EXPECT_TRUE(spec) << errors_of(diag) << toml;
  return spec.value_or(ModelSpec{});
}

std::string synthetic(const std::string& name) { return std::string(G4C_SOURCE_DIR) + "/models/synthetic/" + name; }

// How the converted file departs from a faithful conversion, for the error tests.
struct ConvertOptions {
  bool dead_shared_kv = false;             // keep shared layers' unused attn_k / attn_v (E4B file)
  std::map<std::string, uint32_t> retype;  // tensor → ggml type
  std::set<std::string> drop;              // tensors left out
};

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

// One value for every layer: a u32 when they agree, an i32 array otherwise (as gguf-py writes lists).
Value per_layer_value(const std::vector<int64_t>& v) {
  if (std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; })) return Value::make_u32(u32(v[0]));
  return Value::make_int_array(ValueType::i32, v);
}

// gemma4.* metadata as llama.cpp's converter writes it (shared/reference/gemma4.md §7.1).
void add_metadata(const ModelSpec& spec, Writer& w) {
  const std::string a = "gemma4.";
  w.set("general.architecture", Value::make_string("gemma4"));
  w.set("general.name", Value::make_string(spec.name));
  w.set(a + "context_length", Value::make_u32(u32(spec.context)));
  w.set(a + "embedding_length", Value::make_u32(u32(spec.hidden)));
  w.set(a + "block_count", Value::make_u32(u32(spec.num_layers)));
  std::vector<int64_t> ffn, kv;
  std::vector<bool> sliding;
  for (const LayerSpec& l : spec.layers) {
    ffn.push_back(l.ffn_width);
    kv.push_back(l.kv_heads);
    sliding.push_back(l.kind == LayerKind::sliding);
  }
  w.set(a + "feed_forward_length", per_layer_value(ffn));
  w.set(a + "attention.head_count", Value::make_u32(u32(spec.query_heads)));
  w.set(a + "attention.head_count_kv", per_layer_value(kv));
  w.set(a + "attention.layer_norm_rms_epsilon", Value::make_f32(static_cast<float>(spec.rms_eps)));
  for (LayerKind kind : {LayerKind::global, LayerKind::sliding}) {
    const AttentionKindSpec& k = spec.kind_spec(kind);
    if (!k.declared) continue;
    std::string swa = kind == LayerKind::sliding ? "_swa" : "";
    w.set(a + "rope.freq_base" + swa, Value::make_f32(static_cast<float>(k.rope_theta)));
    w.set(a + "attention.key_length" + swa, Value::make_u32(u32(k.head_dim)));
    w.set(a + "attention.value_length" + swa, Value::make_u32(u32(k.head_dim)));
    w.set(a + "rope.dimension_count" + swa, Value::make_u32(u32(k.head_dim)));
    if (kind == LayerKind::sliding) w.set(a + "attention.sliding_window", Value::make_u32(u32(k.window)));
  }
  if (spec.final_softcap)
    w.set(a + "final_logit_softcapping", Value::make_f32(static_cast<float>(*spec.final_softcap)));
  w.set(a + "attention.sliding_window_pattern", Value::make_bool_array(sliding));
  w.set(a + "attention.shared_kv_layers", Value::make_u32(u32(spec.shared_kv_layers)));
  w.set(a + "embedding_length_per_layer_input", Value::make_u32(u32(spec.ple_width)));
  w.set(a + "vocab_size", Value::make_u32(u32(spec.vocab)));
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < spec.vocab; ++i) tokens.push_back("<tok" + std::to_string(i) + ">");
  w.set("tokenizer.ggml.model", Value::make_string("gemma4"));
  w.set("tokenizer.ggml.tokens", Value::make_string_array(tokens));
}

// rope_freqs: 1 on the rotated pairs, 1e30 (held still) on the rest.
std::vector<uint8_t> rope_freqs(const TensorSpec& t, const ModelSpec& spec) {
  int rotated = spec.global.declared ? spec.global.rotated_pairs() : spec.sliding.rotated_pairs();
  std::vector<uint8_t> bytes(4 * t.ne0);
  for (int64_t i = 0; i < t.ne0; ++i) {
    float f = i < rotated ? 1.0f : 1e30f;
    std::memcpy(bytes.data() + 4 * i, &f, 4);
  }
  return bytes;
}

// The GGUF llama.cpp would write for `spec`: its tensors, named, shaped and typed as the spec
// derives them, with zero-filled weights.
Writer convert(const ModelSpec& spec, const ConvertOptions& options = {}) {
  Writer w;
  add_metadata(spec, w);
  for (const TensorSpec& t : spec.tensors) {
    if (options.drop.count(t.name)) continue;
    uint32_t type = options.retype.count(t.name) ? options.retype.at(t.name) : ggml_type_of(t.type);
    std::vector<int64_t> dims = t.is_matrix() ? std::vector<int64_t>{t.ne0, t.ne1} : std::vector<int64_t>{t.ne0};
    std::vector<uint8_t> data =
        t.name == "rope_freqs.weight" ? rope_freqs(t, spec) : std::vector<uint8_t>(*ggml_tensor_bytes(type, dims));
    w.add_tensor(t.name, dims, type, std::move(data));
  }
  if (options.dead_shared_kv)
    for (const LayerSpec& l : spec.layers) {
      if (l.owns_kv) continue;
      int64_t kv_width = int64_t{l.kv_heads} * l.head_dim;
      for (const char* name : {"attn_k", "attn_v"})
        w.add_tensor("blk." + std::to_string(l.index) + "." + name + ".weight", {spec.hidden, kv_width}, ggml::F16,
                     std::vector<uint8_t>(2 * spec.hidden * kv_width));
    }
  return w;
}

std::optional<std::string> import_bytes(const Writer& w, DiagnosticEngine& diag) {
  auto file = File::from_bytes(w.to_bytes(), "m.gguf", diag);
  if (!file) return std::nullopt;
  return import_model(*file, diag);
}

std::string import_ok(const Writer& w) {
  DiagnosticEngine diag;
  auto toml = import_bytes(w, diag);
  EXPECT_TRUE(toml) << errors_of(diag);
  EXPECT_EQ(diag.diagnostics().size(), 0u) << errors_of(diag);
  return toml.value_or("");
}

std::string import_error(const Writer& w) {
  DiagnosticEngine diag;
  EXPECT_FALSE(import_bytes(w, diag));
  EXPECT_EQ(diag.error_count(), 1) << errors_of(diag);
  return diag.diagnostics().empty() ? "" : format_diagnostic(diag.diagnostics().front(), "g4c");
}

// Everything a plan depends on, except the KV cache dtype (GGUF files do not carry it).
void expect_same_model(const ModelSpec& want, const ModelSpec& got) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.vocab, want.vocab);
  EXPECT_EQ(got.hidden, want.hidden);
  EXPECT_EQ(got.context, want.context);
  EXPECT_EQ(got.rms_eps, want.rms_eps);
  EXPECT_EQ(got.tied_embeddings, want.tied_embeddings);
  EXPECT_EQ(got.layer_output_scale, want.layer_output_scale);
  EXPECT_EQ(got.final_softcap, want.final_softcap);
  EXPECT_EQ(got.embedding_scale, want.embedding_scale);
  EXPECT_EQ(got.query_heads, want.query_heads);
  EXPECT_EQ(got.ple_width, want.ple_width);
  EXPECT_EQ(got.ple_vocab, want.ple_vocab);
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (size_t i = 0; i < want.layers.size(); ++i) {
    const LayerSpec& a = want.layers[i];
    const LayerSpec& b = got.layers[i];
    SCOPED_TRACE("layer " + std::to_string(i));
    EXPECT_EQ(b.kind, a.kind);
    EXPECT_EQ(b.head_dim, a.head_dim);
    EXPECT_EQ(b.kv_heads, a.kv_heads);
    EXPECT_EQ(b.window, a.window);
    EXPECT_EQ(b.rope_theta, a.rope_theta);
    EXPECT_EQ(b.rotated_pairs, a.rotated_pairs);
    EXPECT_EQ(b.owns_kv, a.owns_kv);
    EXPECT_EQ(b.kv_source, a.kv_source);
    EXPECT_EQ(b.has_v_proj, a.has_v_proj);
    EXPECT_EQ(b.ffn_width, a.ffn_width);
  }
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    const TensorSpec& a = want.tensors[i];
    const TensorSpec& b = got.tensors[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.ne0, a.ne0) << a.name;
    EXPECT_EQ(b.ne1, a.ne1) << a.name;
    EXPECT_EQ(b.type, a.type) << a.name << ": " << name(b.type) << " from " << b.type_from;
  }
}

TEST(Import, EverySyntheticModelRoundTrips) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(synthetic(""))) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    ModelSpec original = load_spec(entry.path().string());
    std::string toml = import_ok(convert(original));
    expect_same_model(original, load_text(toml));
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST(Import, PairingOf12BAtTinySize) {
  ModelSpec original = load_spec(synthetic("pairing-12b-tiny.toml"));
  std::string toml = import_ok(convert(original));
  EXPECT_EQ(toml.rfind("# Gemma 4 model imported by `g4c import` from m.gguf (GGUF v3, 85 tensors).\n", 0), 0u) << toml;
  for (const char* line :
       {"name = \"synthetic-pairing-12b-tiny\"\n", "rms_eps = 1e-06\n", "final_softcap = 30.0\n",
        "layer_pattern = { period = 3, global = [2] }   # global layers 2, 5\n", "rope_theta = 10000.0\n",
        "rope_fraction = 0.25\n", "k_eq_v = true\n", "[quant]\ndefault = \"F32\"\n"})
    EXPECT_NE(toml.find(line), std::string::npos) << line << "\n" << toml;
  EXPECT_EQ(toml.find("# note:"), std::string::npos);
  EXPECT_EQ(toml.find("[[layer]]"), std::string::npos);
  EXPECT_EQ(import_ok(convert(original)), toml);  // deterministic
}

TEST(Import, PleAndSharedKvWithDeadProjections) {
  ModelSpec original = load_spec(synthetic("ple-shared-kv-tiny.toml"));
  ConvertOptions options;
  options.dead_shared_kv = true;
  std::string toml = import_ok(convert(original, options));
  expect_same_model(original, load_text(toml));
  for (const char* line :
       {"shared_kv_layers = 4\n", "shared_kv_source = \"last-of-kind\"\n",
        "width = 256\ndouble_wide_shared_kv = true\n", "[ple]\nwidth = 16\n",
        "# note: ignored blk.4.attn_k.weight (F16 [128, 64]): layer 4 reads the cache of layer 2 and "
        "projects no K or V\n",
        "# note: ignored blk.7.attn_v.weight (F16 [128, 128]): layer 7 reads the cache of layer 3 "
        "and projects no K or V\n"})
    EXPECT_NE(toml.find(line), std::string::npos) << line << "\n" << toml;
}

Writer pairing(const ConvertOptions& options = {}) {
  return convert(load_spec(synthetic("pairing-12b-tiny.toml")), options);
}

// The 12B's Q4_K_M mix at a size whose rows K-quants tile (hidden 256).
constexpr const char* kQ4KM = R"(
[model]
name = "tiny-q4_k_m"
vocab = 256
hidden = 256
layers = 8
context = 64
final_softcap = 30.0

[attention]
query_heads = 4
layer_pattern = { period = 4, global = [3] }

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
token_embd = "Q6_K"

[[quant.rule]]
tensors = ["ffn_down", "attn_v"]
select = "use_more_bits"
type = "Q6_K"
)";

TEST(Import, UseMoreBitsBecomesASelectRule) {
  ModelSpec original = load_text(kQ4KM);
  std::string toml = import_ok(convert(original));
  expect_same_model(original, load_text(toml));
  EXPECT_NE(toml.find("[quant]\ndefault = \"Q4_K\"\ntoken_embd = \"Q6_K\"\n\n[[quant.rule]]\ntensors = [\"attn_v\", "
                      "\"ffn_down\"]\nselect = \"use_more_bits\"\ntype = \"Q6_K\"\n"),
            std::string::npos)
      << toml;
}

TEST(Import, OddLayersBecomeLayerRulesAndOverrides) {
  ModelSpec original = load_text(std::string(kQ4KM) + R"(
[[quant.rule]]
tensors = ["ffn_up", "attn_q"]
layers = [1, 6]
type = "Q5_K"

[[layer]]
index = 3
attn_v = true
quant = { attn_output = "Q8_0" }
)");
  std::string toml = import_ok(convert(original));
  expect_same_model(original, load_text(toml));
  for (const char* text : {"tensors = [\"attn_q\", \"ffn_up\"]\nlayers = [1, 6]\ntype = \"Q5_K\"\n",
                           "tensors = [\"attn_output\"]\nlayers = [3]\ntype = \"Q8_0\"\n",
                           "[[layer]]\nindex = 3\nattn_v = true\n", "k_eq_v = true\n"})
    EXPECT_NE(toml.find(text), std::string::npos) << text << "\n" << toml;
}

TEST(Import, SharedKvSourcesWhereLlamaCppWouldDifferAreNoted) {
  std::string toml_text = kQ4KM;
  std::string pattern = "layer_pattern = { period = 4, global = [3] }\n";
  toml_text.replace(toml_text.find(pattern), pattern.size(), pattern + "shared_kv_layers = 3\n");
  ModelSpec original = load_text(toml_text);
  std::string toml = import_ok(convert(original));
  expect_same_model(original, load_text(toml));
  EXPECT_NE(toml.find("# note: shared sliding layers read the cache of layer 4 (last-of-kind, as transformers); "
                      "llama.cpp would read layer 3\n"
                      "# note: shared global layers read the cache of layer 3 (last-of-kind, as transformers); "
                      "llama.cpp would read layer 4\n"),
            std::string::npos)
      << toml;
}

TEST(Import, HostileTensorNamesCannotBreakTheComments) {
  Writer w = pairing();
  w.add_tensor("x\n[model]\nname = \"evil\"\xff", {4}, ggml::F32, std::vector<uint8_t>(16));
  std::string toml = import_ok(w);
  EXPECT_NE(toml.find("# note: ignored x?[model]?name = \"evil\"? (F32 [4]): not a tensor of the declared model\n"),
            std::string::npos)
      << toml;
  load_text(toml);  // the whole output, comments included, is a valid declaration
}

TEST(Import, ShippedRecipesAreRecoveredFromTheirTypes) {
  struct Case {
    const char* model;
    std::string recipe;
  };
  std::vector<Case> cases = {
      {"gemma4-12b.toml",
       "[quant]\ndefault = \"Q4_K\"\ntoken_embd = \"Q6_K\"\n\n[[quant.rule]]\ntensors = "
       "[\"attn_v\", \"ffn_down\"]\nselect = \"use_more_bits\"\ntype = \"Q6_K\"\n"},
      {"gemma4-12b-qat-q4_0.toml", "[quant]\ndefault = \"Q4_0\"\ntoken_embd = \"Q6_K\"\n"},
      {"gemma4-e4b.toml",
       "[quant]\ndefault = \"Q8_0\"\nper_layer_model_proj = \"BF16\"\ninp_gate = \"F32\"\nproj = "
       "\"F32\"\n"},
  };
  for (const Case& c : cases) {
    ModelSpec spec = load_spec(std::string(G4C_SOURCE_DIR) + "/models/" + c.model);
    TensorTypes types;
    for (const TensorSpec& t : spec.tensors) types[t.name] = t.type;
    DiagnosticEngine diag;
    auto recipe = infer_quant_recipe(spec, types, {}, diag);
    ASSERT_TRUE(recipe) << errors_of(diag);
    EXPECT_EQ(recipe->to_toml(), c.recipe) << c.model;
  }
}

// ---- errors: one, keyed by the metadata key or the tensor ----

TEST(ImportErrors, MissingAndMalformedKeys) {
  Writer w = pairing();
  w.erase("gemma4.block_count");
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.block_count: missing from the file's metadata (expected the number "
            "of layers)");
  w = pairing();
  w.set("general.architecture", Value::make_string("llama"));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: general.architecture: not a Gemma 4 file (got \"llama\", expected "
            "\"gemma4\")");
  w = pairing();
  w.set("gemma4.expert_count", Value::make_u32(128));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.expert_count: mixture-of-experts models are not supported by g4c "
            "(got 128, expected 0 or absent (a dense model))");
  w = pairing();
  w.set("gemma4.embedding_length", Value::make_f32(128));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.embedding_length: not an integer (got 128 (f32), expected the "
            "residual width)");
  w = pairing();
  w.set("gemma4.attention.head_count_kv", Value::make_int_array(ValueType::i32, std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.attention.head_count_kv: needs one entry per layer (got 3 entries, "
            "expected 6 (gemma4.block_count))");
  w = pairing();
  w.set("gemma4.attention.head_count_kv",
        Value::make_int_array(ValueType::i32, std::vector<int64_t>{2, 2, 1, 2, 4, 1}));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.attention.head_count_kv: sliding layers differ (got 2 on layer 0, "
            "4 on layer 4, expected one KV head count per layer kind)");
  w = pairing();
  w.set("gemma4.attention.head_count_kv", Value::make_u32(3));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: the metadata describes a model g4c cannot declare: "
            "attention.sliding.kv_heads: must divide attention.query_heads (4) (got 3, expected a "
            "divisor of 4)");
  w = pairing();
  w.set("gemma4.rope.dimension_count", Value::make_u32(16));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: gemma4.rope.dimension_count: rotary embedding over part of the head is "
            "not supported (got 16, expected 64 (gemma4.attention.key_length), with "
            "rope_freqs.weight holding pairs still)");
}

TEST(ImportErrors, TensorsThatDoNotFitTheMetadata) {
  ConvertOptions options;
  options.retype["blk.1.ffn_down.weight"] = ggml::Q3_K;
  EXPECT_EQ(import_error(pairing(options)),
            "m.gguf: error: blk.1.ffn_down.weight: tensor type not supported by g4c "
            "(got Q3_K, expected Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, F16, BF16 or F32)");
  options = {};
  options.drop.insert("blk.3.attn_k.weight");
  EXPECT_EQ(import_error(pairing(options)),
            "m.gguf: error: blk.3.attn_k.weight: tensor missing from the file "
            "(expected [128, 64], as the metadata implies)");
  Writer w = pairing();
  w.set("gemma4.attention.key_length_swa", Value::make_u32(64));
  w.set("gemma4.attention.value_length_swa", Value::make_u32(64));
  w.set("gemma4.rope.dimension_count_swa", Value::make_u32(64));
  EXPECT_EQ(import_error(w),
            "m.gguf: error: blk.0.attn_q.weight: shape does not match the metadata (got [128, 128], "
            "expected [128, 256])");
  options = {};
  options.drop.insert("blk.4.layer_output_scale.weight");
  EXPECT_EQ(import_error(pairing(options)),
            "m.gguf: error: blk.4.layer_output_scale.weight: missing, though layers "
            "0, 1, 2, 3, 5 have one (expected the tensor on every layer or on none)");
  options = {};
  options.retype["blk.2.ffn_norm.weight"] = ggml::F16;
  EXPECT_EQ(import_error(pairing(options)),
            "m.gguf: error: blk.2.ffn_norm.weight: every vector must have one type "
            "(quant.norms), but this one differs (got F16, expected F32, as the other "
            "vectors)");
}

TEST(ImportErrors, RopeFreqsMustBeProportional) {
  ModelSpec spec = load_spec(synthetic("pairing-12b-tiny.toml"));
  Writer w;
  add_metadata(spec, w);
  for (const TensorSpec& t : spec.tensors) {
    std::vector<int64_t> dims = t.is_matrix() ? std::vector<int64_t>{t.ne0, t.ne1} : std::vector<int64_t>{t.ne0};
    std::vector<uint8_t> data(*ggml_tensor_bytes(ggml_type_of(t.type), dims));
    if (t.name == "rope_freqs.weight") {
      float factors[32];
      for (int i = 0; i < 32; ++i) factors[i] = i < 8 ? 1.0f : 1e30f;
      factors[10] = 2.0f;
      std::memcpy(data.data(), factors, sizeof factors);
    }
    w.add_tensor(t.name, dims, ggml_type_of(t.type), std::move(data));
  }
  EXPECT_EQ(import_error(w),
            "m.gguf: error: rope_freqs.weight: factor 2 of pair 10 is neither 1 (rotated) nor >= 1e20 "
            "(held still) (expected proportional RoPE: factors of 1 on the first pairs, then very "
            "large ones)");
}

}  // namespace
}  // namespace g4c::gguf
