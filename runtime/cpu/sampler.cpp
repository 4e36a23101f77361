#include "g4c/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "g4c/kernels/random_blocks.h"

namespace g4c {

std::string check_sampling_options(const SamplingOptions& o) {
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) return "--temperature: expected a number >= 0";
  if (o.top_k < 0) return "--top-k: expected a number of tokens >= 0 (0: all)";
  if (!(o.top_p > 0 && o.top_p <= 1)) return "--top-p: expected a probability mass in (0, 1]";
  return "";
}

namespace {

int32_t first_largest(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// A uniform double in [0, 1) from (seed, sequence, position).
double uniform(uint64_t seed, uint64_t sequence, int64_t position) {
  const uint64_t bits = mix64(mix64(seed ^ mix64(sequence + 0x9e3779b97f4a7c15ull)) ^ static_cast<uint64_t>(position));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace

int32_t sample_token(std::span<const float> logits, const SamplingOptions& o, uint64_t sequence, int64_t position) {
  if (o.greedy() || logits.size() < 2) return first_largest(logits);
  // Candidates by falling logit (ties by index), cut to the top k.
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  const auto before = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  const size_t k = o.top_k > 0 ? std::min<size_t>(static_cast<size_t>(o.top_k), order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
  order.resize(k);
  // Softmax at the temperature, in double.
  std::vector<double> p(k);
  const double top = logits[order[0]];
  double sum = 0;
  for (size_t i = 0; i < k; ++i) sum += p[i] = std::exp((logits[order[i]] - top) / o.temperature);
  // The smallest prefix whose mass reaches top_p.
  size_t keep = k;
  if (o.top_p < 1) {
    double mass = 0;
    for (keep = 0; keep < k;) {
      mass += p[keep++] / sum;
      if (mass >= o.top_p) break;
    }
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += p[i];
  double u = uniform(o.seed, sequence, position) * kept;
  for (size_t i = 0; i < keep; ++i) {
    if (u < p[i]) return order[i];
    u -= p[i];
  }
  return order[keep - 1];
}

}  // namespace g4c
