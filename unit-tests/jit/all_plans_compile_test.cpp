// Every kernel instance of every shipped model's plan, at widths 1, 2, 4, 5, 8, 16, 32 and under
// every route policy, compiles to an sm_90 cubin with NVRTC. Needs no GPU.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "compile_helpers.h"
#include "g4c/runtime/jit.h"

namespace g4c {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_model_files() {
  std::vector<std::string> out;
  for (const char* dir : {"models", "models/synthetic"})
    for (const auto& e : fs::directory_iterator(std::string(G4C_SOURCE_DIR) + "/" + dir))
      if (e.path().extension() == ".toml") out.push_back(fs::relative(e.path(), std::string(G4C_SOURCE_DIR) + "/models"));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AllPlans, EveryKernelInstanceCompilesForSm90) {
  std::vector<JitRequest> requests;
  std::set<std::string> seen;
  int plans = 0;
  for (const std::string& model : shipped_model_files()) {
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
  JitOptions options;
  options.arch = "sm_90";
  options.cache_dir = G4C_TEST_KERNEL_CACHE;
  JitStats stats;
  DiagnosticEngine diag;
  auto programs = jit_compile(requests, options, stats, diag);
  ASSERT_TRUE(programs) << diag.diagnostics().at(0).message;
  std::map<std::string, int> per_family;
  for (const JitRequest& r : requests) ++per_family[r.instance.family];
  std::cout << "  " << stats.instances << " kernel instances from " << plans << " plans compiled to sm_90 cubins in "
            << stats.programs << " NVRTC programs (" << stats.cache_hits << " from the cache, "
            << stats.compile_seconds << " s)\n";
  for (const auto& [family, count] : per_family) std::cout << "    " << family << ": " << count << "\n";
  for (const CompiledProgram& p : *programs) {
    EXPECT_FALSE(p.cubin.empty()) << p.source;
    for (const std::string& name : p.lowered_names) EXPECT_FALSE(name.empty()) << p.source;
  }
}

}  // namespace
}  // namespace g4c
