// Quantize → dequantize round trips, agreement with ggml's reference quantizers, and agreement of
// the host row functions with the header's per-element accessors (the functions kernels call).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "g4c/kernels/quant_host.h"
#include "quant_test_rows.h"

namespace g4c {
namespace {

using quant_test::mixed_row;
using quant_test::RowGenerator;

constexpr QuantType kBlockQuantTypes[] = {QuantType::Q4_0, QuantType::Q8_0, QuantType::Q4_K,
                                          QuantType::Q5_K, QuantType::Q6_K};

std::vector<unsigned char> quantized(QuantType type, const std::vector<float>& row) {
  std::vector<unsigned char> bytes(row_bytes(type, static_cast<int64_t>(row.size())));
  quantize_row(type, row.data(), bytes.data(), static_cast<int64_t>(row.size()));
  return bytes;
}

std::vector<float> round_trip(QuantType type, const std::vector<float>& row) {
  std::vector<float> out(row.size());
  dequantize_row(type, quantized(type, row).data(), out.data(), static_cast<int64_t>(row.size()));
  return out;
}

// Roughly normal values (a sum of four uniforms) with standard deviation about 0.58.
std::vector<float> bell_row(int64_t count, uint64_t seed) {
  RowGenerator rng(seed);
  std::vector<float> row(count);
  for (float& v : row)
    v = (rng.symmetric_unit() + rng.symmetric_unit() + rng.symmetric_unit() +
         rng.symmetric_unit()) *
        0.5f;
  return row;
}

uint64_t fnv1a(const std::vector<unsigned char>& bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char byte : bytes) hash = (hash ^ byte) * 0x100000001b3ull;
  return hash;
}

// Every element is within quantization_error_bound of the largest |x| of its block.
void expect_within_bound(QuantType type, const std::vector<float>& row) {
  const std::vector<float> back = round_trip(type, row);
  const int block = info(type).block_elems;
  for (size_t start = 0; start < row.size(); start += block) {
    double absmax = 0;
    for (int i = 0; i < block; ++i) absmax = std::max(absmax, std::fabs(double{row[start + i]}));
    const double bound = quantization_error_bound(type, absmax);
    if (std::isinf(bound)) continue;  // the scale overflows fp16: nothing is promised
    for (int i = 0; i < block; ++i) {
      const double error = std::fabs(double{back[start + i]} - row[start + i]);
      ASSERT_LE(error, bound) << name(type) << " element " << start + i << " of " << row.size()
                              << ": " << row[start + i] << " came back as " << back[start + i];
    }
  }
}

TEST(RoundTrip, EveryElementWithinTheStatedBound) {
  for (QuantType type : kAllQuantTypes) {
    for (int64_t blocks : {1, 3, 16}) {
      for (uint64_t seed : {1, 2, 3}) {
        expect_within_bound(type, mixed_row(256 * blocks, seed));
        expect_within_bound(type, bell_row(256 * blocks, seed));
      }
    }
  }
}

TEST(RoundTrip, TinyAndHugeMagnitudesStayWithinTheBound) {
  // Scales near fp16's subnormal range (down to 2^-30) and up to 2^12.
  for (QuantType type : kAllQuantTypes) {
    for (int exponent : {-30, -24, -18, -12, 0, 12}) {
      std::vector<float> row = mixed_row(256 * 4, 7);
      for (float& v : row) v = std::ldexp(v, exponent);
      expect_within_bound(type, row);
    }
  }
}

TEST(RoundTrip, RelativeRmsErrorMatchesTheFormatsPrecision) {
  // Measured on this row: Q4_0 0.081, Q8_0 0.0051, Q4_K 0.068, Q5_K 0.035, Q6_K 0.017,
  // F16 0.0002, BF16 0.0017; the ceilings leave about 10% for other rows.
  const struct {
    QuantType type;
    double ceiling;
  } kCeilings[] = {{QuantType::Q4_0, 0.09},  {QuantType::Q8_0, 0.006}, {QuantType::Q4_K, 0.075},
                   {QuantType::Q5_K, 0.038}, {QuantType::Q6_K, 0.019}, {QuantType::F16, 0.0003},
                   {QuantType::BF16, 0.002}, {QuantType::F32, 0.0}};
  const std::vector<float> row = bell_row(256 * 64, 11);
  for (const auto& [type, ceiling] : kCeilings) {
    const std::vector<float> back = round_trip(type, row);
    double squared_error = 0, squared_value = 0;
    for (size_t i = 0; i < row.size(); ++i) {
      squared_error += (double{back[i]} - row[i]) * (double{back[i]} - row[i]);
      squared_value += double{row[i]} * row[i];
    }
    EXPECT_LE(std::sqrt(squared_error / squared_value), ceiling) << name(type);
  }
}

TEST(RoundTrip, ZeroRowsStayZero) {
  const std::vector<float> zeros(512, 0.0f);
  for (QuantType type : kAllQuantTypes)
    for (float v : round_trip(type, zeros)) ASSERT_EQ(v, 0.0f) << name(type);
}

TEST(RoundTrip, FloatTypesAreExactForRepresentableValues) {
  std::vector<float> halves, bfloats;
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float half = fp16_to_float(static_cast<unsigned short>(bits));
    const float bfloat = bf16_to_float(static_cast<unsigned short>(bits));
    if (std::isfinite(half)) halves.push_back(half);
    if (std::isfinite(bfloat)) bfloats.push_back(bfloat);
  }
  auto expect_exact = [](QuantType type, const std::vector<float>& values) {
    const std::vector<float> back = round_trip(type, values);
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(back[i]), std::bit_cast<uint32_t>(values[i])) << name(type);
  };
  expect_exact(QuantType::F16, halves);
  expect_exact(QuantType::BF16, bfloats);
  expect_exact(QuantType::F32, mixed_row(1024, 5));
}

