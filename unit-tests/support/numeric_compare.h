// Fail-closed comparisons for every numeric oracle: an output is comparable with its reference only
// when both have the same size and every element of both is finite. Anything else — a NaN or an
// infinity on either side, a short or long output — makes the deviation infinite, so every bound
// fails, and the message names the position. No comparison here skips an element.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace g4c::testing {

// How far `got` is from `want`, element by element.
struct Deviation {
  size_t got_size = 0, want_size = 0;
  int64_t nonfinite_got = -1, nonfinite_want = -1;  // index of the first NaN/inf, or −1
  double max_abs = 0, max_ref = 0;                  // max |got − want|, max |want|
  size_t worst = 0;                                 // index of max |got − want|

  bool comparable() const { return got_size == want_size && nonfinite_got < 0 && nonfinite_want < 0; }
  // max |got − want| / max |want|; infinite when not comparable, or when want is all zeros and got is not.
  double relative() const {
    if (!comparable()) return std::numeric_limits<double>::infinity();
    if (max_ref > 0) return max_abs / max_ref;
    return max_abs > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  // max |got − want|; infinite when not comparable.
  double absolute() const { return comparable() ? max_abs : std::numeric_limits<double>::infinity(); }

  std::string describe() const {
    std::ostringstream os;
    if (got_size != want_size) os << "size " << got_size << " against a reference of " << want_size;
    else if (nonfinite_got >= 0) os << "non-finite output at element " << nonfinite_got;
    else if (nonfinite_want >= 0) os << "non-finite reference at element " << nonfinite_want;
    else os << "max |δ| " << max_abs << " at element " << worst << ", max |ref| " << max_ref;
    return os.str();
  }
};

template <class A, class B>
Deviation deviation(std::span<const A> got, std::span<const B> want) {
  Deviation d;
  d.got_size = got.size();
  d.want_size = want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!std::isfinite(static_cast<double>(got[i]))) {
      d.nonfinite_got = static_cast<int64_t>(i);
      break;
    }
  for (size_t i = 0; i < want.size(); ++i)
    if (!std::isfinite(static_cast<double>(want[i]))) {
      d.nonfinite_want = static_cast<int64_t>(i);
      break;
    }
  if (!d.comparable()) return d;
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (diff > d.max_abs) d.max_abs = diff, d.worst = i;
    d.max_ref = std::max(d.max_ref, std::abs(static_cast<double>(want[i])));
  }
  return d;
}

template <class A, class B>
Deviation deviation(const std::vector<A>& got, const std::vector<B>& want) {
  return deviation(std::span<const A>(got), std::span<const B>(want));
}

// Passes when got is comparable with want and max |δ| / max |want| ≤ bound.
template <class A, class B>
::testing::AssertionResult within_relative(const std::vector<A>& got, const std::vector<B>& want, double bound) {
  const Deviation d = deviation(got, want);
  if (d.relative() <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "relative deviation " << d.relative() << " > " << bound << " ("
                                       << d.describe() << ")";
}

// Records an oracle's measure as a multiple of its bound in the test's output (the
// bound_ratio property of --gtest_output), where the mutation table reads it.
inline void record_bound_ratio(double measured, double bound) {
  std::ostringstream os;
  os << (bound > 0 ? measured / bound : (measured > 0 ? std::numeric_limits<double>::infinity() : 0.0));
  ::testing::Test::RecordProperty("bound_ratio", os.str());
}

// The worst relative deviation over many compared outputs (a run's positions), with where it was.
struct WorstDeviation {
  double relative = 0;
  std::string where, what;

  void add(const Deviation& d, const std::string& at) {
    if (d.relative() > relative || (where.empty() && !d.comparable())) relative = d.relative(), where = at, what = d.describe();
  }
  // One failure naming the worst output when it passes the bound; records the ratio either way.
  void expect_within(double bound, const std::string& context) const {
    record_bound_ratio(relative, bound);
    EXPECT_LE(relative, bound) << context << ", " << where << ": " << what;
  }
};

// Fails the running test when any element is not finite (naming it) and returns the index of the
// first maximum: no NaN can win or lose an argmax comparison silently.
template <class T>
size_t checked_argmax(std::span<const T> v) {
  size_t best = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(static_cast<double>(v[i]))) {
      ADD_FAILURE() << "argmax over a non-finite element " << v[i] << " at " << i;
      return i;
    }
    if (v[i] > v[best]) best = i;
  }
  if (v.empty()) ADD_FAILURE() << "argmax of an empty vector";
  return best;
}

template <class T>
size_t checked_argmax(const std::vector<T>& v) {
  return checked_argmax(std::span<const T>(v));
}

}  // namespace g4c::testing
