// Checking a matmul route's output against the CPU op (cpu::matmul): the reference on a subset of
// output rows, the error measures and each route's bound. Shared by the GPU matmul tests and
// `g4run tune`, which admits a route for a shape only when its output passes the same check.
//
// Bounds, per route (δ = got − reference; the scales are floored at the size a dot product of
// these inputs has before cancellation, max_j Σ_k |W[j][k]·x[k]| / √cols, so that a tiny output
// set whose values happen to cancel is not held to a bound meant for typical ones):
//   ws      f32 products and sums:            max |δ| ≤ 1e-4 · max |reference|
//   gemm_n, mma16h  fp16 weights and activations: max |δ| ≤ 5e-3 · max |reference|
//   cublas  F32 (SGEMM): 1e-4; fp16 copies (F16, quantized): 5e-3; BF16 activations: 1e-2 (8-bit
//           significands) · max |reference|
//   mmq, mma16  int8 activations (q8_1): uniform inputs rounded to 8 bits per 32 values err by ≈0.38%
//           of the output RMS (d / √12 against σx = 1 / √3), so RMS(δ) ≤ 0.6% of the reference's
//           RMS over 256 or more outputs, and |δ| ≤ 3% of it for every element (8σ: the 5σ of a
//           million outputs and room).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/runtime/weights.h"

namespace g4c {

// `count` output rows spread evenly over `rows` (offset a little so they hit every row phase),
// the last row always among them; every row when count ≥ rows.
std::vector<int64_t> spread_rows(int64_t rows, int64_t count);

// Rows `rows_subset` of w times `width` rows of x (width × cols), on all cores: width × subset
// outputs, row-major.
std::vector<float> cpu_matmul_rows(const HostTensor& w, const std::vector<float>& x, int width,
                                   const std::vector<int64_t>& rows_subset);

// cpu::matmul's result on rows `rows_subset` of w, and per output the floor of the scales above.
struct MatmulReference {
  std::vector<int64_t> rows;
  std::vector<float> values, magnitudes;  // width × rows.size()
};
MatmulReference cpu_matmul_reference(const HostTensor& w, const std::vector<float>& x, int width,
                                     const std::vector<int64_t>& rows_subset);

// x as mmq sees it: each 32 values rounded to d·q with d = fp16(max|x| / 127), q = round(x / d).
std::vector<float> q8_1_activations(const std::vector<float>& x);

struct MatmulErrors {
  double max_abs = 0, max_ref = 0;  // max |δ|, max |reference| (floored)
  double rms_err = 0, rms_ref = 0;  // RMS(δ), RMS(reference) (floored)
  int64_t count = 0;
  // An output or reference value was NaN or infinite (outputs start poisoned, so NaN also means
  // never written); the maxima above skip nothing, but only this flag is sure to catch it.
  bool nonfinite = false;
  bool size_mismatch = false;  // got or the reference is shorter than the width and rows say
  bool comparable() const { return !nonfinite && !size_mismatch; }
};

// Over the first `width` rows of got (rows of got_row_len outputs) at the reference's rows, against
// the first `width` rows of the reference (which may have been computed for more).
MatmulErrors measure_matmul_errors(const std::vector<float>& got, const MatmulReference& want, int width,
                                   int64_t got_row_len);

// The element-wise tolerance of a route, a fraction of max |reference|; 0 for mmq, which is
// bounded against the RMS instead.
double route_element_tolerance(plan::Route route, QuantType type);

// The route's bound as ratios of error to bound: the output passes when both are ≤ 1 and every
// output and reference value is finite. `overall` is 0 for routes bounded element-wise only.
struct RouteErrorRatios {
  double element = 0, overall = 0;
  std::string element_bound, overall_bound;  // "max |δ| / 5e-3 max |ref|", for logs
  bool passes(const MatmulErrors& e) const { return element <= 1 && overall <= 1 && e.comparable(); }
};
RouteErrorRatios route_error_ratios(plan::Route route, QuantType type, const MatmulErrors& e);

}  // namespace g4c
