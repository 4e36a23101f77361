// Overflow-checked integer arithmetic for sizes read from files (declarations, plans, GGUF): a
// product or sum that does not fit in int64 is reported, never wrapped.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

namespace g4c {

inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The product of all factors, or nullopt when any partial product overflows.
inline std::optional<int64_t> checked_product(std::initializer_list<int64_t> factors) {
  std::optional<int64_t> r = 1;
  for (int64_t f : factors)
    if (!(r = checked_mul(*r, f))) return std::nullopt;
  return r;
}

}  // namespace g4c
