// The matmul kernel families (kernels/matmul_*.cuh): every instance a plan can list — each route
// over every weight type it takes and every width 1..32, and the cuBLAS route's conversions —
// compiles to an sm_90 cubin with NVRTC through the name expressions the runtime uses. Needs no
// GPU.
#include <gtest/gtest.h>

#include <set>

#include "g4c/plan/kernels.h"
#include "g4c/runtime/jit.h"
#include "jit_test_support.h"
#include "g4c/runtime/kernel_family.h"

namespace g4c {
namespace {

using plan::Attr;
using plan::Ident;
using plan::KernelInstance;

using plan::kernel_instance;

KernelInstance matmul(const std::string& route, std::string_view type, int64_t n) {
  return kernel_instance("matmul." + route, {{"type", Ident{std::string(type)}}, {"n", n}});
}

std::string name_expression(const KernelInstance& k) {
  const KernelFamily* family = find_kernel_family(k.family);
  return family ? family->name_expression(k) : "(no family)";
}

constexpr std::string_view kQuantized[] = {"Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q8_0"};
constexpr std::string_view kMma16Types[] = {"Q4_K", "Q6_K", "Q8_0", "Q4_0"};
constexpr std::string_view kAllTypes[] = {"Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q8_0", "F16", "BF16", "F32"};

std::vector<KernelInstance> every_matmul_instance() {
  std::vector<KernelInstance> out;
  for (int64_t n = 1; n <= 32; ++n) {
    for (std::string_view type : kAllTypes) {
      out.push_back(matmul("ws", type, n));
      out.push_back(matmul("gemm_n", type, n));
    }
    for (std::string_view type : kQuantized) out.push_back(matmul("mmq", type, n));
    for (std::string_view type : kMma16Types) {
      out.push_back(matmul("mma16", type, n));
      out.push_back(matmul("mma16h", type, n));
    }
  }
  out.push_back(kernel_instance("quantize_q8_1"));
  out.push_back(kernel_instance("quantize_mma16"));
  out.push_back(kernel_instance("quantize_mma16h"));
  for (std::string_view type : kMma16Types) out.push_back(kernel_instance("repack_mma16", {{"type", Ident{std::string(type)}}}));
  for (std::string_view type : kQuantized) out.push_back(kernel_instance("dequantize_f16", {{"type", Ident{std::string(type)}}}));
  for (const char* to : {"F16", "BF16"}) out.push_back(kernel_instance("convert_activations", {{"to", Ident{to}}}));
  return out;
}

TEST(MatmulKernels, WidthsOfOneCapacityNameOneTemplate) {
  EXPECT_EQ(name_expression(matmul("ws", "Q4_K", 1)), "g4c::matmul_ws<g4c::block_q4_K, 1>");
  EXPECT_EQ(name_expression(matmul("ws", "Q6_K", 3)), "g4c::matmul_ws<g4c::block_q6_K, 4>");
  EXPECT_EQ(name_expression(matmul("ws", "BF16", 8)), "g4c::matmul_ws<g4c::block_bf16, 8>");
  EXPECT_EQ(name_expression(matmul("ws", "F32", 32)), "g4c::matmul_ws<g4c::block_f32, 8>");
  EXPECT_EQ(name_expression(matmul("mmq", "Q8_0", 5)), "g4c::matmul_mmq<g4c::block_q8_0, 8>");
  EXPECT_EQ(name_expression(matmul("mmq", "Q4_0", 17)), "g4c::matmul_mmq<g4c::block_q4_0, 24>");
  EXPECT_EQ(name_expression(matmul("gemm_n", "Q5_K", 32)), "g4c::matmul_gemm_n<g4c::block_q5_K, 32>");
  EXPECT_EQ(name_expression(matmul("gemm_n", "F16", 20)), "g4c::matmul_gemm_n<g4c::block_f16, 32>");
  EXPECT_EQ(name_expression(kernel_instance("quantize_q8_1")), "g4c::quantize_q8_1");
  EXPECT_EQ(name_expression(matmul("mma16", "Q4_K", 1)), "g4c::matmul_mma16<g4c::block_q4_K, 8>");
  // mma16 runs wider widths as row groups of 8 (matmul::mma16_row_groups).
  EXPECT_EQ(name_expression(matmul("mma16", "Q8_0", 20)), "g4c::matmul_mma16<g4c::block_q8_0, 8>");
  // mma16h holds every row: capacities 8, 16, 32.
  EXPECT_EQ(name_expression(matmul("mma16h", "Q4_K", 8)), "g4c::matmul_mma16h<g4c::block_q4_K, 8>");
  EXPECT_EQ(name_expression(matmul("mma16h", "Q6_K", 9)), "g4c::matmul_mma16h<g4c::block_q6_K, 16>");
  EXPECT_EQ(name_expression(matmul("mma16h", "Q4_0", 17)), "g4c::matmul_mma16h<g4c::block_q4_0, 32>");
  EXPECT_EQ(name_expression(kernel_instance("quantize_mma16h")), "g4c::quantize_mma16h");
  EXPECT_EQ(name_expression(kernel_instance("repack_mma16", {{"type", Ident{"Q8_0"}}})),
            "g4c::repack_mma16<g4c::block_q8_0>");
  EXPECT_EQ(name_expression(kernel_instance("dequantize_f16", {{"type", Ident{"Q6_K"}}})), "g4c::dequantize_f16<g4c::block_q6_K>");
  EXPECT_EQ(name_expression(kernel_instance("convert_activations", {{"to", Ident{"BF16"}}})),
            "g4c::convert_activations<g4c::block_bf16>");
}

TEST(MatmulKernels, EveryInstanceCompilesForSm90) {
  std::vector<JitRequest> requests;
  for (KernelInstance& k : every_matmul_instance()) requests.push_back({std::move(k), "matmul_compile_test"});
  std::set<std::string> templates;
  for (const JitRequest& r : requests) templates.insert(name_expression(r.instance));
  const auto stats = testing::expect_compiles_for_sm90(
      requests, "matmul kernel instances (" + std::to_string(templates.size()) + " distinct templates)");
  if (stats) {
    EXPECT_EQ(stats->programs, 6);  // matmul_ws, _mmq, _gemm_n, _cublas, _mma16, _mma16h
  }
}

}  // namespace
}  // namespace g4c
