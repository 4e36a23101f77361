// The non-matmul kernel families (kernels/*.cuh but matmul_*): every instance the shipped plans
// launch, and a grid over each family's template parameters wider than the plans need, compile to
// sm_90 cubins with NVRTC through the same name expressions the runtime uses. Needs no GPU.
#include <gtest/gtest.h>

#include <set>

#include "compile_helpers.h"
#include "jit_test_support.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/jit.h"
#include "g4c/runtime/kernel_family.h"

namespace g4c {
namespace {

using plan::Attr;
using plan::Ident;
using plan::KernelInstance;

using plan::kernel_instance;

bool is_op_family(std::string_view family) {
  for (const KernelFamily& f : op_kernel_families())
    if (f.family == family) return true;
  return false;
}

TEST(OpKernels, FamilyNamesAreThePlansAndNameExpressionsTheTemplates) {
  std::set<std::string> names;
  for (const KernelFamily& f : op_kernel_families()) names.insert(std::string(f.family));
  EXPECT_EQ(names, (std::set<std::string>{"embed_gather", "ple_combine", "rms_norm", "rope", "add_rms_norm",
                                          "rms_norm_rope", "attention_inputs", "kv_write", "attention.partial",
                                          "attention.combine", "geglu", "add", "scale_by", "softcap", "sample", "random_weights"}));
  auto expression = [](const KernelInstance& k) { return find_kernel_family(k.family)->name_expression(k); };
  EXPECT_EQ(expression(kernel_instance("rms_norm", {{"group", int64_t{3840}}, {"weighted", true}})),
            "g4c::rms_norm<3840, true, g4c::matmul::kActivationsNone>");
  EXPECT_EQ(expression(kernel_instance("add_rms_norm", {{"group", int64_t{2560}}, {"weighted", true}})),
            "g4c::add_rms_norm<2560, true, false, false, g4c::matmul::kActivationsNone>");
  EXPECT_EQ(expression(kernel_instance("rms_norm_rope", {{"head_dim", int64_t{512}},
                                                         {"rotated_pairs", int64_t{64}},
                                                         {"weighted", false}})),
            "g4c::rms_norm_rope<512, 64, false>");
  EXPECT_EQ(expression(kernel_instance("attention_inputs", {{"kind", Ident{"full"}},
                                                            {"head_dim", int64_t{512}},
                                                            {"kv_heads", int64_t{1}},
                                                            {"dtype", Ident{"F16"}},
                                                            {"rotated_pairs", int64_t{64}},
                                                            {"storage", Ident{"v_only"}}})),
            "g4c::attention_inputs<false, 512, 1, g4c::block_f16, 64, true>");
  EXPECT_EQ(expression(kernel_instance("embed_gather", {{"type", Ident{"Q6_K"}}})), "g4c::embed_gather<g4c::block_q6_K>");
  EXPECT_EQ(expression(kernel_instance("kv_write", {{"kind", Ident{"ring"}},
                                             {"head_dim", int64_t{256}},
                                             {"kv_heads", int64_t{8}},
                                             {"dtype", Ident{"F16"}}})),
            "g4c::kv_write<true, 256, 8, g4c::block_f16, false>");
  EXPECT_EQ(expression(kernel_instance("kv_write", {{"kind", Ident{"full"}},
                                             {"head_dim", int64_t{512}},
                                             {"kv_heads", int64_t{1}},
                                             {"dtype", Ident{"F16"}},
                                             {"storage", Ident{"v_only"}}})),
            "g4c::kv_write<false, 512, 1, g4c::block_f16, true>");
  EXPECT_EQ(expression(kernel_instance("attention.partial", {{"kind", Ident{"full"}},
                                                      {"head_dim", int64_t{512}},
                                                      {"q_heads", int64_t{16}},
                                                      {"kv_heads", int64_t{1}},
                                                      {"dtype", Ident{"BF16"}},
                                                      {"window", int64_t{0}}})),
            "g4c::attention_partial<false, 512, 16, 1, g4c::block_bf16, 0, false, 0, false, false>");
  EXPECT_EQ(expression(kernel_instance("attention.partial", {{"kind", Ident{"full"}},
                                                      {"head_dim", int64_t{512}},
                                                      {"q_heads", int64_t{16}},
                                                      {"kv_heads", int64_t{1}},
                                                      {"dtype", Ident{"F16"}},
                                                      {"window", int64_t{0}},
                                                      {"storage", Ident{"v_only"}},
                                                      {"rotated_pairs", int64_t{64}},
                                                      {"split", Ident{"mma"}}})),
            "g4c::attention_partial<false, 512, 16, 1, g4c::block_f16, 0, true, 64, true, false>");
  EXPECT_EQ(expression(kernel_instance("attention.partial", {{"kind", Ident{"ring"}},
                                                      {"head_dim", int64_t{256}},
                                                      {"q_heads", int64_t{16}},
                                                      {"kv_heads", int64_t{8}},
                                                      {"dtype", Ident{"F16"}},
                                                      {"window", int64_t{1024}},
                                                      {"combine", Ident{"last_block"}}})),
            "g4c::attention_partial<true, 256, 16, 8, g4c::block_f16, 1024, false, 0, false, true>");
  EXPECT_EQ(expression(kernel_instance("embed_gather", {{"type", Ident{"Q6_K"}}, {"layout", Ident{"mma16"}}})),
            "g4c::embed_gather_mma16<g4c::block_q6_K>");
  EXPECT_EQ(expression(kernel_instance("geglu")), "g4c::geglu");
  EXPECT_EQ(expression(kernel_instance("rms_norm", {{"group", int64_t{3840}}, {"weighted", true}, {"quantize", Ident{"mma16"}}})),
            "g4c::rms_norm<3840, true, g4c::matmul::kActivationsMma16>");
  EXPECT_EQ(expression(kernel_instance("geglu", {{"quantize", Ident{"q8_1"}}})),
            "g4c::geglu_quantize<g4c::matmul::kActivationsQ81>");
}

TEST(OpKernels, EveryInstanceOfTheShippedPlansCompiles) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  for (const std::string& model : testing::shipped_model_files())
    for (plan::KvStorage storage : {plan::KvStorage::v_only, plan::KvStorage::separate}) {  // --kv-storage
      plan::Plan plan = testing::compile_shipped(model, {1, 2, 4, 5, 8, 16, 32}, {}, 0, 1, FusionOptions::all(), storage);
      for (JitRequest& r : jit_requests(plan))
        if (is_op_family(r.instance.family) && seen.insert(r.instance.key()).second) {
          r.used_by = model + " " + r.used_by;
          requests.push_back(std::move(r));
        }
    }
  EXPECT_GE(requests.size(), 30u);
  testing::expect_compiles_for_sm90(requests, "kernel instances");
}

std::vector<KernelInstance> quant_type_grid(const char* family) {
  std::vector<KernelInstance> out;
  for (const char* type : {"Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q8_0", "F16", "BF16", "F32"})
    out.push_back(kernel_instance(family, {{"type", Ident{type}}}));
  return out;
}

std::vector<KernelInstance> norm_grid() {
  std::vector<KernelInstance> out;
  // Warp-per-group sizes, block-per-group sizes, and groups that are not whole float4s.
  for (int64_t group : {6, 32, 48, 64, 128, 256, 512, 1024, 1536, 2560, 3840, 5376})
    for (bool weighted : {false, true}) out.push_back(kernel_instance("rms_norm", {{"group", group}, {"weighted", weighted}}));
  // quantize-in-producer: rows of whole super-blocks, a warp's (256, 512, 1024) or a block's.
  for (int64_t group : {256, 512, 1024, 2560, 3840, 5376})
    for (const char* format : {"q8_1", "mma16", "mma16h"})
      out.push_back(kernel_instance("rms_norm", {{"group", group}, {"weighted", true}, {"quantize", Ident{format}}}));
  for (int64_t width : {6, 16, 256, 1536}) out.push_back(kernel_instance("ple_combine", {{"width", width}}));
  for (auto [head_dim, pairs] : {std::pair<int64_t, int64_t>{32, 16}, {64, 8}, {128, 64}, {256, 128}, {256, 0},
                                 {512, 64}, {512, 256}, {1024, 128}})
    out.push_back(kernel_instance("rope", {{"head_dim", head_dim}, {"rotated_pairs", pairs}}));
  // The fused norms: the same group sizes, and heads up to the block-per-head size of 2048.
  for (int64_t group : {6, 48, 256, 1024, 1536, 2560, 3840, 5376})
    for (bool weighted : {false, true})
      out.push_back(kernel_instance("add_rms_norm", {{"group", group}, {"weighted", weighted}}));
  // norm-chains: the scale, the next norm, its activations, over rows of a warp and of a block.
  for (int64_t group : {128, 256, 1024, 2560, 3840})
    for (int chain = 0; chain < 4; ++chain) {
      std::vector<Attr> attrs = {{"group", group}, {"weighted", true}};
      if (chain != 1) attrs.push_back({"scale", true});
      if (chain >= 1) attrs.push_back({"then_norm", true});
      if (chain == 3 && group % 256 == 0) attrs.push_back({"quantize", Ident{group == 3840 ? "mma16" : "q8_1"}});
      out.push_back(kernel_instance("add_rms_norm", attrs));
      if (chain == 3 && group == 3840) {
        attrs.back() = {"quantize", Ident{"mma16h"}};
        out.push_back(kernel_instance("add_rms_norm", attrs));
      }
    }
  for (auto [head_dim, pairs] : {std::pair<int64_t, int64_t>{6, 3}, {32, 16}, {64, 8}, {128, 64}, {256, 128},
                                 {256, 0}, {512, 64}, {512, 256}, {1024, 128}, {2048, 256}})
    for (bool weighted : {false, true})
      out.push_back(kernel_instance("rms_norm_rope",
                                    {{"head_dim", head_dim}, {"rotated_pairs", pairs}, {"weighted", weighted}}));
  return out;
}

std::vector<KernelInstance> cache_grid() {
  std::vector<KernelInstance> out;
  for (const char* dtype : {"F16", "BF16", "F32"})
    for (int64_t head_dim : {32, 64, 128, 256, 512})
      for (int64_t kv_heads : {1, 2, 8})
        out.push_back(kernel_instance("kv_write", {{"kind", Ident{kv_heads == 1 ? "full" : "ring"}},
                                            {"head_dim", head_dim},
                                            {"kv_heads", kv_heads},
                                            {"dtype", Ident{dtype}}}));
  // Every head dim with every dtype at the largest GQA group (MQA 16:1), the other group shapes
  // (12:1 has a block of 6 heads) with F16; ring caches with a window, full ones without.
  struct Heads {
    int64_t q, kv;
  };
  std::set<std::pair<int64_t, int64_t>> combines;
  for (int64_t head_dim : {32, 64, 128, 256, 512, 1024})
    for (Heads h : {Heads{16, 1}, Heads{4, 2}, Heads{8, 2}, Heads{16, 8}, Heads{12, 1}, Heads{32, 16}})
      for (const char* dtype : {"F16", "BF16", "F32"}) {
        if (h.q != 16 || h.kv != 1) {
          if (std::string(dtype) != "F16") continue;
        }
        const bool ring = h.kv > 1;
        out.push_back(kernel_instance("attention.partial", {{"kind", Ident{ring ? "ring" : "full"}},
                                                     {"head_dim", head_dim},
                                                     {"q_heads", h.q},
                                                     {"kv_heads", h.kv},
                                                     {"dtype", Ident{dtype}},
                                                     {"window", int64_t{ring ? 1024 : 0}}}));
        if (combines.insert({head_dim, h.q}).second) {
          out.push_back(kernel_instance("attention.combine", {{"head_dim", head_dim}, {"q_heads", h.q}}));
          // quantize-in-producer: heads of whole super-blocks write the O projection's activations.
          if (head_dim % 256 == 0)
            for (const char* format : {"q8_1", "mma16", "mma16h"})
              out.push_back(kernel_instance("attention.combine",
                                            {{"head_dim", head_dim}, {"q_heads", h.q}, {"quantize", Ident{format}}}));
        }
      }
  // v_only caches: V alone written; keys rebuilt with a proportional RoPE's pairs (head_dim / 8) at
  // MQA 16:1 in every dtype, all pairs on a GQA ring, and none or an odd count.
  const Ident v_only{"v_only"};
  for (int64_t head_dim : {32, 64, 128, 256, 512, 1024})
    for (const char* dtype : {"F16", "BF16", "F32"}) {
      auto partial = [&](Heads h, int64_t pairs) {
        const bool ring = h.kv > 1;
        return kernel_instance("attention.partial", {{"kind", Ident{ring ? "ring" : "full"}},
                                                     {"head_dim", head_dim},
                                                     {"q_heads", h.q},
                                                     {"kv_heads", h.kv},
                                                     {"dtype", Ident{dtype}},
                                                     {"window", int64_t{ring ? 1024 : 0}},
                                                     {"storage", v_only},
                                                     {"rotated_pairs", pairs}});
      };
      out.push_back(partial({16, 1}, head_dim / 8));
      out.push_back(kernel_instance("kv_write", {{"kind", Ident{"full"}},
                                                 {"head_dim", head_dim},
                                                 {"kv_heads", int64_t{1}},
                                                 {"dtype", Ident{dtype}},
                                                 {"storage", v_only}}));
      // attention-inputs: a v_only cache's (no K heads) and a ring's with K, in every dtype.
      auto inputs = [&](const char* kind, int64_t kv_heads, int64_t pairs, bool v_only_cache) {
        std::vector<Attr> attrs = {{"kind", Ident{kind}},     {"head_dim", head_dim},     {"kv_heads", kv_heads},
                                   {"dtype", Ident{dtype}}, {"rotated_pairs", pairs}};
        if (v_only_cache) attrs.push_back({"storage", v_only});
        return kernel_instance("attention_inputs", std::move(attrs));
      };
      out.push_back(inputs("full", 1, head_dim / 8, true));
      out.push_back(inputs("ring", 8, head_dim / 2, false));
      if (std::string(dtype) != "F16") continue;
      out.push_back(inputs("full", 2, 0, false));
      out.push_back(partial({4, 2}, head_dim / 2));
      if (head_dim == 64) out.push_back(partial({4, 1}, 3));
      if (head_dim == 512) out.push_back(partial({16, 1}, 0));
    }
  return out;
}

TEST(OpKernels, TemplateParameterGridCompiles) {
  std::vector<KernelInstance> instances;
  for (auto part : {quant_type_grid("embed_gather"), quant_type_grid("random_weights"), norm_grid(), cache_grid()})
    instances.insert(instances.end(), part.begin(), part.end());
  for (const char* family : {"geglu", "add", "scale_by", "softcap", "sample"}) instances.push_back(kernel_instance(family));
  for (const char* format : {"q8_1", "mma16", "mma16h"})
    instances.push_back(kernel_instance("geglu", {{"quantize", Ident{format}}}));
  std::vector<JitRequest> requests;
  for (KernelInstance& k : instances) requests.push_back({std::move(k), "the template grid"});
  testing::expect_compiles_for_sm90(requests, "kernel instances");
}

}  // namespace
}  // namespace g4c
