// Deterministic test rows for the quantization suites, built with integer arithmetic and exact
// float operations only, so every platform produces the same floats.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace g4c::quant_test {

// A 64-bit linear congruential generator (Knuth's MMIX constants) with a portable uniform draw.
class RowGenerator {
 public:
  explicit RowGenerator(uint64_t seed) : state_(seed) {}

  // Uniform in [−1, 1) with 24 random bits: exact in float.
  float symmetric_unit() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int32_t>(state_ >> 40) - (1 << 23)) * 0x1p-23f;
  }

 private:
  uint64_t state_;
};

// `count` values whose 32-element groups cycle through shapes the quantizers treat differently:
// symmetric uniform, all positive (forces the K-quant min to zero), cubed (most values near zero),
// one outlier among small values, and all zero; group magnitudes span 2^-6 .. 2^4.
inline std::vector<float> mixed_row(int64_t count, uint64_t seed) {
  RowGenerator rng(seed);
  std::vector<float> row(count);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t group = i / 32;
    const float scale = std::ldexp(1.0f, static_cast<int>(group % 11) - 6);
    const float unit = rng.symmetric_unit();
    float value = 0.0f;
    switch (group % 5) {
      case 0: value = unit * scale; break;
      case 1: value = (unit + 1.25f) * scale; break;
      case 2: value = unit * unit * unit * scale; break;
      case 3: value = (i % 32 == 5) ? 8 * scale : unit * scale * 0.125f; break;
      case 4: value = (group % 3 == 0) ? 0.0f : -unit * scale; break;
    }
    row[i] = value;
  }
  return row;
}

}  // namespace g4c::quant_test
