// `g4run tune`'s measurement (runtime/gpu/tune.h) on real shapes: every legal route of every matmul
// shape passes the CPU check and gets a time, the choice is the fastest under the documented
// tie-break, and the tuning table it writes routes a compiled plan exactly as measured.
#include <algorithm>
#include <map>
#include <set>

#include "compile_helpers.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/gpu/tune.h"
#include "gpu_support.h"

namespace g4c {
namespace {

using plan::Route;

class TuneTest : public testing::GpuTest {
 protected:
  std::vector<gpu::TuneResult> tune(const std::vector<gpu::MatmulShape>& shapes, std::vector<int64_t> widths) {
    gpu::TuneOptions options;
    options.widths = std::move(widths);
    options.repeats = 5;
    options.jit.arch = device().arch();
    options.jit.cache_dir = G4C_TEST_KERNEL_CACHE;
    DiagnosticEngine diag;
    auto results = gpu::tune_matmuls(shapes, options, diag);
    EXPECT_TRUE(results) << (diag.diagnostics().empty() ? "" : diag.diagnostics().front().message);
    return results.value_or(std::vector<gpu::TuneResult>{});
  }
};

// Q4_K (every route legal), the F32 PLE matrices of a per-layer-embedding model (ws and cublas
// only) and a Q8_0 model, at a matvec width, a tile width and a width past ws's one-pass capacity.
TEST_F(TuneTest, EveryLegalRoutePassesAndTheFastestIsChosen) {
  const plan::Plan q4k = testing::compile_shipped("synthetic/quant-q4_k.toml", {1, 8});
  const plan::Plan ple = testing::compile_shipped("synthetic/ple-shared-kv-tiny.toml", {1, 8});
  const plan::Plan q80 = testing::compile_shipped("synthetic/quant-q8_0.toml", {1, 8});
  const std::vector<gpu::MatmulShape> shapes = gpu::matmul_shapes({&q4k, &ple, &q80});
  std::set<QuantType> types;
  for (const gpu::MatmulShape& s : shapes) types.insert(s.type);
  EXPECT_TRUE(types.count(QuantType::Q4_K) && types.count(QuantType::F32) && types.count(QuantType::Q8_0));

  const std::vector<gpu::TuneResult> results = tune(shapes, {1, 8, 13});
  ASSERT_EQ(results.size(), shapes.size() * 3);
  // A shape takes mma16 (its weight repacked) at every width or at none: at every width when the
  // fastest mma16 times, summed over the widths, beat the fastest of the other routes.
  std::map<const gpu::MatmulShape*, std::pair<double, double>> sums;  // shape → (mma16, others)
  for (const gpu::TuneResult& r : results) {
    double repacked = INFINITY, plain = INFINITY;
    for (const gpu::TuneCandidate& c : r.candidates)
      (c.route == Route::mma16 ? repacked : plain) = std::min(c.route == Route::mma16 ? repacked : plain, c.median_us);
    sums[r.shape].first += repacked, sums[r.shape].second += plain;
  }
  for (const gpu::TuneResult& r : results) {
    SCOPED_TRACE(std::string(name(r.shape->type)) + " " + std::to_string(r.shape->rows) + "x" +
                 std::to_string(r.shape->cols) + " N=" + std::to_string(r.width));
    const std::vector<Route> legal = plan::legal_routes(r.shape->type, r.shape->rows, r.shape->cols);
    ASSERT_EQ(r.candidates.size(), legal.size());
    const bool repacked = sums[r.shape].first < sums[r.shape].second;
    const auto in_layout = [&](const gpu::TuneCandidate& c) { return (c.route == Route::mma16) == repacked; };
    double fastest = INFINITY;
    for (size_t i = 0; i < legal.size(); ++i) {
      const gpu::TuneCandidate& c = r.candidates[i];
      EXPECT_EQ(c.route, legal[i]);
      EXPECT_TRUE(c.admitted) << name(c.route) << ": " << c.rejected;
      EXPECT_GT(c.median_us, 0) << name(c.route);
      EXPECT_LE(c.error_ratio, 1.0) << name(c.route);
      if (in_layout(c)) fastest = std::min(fastest, c.median_us);
    }
    // The first route of the layout (in kAllRoutes order) within 2% of its fastest.
    auto first_tied = std::find_if(r.candidates.begin(), r.candidates.end(), [&](const gpu::TuneCandidate& c) {
      return in_layout(c) && c.median_us <= fastest * 1.02;
    });
    ASSERT_NE(first_tied, r.candidates.end());
    EXPECT_EQ(r.chosen, first_tied->route);
    EXPECT_EQ(r.chosen_us, first_tied->median_us);
    EXPECT_GT(r.bytes_read, 0);
  }
}

// The table routes every tuned (shape, width) of a plan compiled with it, and names the source.
TEST_F(TuneTest, ItsTableRoutesACompiledPlanAsMeasured) {
  const ModelSpec spec = testing::load_shipped("synthetic/quant-q4_k.toml");
  const plan::Plan untuned = testing::compile_spec(spec, {1, 4});
  const std::vector<gpu::MatmulShape> shapes = gpu::matmul_shapes({&untuned});
  const std::vector<gpu::TuneResult> results = tune(shapes, {1, 4});
  ASSERT_FALSE(results.empty());
  RouteOptions routes;
  routes.tuning = gpu::tuning_table(results, device().arch(), device().name, "test");
  const plan::Plan tuned = testing::compile_spec(spec, {1, 4}, routes);
  int checked = 0;
  for (const plan::Op* op : tuned.ops()) {
    if (op->kind != plan::OpKind::matmul) continue;
    const QuantType type = tuned.find_weight(op->weight)->type;
    // The tied embedding's matmul (the LM head) is gathered from too: it keeps GGUF's layout, so
    // an mma16 entry for it gives way to the rules.
    const bool gathered = op->weight == "token_embd.weight";
    for (const plan::RouteChoice& choice : *op->routes()) {
      const TuningEntry* e = routes.tuning->find(type, op->get_int("rows"), op->get_int("cols"), choice.width);
      ASSERT_NE(e, nullptr) << op->result << " N=" << choice.width;
      if (gathered && e->route == Route::mma16) {
        EXPECT_TRUE(choice.source.starts_with("rule ")) << op->result << ": " << choice.source;
        continue;
      }
      EXPECT_EQ(choice.route, e->route) << op->result << " N=" << choice.width;
      EXPECT_EQ(choice.source, "tuning") << op->result << " N=" << choice.width;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
  const std::string report = gpu::format_tune_report(results, 4000);
  EXPECT_NE(report.find("chosen"), std::string::npos);
  EXPECT_NE(report.find("copy bandwidth 4000 GB/s"), std::string::npos);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), static_cast<long>(results.size() + 2));
}

}  // namespace
}  // namespace g4c
