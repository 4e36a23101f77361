// Route selection pieces: the default rule table, legality, overrides, tuning files.
#include <gtest/gtest.h>

#include <fstream>

#include "g4c/compiler/routing.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"

namespace g4c {
namespace {

using plan::Route;

TEST(DefaultRules, FollowTheDocumentedTable) {
  auto route = [](QuantType t, int64_t rows, int64_t cols, int64_t n) {
    plan::RouteChoice c = default_route({t, rows, cols, n}, true);
    return std::string(plan::name(c.route)) + " " + c.source;
  };
  EXPECT_EQ(route(QuantType::Q4_K, 4096, 3840, 1), "mma16 rule mma16-quant");
  EXPECT_EQ(route(QuantType::Q6_K, 262144, 3840, 8), "mma16 rule mma16-quant");
  // From 16 rows on, the fp16 form of the same layout; without it (policy no-mma16h), mma16.
  EXPECT_EQ(route(QuantType::Q6_K, 262144, 3840, 32), "mma16h rule mma16h-wide");
  EXPECT_EQ(route(QuantType::Q4_K, 2048, 3840, 16), "mma16h rule mma16h-wide");
  EXPECT_EQ(route(QuantType::Q8_0, 4096, 2560, 16), "mma16h rule mma16h-wide");
  EXPECT_EQ(default_route({QuantType::Q4_K, 4096, 3840, 32}, true, true, false).route, Route::mma16);
  EXPECT_EQ(route(QuantType::Q4_K, 512, 3840, 8), "mma16 rule mma16-quant");
  // Q8_0 and Q4_0 (the E4B, the QAT 12B) too, measured faster there and oracle-checked.
  EXPECT_EQ(route(QuantType::Q8_0, 4096, 2560, 5), "mma16 rule mma16-quant");
  EXPECT_EQ(route(QuantType::Q4_0, 4096, 3840, 1), "mma16 rule mma16-quant");
  EXPECT_EQ(route(QuantType::Q4_0, 4096, 3840, 32), "mma16h rule mma16h-wide");
  // Q5_K is not in the layout: the int8 tile.
  EXPECT_EQ(route(QuantType::Q5_K, 4096, 3840, 8), "mmq rule mmq-quant");
  // Where the mma16 layout is not allowed (policy no-mma16, or a weight that cannot take it), mmq.
  EXPECT_EQ(default_route({QuantType::Q4_K, 4096, 3840, 8}, true, false).route, Route::mmq);
  EXPECT_EQ(default_route({QuantType::Q4_K, 4096, 3840, 32}, true, false).route, Route::mmq);
  EXPECT_EQ(route(QuantType::F32, 256, 2560, 1), "cublas rule float-cublas");
  EXPECT_EQ(route(QuantType::BF16, 10752, 2560, 16), "cublas rule float-cublas");
  EXPECT_EQ(route(QuantType::Q4_K, 4096, 3840, 256), "cublas rule prefill-cublas");
  // mmq's widths end at 32: a prefill chunk of 64 takes gemm_n.
  EXPECT_EQ(route(QuantType::Q4_K, 4096, 3840, 64), "gemm_n rule gemm-n");
  // A shape mmq cannot tile falls through to the next rule.
  EXPECT_EQ(route(QuantType::Q8_0, 4096, 96, 8), "ws rule ws-any");
  EXPECT_EQ(route(QuantType::Q8_0, 4096, 96, 32), "gemm_n rule gemm-n");
  EXPECT_EQ(route(QuantType::Q8_0, 4096, 80, 32), "ws rule ws-any");
  // Without the int8 routes the big shapes stay on ws, or gemm_n past 16.
  EXPECT_EQ(default_route({QuantType::Q8_0, 4096, 2560, 8}, false, false).route, Route::ws);
  EXPECT_EQ(default_route({QuantType::Q4_K, 4096, 3840, 8}, false, false).route, Route::ws);
  EXPECT_EQ(default_route({QuantType::Q4_K, 4096, 3840, 32}, false, false).route, Route::gemm_n);
}

TEST(RouteLegality, WsAndCublasRunEverything) {
  for (QuantType t : kAllQuantTypes) {
    EXPECT_TRUE(plan::route_legal(Route::ws, t, 7, 96));
    EXPECT_TRUE(plan::route_legal(Route::cublas, t, 7, 96));
  }
  EXPECT_FALSE(plan::route_legal(Route::mmq, QuantType::F16, 4096, 4096));
  EXPECT_FALSE(plan::route_legal(Route::mmq, QuantType::Q8_0, 4096, 96));
  EXPECT_TRUE(plan::route_legal(Route::mmq, QuantType::Q4_0, 4096, 256));
  EXPECT_FALSE(plan::route_legal(Route::gemm_n, QuantType::F32, 64, 48));
}

// The runtime takes a matmul's instances by role (plan::kernel_role): every route lists one
// matmul kernel (none on cuBLAS), the activations' kernel exactly where activation_kernel names
// one, and a load-time kernel where the weight is repacked or copied to fp16.
TEST(KernelRoles, EachRouteListsOneInstanceOfEachRoleItUses) {
  using plan::KernelRole;
  for (const plan::Route route : {plan::Route::ws, plan::Route::mmq, plan::Route::gemm_n, plan::Route::cublas,
                                  plan::Route::mma16, plan::Route::mma16h})
    for (const QuantType type : {QuantType::Q4_K, QuantType::Q8_0, QuantType::F32, QuantType::BF16}) {
      SCOPED_TRACE(std::string(plan::name(route)) + " " + std::string(name(type)));
      int count[4] = {};
      for (const plan::KernelInstance& k : plan::matmul_route_kernels(route, type, 8))
        ++count[static_cast<int>(plan::kernel_role(k.family))];
      const bool repacked = route == plan::Route::mma16 || route == plan::Route::mma16h;
      EXPECT_EQ(count[static_cast<int>(KernelRole::main)], route == plan::Route::cublas ? 0 : 1);
      EXPECT_EQ(count[static_cast<int>(KernelRole::activations)], plan::activation_kernel(route, type) ? 1 : 0);
      EXPECT_EQ(count[static_cast<int>(KernelRole::weight_at_load)],
                repacked || (route == plan::Route::cublas && !info(type).is_float) ? 1 : 0);
      EXPECT_EQ(count[static_cast<int>(KernelRole::combine)], 0);
    }
  EXPECT_EQ(plan::kernel_role("attention.combine"), KernelRole::combine);
  EXPECT_EQ(plan::kernel_role("attention.partial"), KernelRole::main);
}

TEST(RouteOverride, ParsesPatternRouteAndCondition) {
  std::string error;
  auto o = parse_route_override("ffn_down=mmq@N>=5", error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->pattern, "ffn_down");
  EXPECT_EQ(o->route, Route::mmq);
  EXPECT_FALSE(o->applies_to_width(4));
  EXPECT_TRUE(o->applies_to_width(5));
  auto all = parse_route_override("*=ws", error);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->applies_to_width(1) && all->applies_to_width(4096));
  EXPECT_FALSE(parse_route_override("ffn_down=mmq@N=>5", error));
  EXPECT_FALSE(parse_route_override("=mmq", error));
}

TEST(RouteOverride, MatchesWeightClassesExactly) {
  std::string error;
  auto down = parse_route_override("ffn_down=ws", error);
  plan::Op op;
  op.kind = plan::OpKind::matmul;
  op.result = "l3.down";
  op.weight = "blk.3.ffn_down.weight";
  EXPECT_TRUE(down->applies_to_op(op));
  op.weight = "blk.3.ffn_down_exps.weight";
  EXPECT_FALSE(down->applies_to_op(op));
  auto lm = parse_route_override("lm_head=ws", error);
  op.result = "logits";
  op.weight = "token_embd.weight";
  EXPECT_TRUE(lm->applies_to_op(op));
  auto proj = parse_route_override("per_layer_model_proj=ws", error);
  op.result = "ple.proj";
  op.weight = "per_layer_model_proj.weight";
  EXPECT_TRUE(proj->applies_to_op(op));
  EXPECT_FALSE(down->applies_to_op(op));
}

// What `g4run tune` writes, `g4c compile --tuning` reads back entry for entry; comments (which
// may hold any text) stay comments.
TEST(TuningFile, WrittenTablesReadBackTheSame) {
  TuningTable table;
  table.target = "sm_90";
  table.device = "NVIDIA \"H200\" \\ test";
  table.comment = "two lines\nof [tuning] text";
  table.entries = {
      {QuantType::Q4_K, 4096, 3840, 1, Route::mmq, {}, 12.345678, "ws 15.00 us, mmq 12.35 us\nroute = \"ws\""},
      {QuantType::Q6_K, 262144, 3840, 32, Route::gemm_n, {}, 1000, ""},
      {QuantType::F32, 2560, 256, 8, Route::cublas, {}, 0, "no measurement"},
  };
  const std::string path = ::testing::TempDir() + "/g4c-tuning-roundtrip.toml";
  std::ofstream(path) << format_tuning_file(table);
  DiagnosticEngine diag;
  auto read = load_tuning_file(path, diag);
  ASSERT_TRUE(read) << diag.diagnostics().size() << " errors";
  EXPECT_EQ(read->target, "sm_90");
  EXPECT_EQ(read->device, table.device);
  ASSERT_EQ(read->entries.size(), table.entries.size());
  for (size_t i = 0; i < table.entries.size(); ++i) {
    const TuningEntry &want = table.entries[i], &got = read->entries[i];
    EXPECT_EQ(got.type, want.type) << i;
    EXPECT_EQ(got.rows, want.rows) << i;
    EXPECT_EQ(got.cols, want.cols) << i;
    EXPECT_EQ(got.width, want.width) << i;
    EXPECT_EQ(got.route, want.route) << i;
    EXPECT_NEAR(got.median_us, want.median_us, 0.005) << i;  // written to 0.01 µs
  }
  EXPECT_EQ(read->find(QuantType::Q6_K, 262144, 3840, 32)->route, Route::gemm_n);
  EXPECT_EQ(read->find(QuantType::Q6_K, 262144, 3840, 8), nullptr);
}

// g4run warns when a plan's routes were tuned on another card than the one it runs on.
TEST(TuningFile, SaysWhenTheRoutesWereMeasuredOnAnotherCard) {
  TuningTable table;
  table.path = "tuning/h200.toml";
  table.device = "NVIDIA H200";
  EXPECT_EQ(table.measured_elsewhere("NVIDIA H200"), "");
  EXPECT_EQ(table.measured_elsewhere(""), "");
  EXPECT_EQ(table.measured_elsewhere("NVIDIA H100 80GB HBM3"),
            "the plan's routes were tuned on NVIDIA H200 (\"tuning/h200.toml\"), this is NVIDIA H100 80GB HBM3: run "
            "g4run tune on this card and compile with its file for routes measured here");
  table.device.clear();
  EXPECT_EQ(table.measured_elsewhere("NVIDIA H100 80GB HBM3"), "");
}

}  // namespace
}  // namespace g4c