// Digests of quantize_row_*_ref from ggml-quants.c (llama.cpp as vendored by llama-cpp-python
// 0.3.36, compiled with gcc -std=c11 -O2) on mixed_row(8192, 2024): the host quantizers must lay
// out the same bytes as llama.cpp's tools.
TEST(GgmlReference, QuantizedBytesMatchGgml) {
  const struct {
    QuantType type;
    uint64_t digest;
  } kGgmlDigests[] = {{QuantType::Q4_0, 0x417a13563f85fda9ull},
                      {QuantType::Q8_0, 0x50a44d06d0df3513ull},
                      {QuantType::Q4_K, 0xecad059291f2ae79ull},
                      {QuantType::Q5_K, 0x1f0be1c0a88cf6edull},
                      {QuantType::Q6_K, 0x1b6bc1575fad315cull}};
  const std::vector<float> row = mixed_row(256 * 32, 2024);
  for (const auto& [type, digest] : kGgmlDigests)
    EXPECT_EQ(fnv1a(quantized(type, row)), digest) << name(type);
}

// Blocks of arbitrary bytes (scales may even be inf or nan): the host row function, the host
// per-element function and the header's template accessor must produce the same bits.
TEST(HostAndHeader, DecodeArbitraryBlocksIdentically) {
  RowGenerator rng(99);
  for (QuantType type : kAllQuantTypes) {
    const int64_t count = 4 * std::max(info(type).block_elems, 32);
    std::vector<unsigned char> bytes(row_bytes(type, count));
    for (unsigned char& byte : bytes)
      byte = static_cast<unsigned char>(rng.symmetric_unit() * 128 + 128);
    std::vector<float> row(count);
    dequantize_row(type, bytes.data(), row.data(), count);
    visit_block_type(type, [&](auto tag) {
      using Block = typename decltype(tag)::type;
      const auto* blocks = reinterpret_cast<const Block*>(bytes.data());
      for (int64_t i = 0; i < count; ++i) {
        const uint32_t want = std::bit_cast<uint32_t>(row[i]);
        ASSERT_EQ(std::bit_cast<uint32_t>(dequantize_element(blocks, i)), want)
            << name(type) << " " << i;
        ASSERT_EQ(std::bit_cast<uint32_t>(dequantize_element(type, bytes.data(), i)), want);
      }
    });
  }
}

TEST(ErrorBound, GrowsWithTheBlockAndTurnsInfiniteOnOverflow) {
  for (QuantType type : kAllQuantTypes) {
    EXPECT_LE(quantization_error_bound(type, 1.0), quantization_error_bound(type, 2.0))
        << name(type);
    if (type != QuantType::F32 && type != QuantType::BF16) {
      EXPECT_EQ(quantization_error_bound(type, 1e30), std::numeric_limits<double>::infinity())
          << name(type);
    }
  }
  EXPECT_EQ(quantization_error_bound(QuantType::F32, 1e30), 0.0);
  EXPECT_EQ(quantization_error_bound(QuantType::F16, 1.0), 0x1p-11);
  EXPECT_EQ(quantization_error_bound(QuantType::BF16, 1.0), 0x1p-8);
  EXPECT_EQ(quantization_error_bound(QuantType::BF16, 1e39),
            std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace g4c
