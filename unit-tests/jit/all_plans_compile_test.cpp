// Every kernel instance of every shipped model's plan, at widths 1, 2, 4, 5, 8, 16, 32 and under
// every route policy, compiles to an sm_90 cubin with NVRTC. Needs no GPU.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <utility>

#include "compile_helpers.h"
#include "jit_test_support.h"
#include "g4c/kernels/injected_bugs.h"
#include "g4c/runtime/jit.h"

namespace g4c {
namespace {

TEST(AllPlans, EveryKernelInstanceCompilesForSm90) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  int plans = 0;
  for (const std::string& model : testing::shipped_model_files()) {
    // The opt-in fusions' instances too (attention-combine, geglu-epilogue), at the default routes.
    for (auto [policy, fusions] : {std::pair{RoutePolicy::default_rules, FusionOptions::all()},
                                   std::pair{RoutePolicy::all_cublas, FusionOptions::all()},
                                   std::pair{RoutePolicy::default_rules, FusionOptions::known()}}) {
      RouteOptions routes;
      routes.policy = policy;
      plan::Plan plan = testing::compile_shipped(model, {1, 2, 4, 5, 8, 16, 32}, routes, 0, 1, fusions);
      ++plans;
      for (JitRequest& r : jit_requests(plan))
        if (seen.insert(r.instance.key()).second) {
          r.used_by = model + " " + r.used_by;
          requests.push_back(std::move(r));
        }
    }
  }
  testing::expect_compiles_for_sm90(
      requests, "kernel instances from " + std::to_string(plans) + " plans compiled to sm_90 cubins");
}

// The bug-injection hooks of the kernels (kernels/include/g4c/kernels/injected_bugs.h) compile
// under each bug the GPU mutation runs inject: every family with a hook, on every matmul route.
TEST(AllPlans, KernelsCompileWithEveryInjectedBug) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  for (const char* force : {"*=ws", "*=mmq", "*=gemm_n", "*=cublas", "attn_q=mma16"}) {
    RouteOptions routes;
    std::string error;
    routes.overrides.push_back(*parse_route_override(force, error));
    for (const char* model : {"synthetic/quant-q4_k.toml", "synthetic/pairing-12b-tiny.toml"}) {
      if (std::string(model).find("pairing") != std::string::npos && std::string(force) != "*=ws") continue;
      for (JitRequest& r : jit_requests(testing::compile_shipped(model, {1, 8}, routes)))
        if (seen.insert(r.instance.key()).second) requests.push_back(std::move(r));
    }
  }
  // ticket_left_set's hook is in the last-block fusions' kernels, which only opt-in plans list.
  for (JitRequest& r : jit_requests(testing::compile_shipped("synthetic/quant-q4_k.toml", {1, 8}, {}, 0, 1,
                                                             FusionOptions::known())))
    if (seen.insert(r.instance.key()).second) requests.push_back(std::move(r));
  for (int bug = 1; bug < kInjectedBugCount; ++bug)
    testing::expect_compiles_for_sm90(requests, "kernel instances with bug " + std::to_string(bug),
                                      {"G4C_INJECTED_BUG=" + std::to_string(bug)});
}

// `g4run --early-launch` builds every kernel with G4C_EARLY_LAUNCH (kernels/launch_order.cuh): the
// default plans' kernels, mma16's and mma16h's included, compile so.
TEST(AllPlans, KernelsCompileWithEarlyLaunch) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  for (const char* model : {"gemma4-12b.toml", "synthetic/quant-q4_k.toml"})
    for (JitRequest& r : jit_requests(testing::compile_shipped(model, {1, 8, 32})))
      if (seen.insert(r.instance.key()).second) requests.push_back(std::move(r));
  testing::expect_compiles_for_sm90(requests, "kernel instances with early launch", {"G4C_EARLY_LAUNCH"});
  // The define reaches the kernels: the same program compiles to another cubin (the trigger).
  const std::vector<JitRequest> one(requests.begin(), requests.begin() + 1);
  const auto cubin = [&](std::vector<std::string> defines) {
    JitOptions options;
    options.cache_dir = G4C_TEST_KERNEL_CACHE;
    options.defines = std::move(defines);
    JitStats stats;
    DiagnosticEngine diag;
    auto programs = jit_compile(one, options, stats, diag);
    return programs && !programs->empty() ? (*programs)[0].cubin : std::vector<char>{};
  };
  const std::vector<char> plain = cubin({}), early = cubin({"G4C_EARLY_LAUNCH"});
  EXPECT_FALSE(plain.empty());
  EXPECT_NE(plain, early) << one[0].instance.key() << " compiled the same with G4C_EARLY_LAUNCH";
}

// `g4c compile --attention-split`: the 12B's partial instances (sliding 2:1; global 16:1 over a
// v_only cache and over K and V) with `split = mma` compile, to other cubins than the CUDA-core
// split's instances of the same ops.
TEST(AllPlans, AttentionCompilesOnTheTensorCores) {
  const auto partials = [](plan::AttentionSplit split) {
    std::map<std::string, JitRequest> by_op;  // by storage and the first op using each instance
    for (plan::KvStorage storage : {plan::KvStorage::v_only, plan::KvStorage::separate})
      for (JitRequest& r : jit_requests(testing::compile_shipped("gemma4-12b.toml", {1, 8}, {}, 0, 1,
                                                                FusionOptions::all(), storage, split)))
        if (r.instance.family == "attention.partial")
          by_op.try_emplace(std::string(plan::name(storage)) + " " + r.used_by, std::move(r));
    return by_op;
  };
  const std::map<std::string, JitRequest> mma = partials(plan::AttentionSplit::tensor_cores),
                                          plain = partials(plan::AttentionSplit::cuda_cores);
  std::set<std::string> instances;
  for (const auto& [op, r] : mma) {
    EXPECT_EQ(r.instance.key().find("split = mma") != std::string::npos, true) << r.instance.key();
    instances.insert(r.instance.key());
  }
  ASSERT_EQ(instances.size(), 3u);  // the sliding layers', the global layers' v_only and separate
  const auto cubin = [&](const JitRequest& request) {
    JitOptions options;
    options.cache_dir = G4C_TEST_KERNEL_CACHE;
    JitStats stats;
    DiagnosticEngine diag;
    auto programs = jit_compile(std::span(&request, 1), options, stats, diag);
    EXPECT_TRUE(programs && !programs->empty()) << request.instance.key();
    return programs && !programs->empty() ? (*programs)[0].cubin : std::vector<char>{};
  };
  std::set<std::string> compared;
  for (const auto& [op, r] : mma) {
    if (!compared.insert(r.instance.key()).second) continue;
    const std::vector<char> tensor_cores = cubin(r);
    EXPECT_FALSE(tensor_cores.empty()) << r.instance.key();
    EXPECT_NE(tensor_cores, cubin(plain.at(op))) << r.instance.key() << " compiled as its CUDA-core instance";
  }
}

}  // namespace
}  // namespace g4c
