// Every kernel instance of every shipped model's plan, at widths 1, 2, 4, 5, 8, 16, 32 and under
// every route policy, compiles to an sm_90 cubin with NVRTC. Needs no GPU.
#include <gtest/gtest.h>

#include <set>

#include "compile_helpers.h"
#include "jit_test_support.h"
#include "g4c/runtime/jit.h"

namespace g4c {
namespace {

TEST(AllPlans, EveryKernelInstanceCompilesForSm90) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  int plans = 0;
  for (const std::string& model : testing::shipped_model_files()) {
    for (RoutePolicy policy : {RoutePolicy::default_rules, RoutePolicy::all_cublas}) {
      RouteOptions routes;
      routes.policy = policy;
      plan::Plan plan = testing::compile_shipped(model, {1, 2, 4, 5, 8, 16, 32}, routes);
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

}  // namespace
}  // namespace g4c
