#include "g4c/runtime/matmul_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <thread>

#include "g4c/kernels/quant_host.h"
#include "g4c/runtime/cpu_ops.h"

namespace g4c {

using plan::Route;

std::vector<int64_t> spread_rows(int64_t rows, int64_t count) {
  std::vector<int64_t> out;
  if (count >= rows) {
    for (int64_t j = 0; j < rows; ++j) out.push_back(j);
    return out;
  }
  for (int64_t i = 0; i < count; ++i) out.push_back(std::min(rows - 1, i * rows / count + (i * 7919) % 17));
  out.back() = rows - 1;
  return out;
}

std::vector<float> cpu_matmul_rows(const HostTensor& w, const std::vector<float>& x, int width,
                                   const std::vector<int64_t>& rows_subset) {
  const int64_t rows = static_cast<int64_t>(rows_subset.size());
  std::vector<uint8_t> picked(rows * w.row_stride());
  for (int64_t j = 0; j < rows; ++j) std::memcpy(picked.data() + j * w.row_stride(), w.row(rows_subset[j]), w.row_stride());
  std::vector<float> y(static_cast<size_t>(width) * rows);
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(std::thread::hardware_concurrency(), rows / 64));
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      const int64_t first = rows * t / threads, last = rows * (t + 1) / threads;
      HostTensor part{"w", w.type, w.ne0, last - first,
                      std::span<const uint8_t>(picked.data() + first * w.row_stride(), (last - first) * w.row_stride())};
      std::vector<float> partial(static_cast<size_t>(width) * (last - first));
      cpu::matmul(part, x.data(), partial.data(), width);
      for (int n = 0; n < width; ++n)
        std::copy_n(partial.data() + n * (last - first), last - first, y.data() + n * rows + first);
    });
  for (std::thread& t : pool) t.join();
  return y;
}

MatmulReference cpu_matmul_reference(const HostTensor& w, const std::vector<float>& x, int width,
                                     const std::vector<int64_t>& rows_subset) {
  MatmulReference r{rows_subset, cpu_matmul_rows(w, x, width, rows_subset), {}};
  const int64_t rows = static_cast<int64_t>(rows_subset.size());
  std::vector<float> magnitude_rows(rows * w.ne0);
  for (int64_t j = 0; j < rows; ++j) {
    dequantize_tensor_row(w, rows_subset[j], magnitude_rows.data() + j * w.ne0);
    for (int64_t k = 0; k < w.ne0; ++k) magnitude_rows[j * w.ne0 + k] = std::abs(magnitude_rows[j * w.ne0 + k]);
  }
  const HostTensor magnitude{"|w|", QuantType::F32, w.ne0, rows,
                             std::span(reinterpret_cast<const uint8_t*>(magnitude_rows.data()), magnitude_rows.size() * 4)};
  std::vector<float> abs_x(x.size());
  for (size_t i = 0; i < x.size(); ++i) abs_x[i] = std::abs(x[i]);
  r.magnitudes = cpu_matmul_rows(magnitude, abs_x, width, spread_rows(rows, rows));
  for (float& m : r.magnitudes) m /= static_cast<float>(std::sqrt(static_cast<double>(w.ne0)));
  return r;
}

std::vector<float> q8_1_activations(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0;
    for (size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::abs(x[i]));
    const float d = fp16_to_float(float_to_fp16(amax / 127.0f));
    const float inverse = d > 0 ? 1.0f / d : 0.0f;
    for (size_t i = b; i < b + 32; ++i)
      out[i] = d * std::clamp(static_cast<float>(std::nearbyint(x[i] * inverse)), -127.0f, 127.0f);
  }
  return out;
}

MatmulErrors measure_matmul_errors(const std::vector<float>& got, const MatmulReference& want, int width,
                                   int64_t got_row_len) {
  MatmulErrors e;
  const int64_t cols = static_cast<int64_t>(want.rows.size());
  const size_t outputs = static_cast<size_t>(width) * cols;
  int64_t last_row = 0;
  for (int64_t r : want.rows) last_row = std::max(last_row, r);
  // The reference may cover more rows of x than are compared (one reference serves every width).
  if (cols == 0 || want.values.size() < outputs || want.magnitudes.size() < outputs ||
      got.size() < static_cast<size_t>((width - 1) * got_row_len + last_row + 1)) {
    e.size_mismatch = true;
    e.max_abs = e.rms_err = INFINITY;
    return e;
  }
  double sum_err = 0, sum_ref = 0, sum_floor = 0, max_floor = 0;
  for (int n = 0; n < width; ++n)
    for (int64_t j = 0; j < cols; ++j) {
      const double g = got[n * got_row_len + want.rows[j]], w = want.values[n * cols + j];
      const double floor = want.magnitudes[n * cols + j];
      if (!std::isfinite(g) || !std::isfinite(w) || !std::isfinite(floor)) e.nonfinite = true;
      e.max_abs = std::max(e.max_abs, std::abs(g - w));
      e.max_ref = std::max(e.max_ref, std::abs(w));
      max_floor = std::max(max_floor, floor);
      sum_err += (g - w) * (g - w);
      sum_ref += w * w;
      sum_floor += floor * floor;
    }
  e.count = width * cols;
  e.rms_err = std::sqrt(sum_err / e.count);
  if (e.nonfinite) e.max_abs = e.rms_err = INFINITY;  // every ratio built on them fails
  e.rms_ref = std::max(std::sqrt(sum_ref / e.count), std::sqrt(sum_floor / e.count));
  e.max_ref = std::max(e.max_ref, max_floor);
  return e;
}

double route_element_tolerance(Route route, QuantType type) {
  switch (route) {
    case Route::ws:
      return 1e-4;
    case Route::gemm_n:
    case Route::mma16h:
      return 5e-3;
    case Route::cublas:
      return type == QuantType::F32 ? 1e-4 : type == QuantType::BF16 ? 1e-2 : 5e-3;
    case Route::mmq:
    case Route::mma16:
      return 0;  // bounded against the RMS, see route_error_ratios
  }
  return 0;
}

RouteErrorRatios route_error_ratios(Route route, QuantType type, const MatmulErrors& e) {
  RouteErrorRatios r;
  if (route == Route::mmq || route == Route::mma16) {
    r.element = e.max_abs / (0.03 * e.rms_ref);
    r.overall = e.count >= 256 ? e.rms_err / (0.006 * e.rms_ref) : 0.0;
    r.element_bound = "max |δ| / 3% RMS", r.overall_bound = "RMS δ / 0.6% RMS";
    return r;
  }
  const double tolerance = route_element_tolerance(route, type);
  char bound[64];
  std::snprintf(bound, sizeof bound, "max |δ| / %g max |ref|", tolerance);
  r.element = e.max_abs / (tolerance * e.max_ref);
  r.element_bound = bound;
  return r;
}

}  // namespace g4c
