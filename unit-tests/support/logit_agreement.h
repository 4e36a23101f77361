// Whether one run's logits agree with another's: every logit within a bound, and the ranking the
// bound can explain — the argmax equal or a provable near-tie, most of the top 5 shared. Used by
// the executor oracles (unit-tests/gpu/executor_test.cpp); fail-closed like numeric_compare.h.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

#include "numeric_compare.h"

namespace g4c::testing {

struct Agreement {
  Deviation deviation;
  bool argmax_equal = false, near_tie = false;
  int top5_shared = 0;       // of the reference's top 5, in the same top 5
  int top5_unexplained = 5;  // entries of the top 5 not in the reference's and not near-tied with its fifth
  double relative() const { return deviation.relative(); }
  // Every check of a ranking: the argmax equal or a provable near-tie, 4 of the top 5 shared or the
  // rest provably tied.
  bool ranking_holds() const { return (argmax_equal || near_tie) && (top5_shared >= 4 || top5_unexplained == 0); }
};

inline std::vector<size_t> top(const std::vector<float>& v, size_t k) {
  std::vector<size_t> index(v.size());
  std::iota(index.begin(), index.end(), 0);
  std::partial_sort(index.begin(), index.begin() + k, index.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
  index.resize(k);
  return index;
}

// Where every logit is within max_abs of its reference, two entries can trade places only if their
// reference values are within 2·max_abs: a swap of the argmax, or across the fifth place, that
// close is a provable near-tie. Random-weight logits over a 262144-token vocabulary have their top
// order statistics packed that close, so top-5 overlap counts swaps both with and without ties.
// The tie window is 2·min(max_abs, bound·max|want|): a run past its bound cannot widen it.
// Outputs that are not comparable (a NaN or infinity on either side, another size) fail every check.
inline Agreement agree(const std::vector<float>& got, const std::vector<float>& want, double bound) {
  Agreement a;
  a.deviation = deviation(got, want);
  if (!a.deviation.comparable() || want.size() < 5) return a;
  const std::vector<size_t> g = top(got, 5), w = top(want, 5);
  const double tie = 2 * std::min(a.deviation.max_abs, bound * a.deviation.max_ref);
  a.argmax_equal = g[0] == w[0];
  a.near_tie = want[w[0]] - want[g[0]] <= tie;
  a.top5_shared = a.top5_unexplained = 0;
  for (size_t i : g) {
    const bool shared = std::count(w.begin(), w.end(), i) > 0;
    a.top5_shared += shared;
    a.top5_unexplained += !shared && want[i] < want[w[4]] - tie;
  }
  return a;
}

}  // namespace g4c::testing
