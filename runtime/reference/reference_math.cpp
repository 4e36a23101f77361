#include <algorithm>
#include <cmath>

#include "g4c/runtime/reference_math.h"

namespace g4c::reference {

Vec rms_norm(const Vec& x, const Vec* weight, int64_t group, double eps) {
  Vec y(x.size());
  for (size_t start = 0; start < x.size(); start += group) {
    double ms = 0;
    for (int64_t i = 0; i < group; ++i) ms += x[start + i] * x[start + i];
    double inv = 1.0 / std::sqrt(ms / static_cast<double>(group) + eps);
    for (int64_t i = 0; i < group; ++i) y[start + i] = x[start + i] * inv * (weight ? (*weight)[i] : 1.0);
  }
  return y;
}

Vec rope(const Vec& x, int64_t head_dim, int64_t rotated_pairs, double theta, int64_t pos) {
  int64_t half = head_dim / 2;
  Vec y = x;
  for (size_t head = 0; head < x.size(); head += head_dim)
    for (int64_t i = 0; i < rotated_pairs; ++i) {
      double angle = static_cast<double>(pos) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      double a = x[head + i], b = x[head + i + half];
      y[head + i] = a * std::cos(angle) - b * std::sin(angle);
      y[head + i + half] = b * std::cos(angle) + a * std::sin(angle);
    }
  return y;
}

Vec attend(const Vec& q, int64_t q_heads, int64_t kv_heads, int64_t head_dim, int64_t pos, int64_t window,
           const std::function<const Vec&(int64_t)>& key, const std::function<const Vec&(int64_t)>& value) {
  int64_t first = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
  int64_t group = q_heads / kv_heads;
  Vec out(static_cast<size_t>(q_heads * head_dim), 0.0);
  std::vector<double> scores;
  for (int64_t h = 0; h < q_heads; ++h) {
    int64_t g = h / group;
    scores.clear();
    for (int64_t j = first; j <= pos; ++j) {
      const Vec& k = key(j);
      double s = 0;
      for (int64_t i = 0; i < head_dim; ++i) s += q[h * head_dim + i] * k[g * head_dim + i];
      scores.push_back(s);
    }
    double mx = *std::max_element(scores.begin(), scores.end());
    double total = 0;
    for (double& s : scores) total += (s = std::exp(s - mx));
    for (int64_t j = first; j <= pos; ++j) {
      const Vec& v = value(j);
      for (int64_t i = 0; i < head_dim; ++i) out[h * head_dim + i] += scores[j - first] / total * v[g * head_dim + i];
    }
  }
  return out;
}

Vec per_layer_input(const Vec& proj, const Vec& row, const Vec& norm, int64_t hidden, double eps) {
  int64_t P = static_cast<int64_t>(proj.size());
  Vec z(proj.size());
  for (int64_t i = 0; i < P; ++i) z[i] = proj[i] / std::sqrt(static_cast<double>(hidden));
  z = rms_norm(z, &norm, P, eps);
  for (int64_t i = 0; i < P; ++i) z[i] = (z[i] + row[i] * std::sqrt(static_cast<double>(P))) / std::sqrt(2.0);
  return z;
}

double gelu_tanh(double x) {
  constexpr double kSqrt2OverPi = 0.7978845608028654;
  return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
}

}  // namespace g4c::reference
