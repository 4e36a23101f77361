// Every numeric comparison the oracles use fails closed: an output that is all NaN, half NaN, holds
// an infinity, or has the wrong size fails each helper, wherever the NaN sits; and NaN in the
// reference fails as well. (The oracles themselves against known bugs: unit-tests/mutation/.)
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "g4c/runtime/matmul_check.h"
#include "logit_agreement.h"
#include "numeric_compare.h"
#include "runtime_helpers.h"

namespace g4c {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> reference(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
  return v;
}

// Outputs that must fail against reference(n): all NaN, NaN in the second half, one NaN at the
// end, one infinity, one element short, one too many.
std::vector<std::pair<std::string, std::vector<float>>> broken_outputs(size_t n) {
  const std::vector<float> good = reference(n);
  std::vector<std::pair<std::string, std::vector<float>>> out;
  out.push_back({"all NaN", std::vector<float>(n, kNaN)});
  std::vector<float> half = good;
  for (size_t i = n / 2; i < n; ++i) half[i] = kNaN;
  out.push_back({"half NaN", half});
  std::vector<float> last = good;
  last.back() = kNaN;
  out.push_back({"last NaN", last});
  std::vector<float> inf = good;
  inf[n / 3] = kInf;
  out.push_back({"one infinity", inf});
  out.push_back({"one short", std::vector<float>(good.begin(), good.end() - 1)});
  std::vector<float> longer = good;
  longer.push_back(0.0f);
  out.push_back({"one too many", longer});
  return out;
}

TEST(NumericCompare, DeviationOfBrokenOutputsIsInfiniteAndNamesThePosition) {
  const std::vector<float> want = reference(64);
  EXPECT_EQ(testing::deviation(want, want).relative(), 0.0);
  for (const auto& [what, got] : broken_outputs(64)) {
    const testing::Deviation d = testing::deviation(got, want);
    EXPECT_FALSE(d.comparable()) << what;
    EXPECT_TRUE(std::isinf(d.relative())) << what;
    EXPECT_TRUE(std::isinf(d.absolute())) << what;
    EXPECT_FALSE(testing::within_relative(got, want, 1e30)) << what;
  }
  std::vector<float> half = want;
  half[40] = kNaN;
  EXPECT_EQ(testing::deviation(half, want).describe(), "non-finite output at element 40");
  EXPECT_EQ(testing::deviation(want, half).describe(), "non-finite reference at element 40");
  EXPECT_TRUE(std::isinf(testing::deviation(want, half).relative()));
}

TEST(NumericCompare, RelativeErrorAndArgmaxOfTheRuntimeTestsFailOnNaN) {
  const std::vector<float> f = reference(32);
  const std::vector<double> want(f.begin(), f.end());
  for (const auto& [what, broken] : broken_outputs(32)) {
    const std::vector<double> got(broken.begin(), broken.end());
    EXPECT_TRUE(std::isinf(testing::relative_error(got, want))) << what;
  }
  std::vector<double> all_nan(32, std::nan("")), half = want;
  for (size_t i = 16; i < 32; ++i) half[i] = std::nan("");
  EXPECT_NONFATAL_FAILURE(testing::argmax(all_nan), "non-finite element");
  EXPECT_NONFATAL_FAILURE(testing::argmax(half), "at 16");
}

TEST(NumericCompare, WorstDeviationFailsTheTestOnNaN) {
  const std::vector<float> want = reference(16);
  testing::WorstDeviation worst;
  worst.add(testing::deviation(want, want), "position 0");
  worst.add(testing::deviation(std::vector<float>(16, kNaN), want), "position 1");
  worst.add(testing::deviation(want, want), "position 2");
  EXPECT_NONFATAL_FAILURE(worst.expect_within(1e30, "a run"), "position 1: non-finite output at element 0");
}

TEST(NumericCompare, LogitAgreementFailsEveryCheckOnNaN) {
  const std::vector<float> want = reference(300);
  const testing::Agreement same = testing::agree(want, want, 1e-4);
  EXPECT_TRUE(same.ranking_holds());
  EXPECT_EQ(same.relative(), 0.0);
  for (const auto& [what, got] : broken_outputs(300)) {
    const testing::Agreement a = testing::agree(got, want, 0.25);
    EXPECT_TRUE(std::isinf(a.relative())) << what;
    EXPECT_FALSE(a.ranking_holds()) << what;
    EXPECT_FALSE(testing::agree(want, got, 0.25).ranking_holds()) << what << " as the reference";
  }
}

// The matmul check of the GPU tests and g4run tune: every route's bound fails on NaN outputs or a
// NaN reference, and on outputs shorter than the width and rows say.
TEST(NumericCompare, MatmulCheckFailsEveryRouteOnNaN) {
  const int width = 2;
  const int64_t rows = 8;
  MatmulReference want;
  for (int64_t j = 0; j < rows; ++j) want.rows.push_back(j);
  want.values = reference(width * rows);
  want.magnitudes.assign(want.values.size(), 1.0f);
  std::vector<float> good(width * rows);
  for (int n = 0; n < width; ++n)
    for (int64_t j = 0; j < rows; ++j) good[n * rows + j] = want.values[n * rows + j];
  for (plan::Route route : {plan::Route::ws, plan::Route::mmq, plan::Route::gemm_n, plan::Route::cublas}) {
    const MatmulErrors clean = measure_matmul_errors(good, want, width, rows);
    EXPECT_TRUE(route_error_ratios(route, QuantType::Q4_K, clean).passes(clean)) << name(route);
    for (const auto& [what, got] : broken_outputs(width * rows)) {
      if (got.size() > good.size()) continue;  // extra outputs past the compared rows are not read
      const MatmulErrors e = measure_matmul_errors(got, want, width, rows);
      EXPECT_FALSE(e.comparable()) << name(route) << ": " << what;
      EXPECT_FALSE(route_error_ratios(route, QuantType::Q4_K, e).passes(e)) << name(route) << ": " << what;
    }
    // One reference of every width serves the narrower ones: its first rows are theirs.
    const MatmulErrors narrower = measure_matmul_errors(std::vector<float>(good.begin(), good.begin() + rows), want, 1, rows);
    EXPECT_TRUE(route_error_ratios(route, QuantType::Q4_K, narrower).passes(narrower)) << name(route) << ": width 1";
    MatmulReference short_reference = want;
    short_reference.values.resize(rows);
    short_reference.magnitudes.resize(rows);
    EXPECT_FALSE(measure_matmul_errors(good, short_reference, width, rows).comparable()) << "a reference of width 1";
    MatmulReference nan_reference = want;
    nan_reference.values[3] = kNaN;
    const MatmulErrors e = measure_matmul_errors(good, nan_reference, width, rows);
    EXPECT_FALSE(route_error_ratios(route, QuantType::Q4_K, e).passes(e)) << name(route) << ": NaN reference";
  }
}

}  // namespace
}  // namespace g4c
