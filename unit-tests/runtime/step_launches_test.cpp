// The step as data (runtime/gpu/step_launches.cpp), built in symbolic memory without a device:
// what the executor launches is what the plan's kernel list says, op by op, and its geometry
// follows the device description it is given.
#include <gtest/gtest.h>

#include <variant>

#include "compile_helpers.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/gpu/step_launches.h"

namespace g4c {
namespace {

constexpr gpu::DeviceLimits kHopper{132, 232448};

gpu::SymbolicStep symbolic(const plan::Plan& plan, int64_t width, gpu::DeviceLimits limits = kHopper) {
  DiagnosticEngine diag;
  std::optional<gpu::SymbolicStep> step = gpu::symbolic_step_launches(plan, width, limits, diag);
  EXPECT_TRUE(step) << plan.header.name << " at width " << width;
  return step.value_or(gpu::SymbolicStep{});
}

// Each op's kernel records name the plan's per-step instances for it, in order; the step as a
// whole makes the plan's launch count.
void expect_launches_match_plan(const plan::Plan& plan, int64_t width) {
  SCOPED_TRACE(plan.header.name + " at width " + std::to_string(width));
  const gpu::SymbolicStep s = symbolic(plan, width);
  EXPECT_EQ(s.step.kernel_launches(), plan::launches_per_step(plan, width));
  for (const gpu::OpLaunches& l : s.step.ops) {
    SCOPED_TRACE("%" + l.op->result);
    std::vector<std::string> expected, launched;
    for (const plan::KernelInstance& k : plan::kernels_for(plan, *l.op, width))
      if (!plan::runs_at_load(k.family)) expected.push_back(k.key());
    int64_t kernel_launches = 0;
    for (const gpu::LaunchRecord& r : l.records) {
      kernel_launches += gpu::kernel_launches(r);
      const auto* k = std::get_if<gpu::KernelLaunch>(&r);
      if (!k) continue;
      launched.push_back(s.kernel_key(k->kernel));
      EXPECT_GE(k->dims.grid.x * k->dims.grid.y * k->dims.grid.z, 1u);
      const unsigned threads = k->dims.block.x * k->dims.block.y * k->dims.block.z;
      EXPECT_TRUE(threads >= 32 && threads <= 1024 && threads % 32 == 0) << threads;
      EXPECT_LE(k->dims.shared_bytes, static_cast<unsigned>(kHopper.max_shared_bytes));
      EXPECT_FALSE(k->args.empty());
    }
    EXPECT_EQ(launched, expected);
    if (l.op->kind != plan::OpKind::input) EXPECT_EQ(kernel_launches, plan::launches_per_step(plan, *l.op, width));
  }
}

TEST(StepLaunches, EveryShippedPlanLaunchesWhatItsKernelListSays) {
  for (const std::string& model : testing::shipped_models()) {
    const plan::Plan plan = testing::compile_shipped(model, {1, 8, 32});
    for (int64_t width : {1, 8, 32}) expect_launches_match_plan(plan, width);
  }
}

TEST(StepLaunches, EveryRouteLaunchesWhatItsKernelListSays) {
  for (const RoutePolicy policy : {RoutePolicy::ws_only, RoutePolicy::no_mmq, RoutePolicy::no_mma16,
                                   RoutePolicy::all_cublas, RoutePolicy::no_mma16h}) {
    RouteOptions routes;
    routes.policy = policy;
    for (const char* model : {"synthetic/quant-q4_k.toml", "synthetic/quant-q8_0.toml", "synthetic/quant-f16.toml"}) {
      const plan::Plan plan = testing::compile_shipped(model, {1, 5, 16}, routes);
      for (int64_t width : {1, 5, 16}) expect_launches_match_plan(plan, width);
    }
  }
}

// The first record of an input op copies its rows from the staging buffer; the step knows where
// its inputs and outputs are.
TEST(StepLaunches, InputsAreCopiedFromStaging) {
  const plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 8});
  const gpu::SymbolicStep s = symbolic(plan, 8);
  ASSERT_GE(s.step.ops.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(s.step.ops[i].op->kind, plan::OpKind::input);
    const auto* copy = std::get_if<gpu::DeviceCopy>(&s.step.ops[i].records.at(0));
    ASSERT_TRUE(copy);
    EXPECT_EQ(copy->bytes, 8u * 4);
  }
  EXPECT_TRUE(s.step.tokens && s.step.positions && s.step.sequences && s.step.next && s.step.logits);
}

// The grid comes from the device description, never from the machine building it: the mma16 K
// split takes the widest split whose grid fits one wave of the SMs named.
TEST(StepLaunches, GeometryFollowsTheDeviceDescription) {
  const plan::Plan plan = testing::compile_shipped("gemma4-12b.toml", {1});
  auto qk_grid = [&](int sm_count) {
    const gpu::SymbolicStep s = symbolic(plan, 1, {sm_count, kHopper.max_shared_bytes});
    for (const gpu::OpLaunches& l : s.step.ops)
      if (l.op->result == "l0.q") return std::get<gpu::KernelLaunch>(l.records.back()).dims;
    return gpu::LaunchDims{};
  };
  // Q, K and V (layer 0's Q6_K V the group's last member), 512 tiles of 16 rows: four warps a
  // tile on 132 SMs, a warp a tile (a block per four tiles, no reduction in shared memory) where 16
  // SMs cannot hold them in one wave.
  EXPECT_EQ(qk_grid(132).grid.x, 512u);
  EXPECT_GT(qk_grid(132).shared_bytes, 0u);
  EXPECT_EQ(qk_grid(16).grid.x, 128u);
  EXPECT_EQ(qk_grid(16).shared_bytes, 0u);
}

TEST(StepLaunches, AnIncompletePlanIsRefused) {
  plan::Plan plan = testing::compile_shipped("synthetic/pairing-12b-tiny.toml", {1});
  plan.buffers.reset();
  DiagnosticEngine diag;
  EXPECT_FALSE(gpu::symbolic_step_launches(plan, 1, kHopper, diag));
  ASSERT_EQ(diag.diagnostics().size(), 1u);
  EXPECT_NE(diag.diagnostics()[0].message.find("plan is incomplete"), std::string::npos);
}

}  // namespace
}  // namespace g4c
