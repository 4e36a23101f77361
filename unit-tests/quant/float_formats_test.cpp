// fp16 and bf16 conversions: IEEE round to nearest even, subnormals, inf and nan.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "g4c/kernels/quant_host.h"

namespace g4c {
namespace {

float from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }

// The conversions are constexpr, so kernels and tables can fold them at compile time.
static_assert(fp16_to_float(0x3c00) == 1.0f);
static_assert(float_to_fp16(65520.0f) == 0x7c00);
static_assert(float_to_bf16(1.0f) == 0x3f80);

TEST(Fp16, DecodesNormalsSubnormalsAndSpecials) {
  EXPECT_EQ(fp16_to_float(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_float(0xc000), -2.0f);
  EXPECT_EQ(fp16_to_float(0x3555), 0.333251953125f);                       // 1.0101010101b · 2^-2
  EXPECT_EQ(fp16_to_float(0x7bff), 65504.0f);                              // largest half
  EXPECT_EQ(fp16_to_float(0x0400), 0x1p-14f);                              // smallest normal
  EXPECT_EQ(fp16_to_float(0x0001), 0x1p-24f);                              // smallest subnormal
  EXPECT_EQ(fp16_to_float(0x03ff), 1023 * 0x1p-24f);                       // largest subnormal
  EXPECT_EQ(fp16_to_float(0x8200), -0x1p-15f);                             // negative subnormal
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_float(0x8000)), 0x80000000u);  // −0 keeps its sign
  EXPECT_EQ(fp16_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  // nan keeps its payload and becomes quiet: 0x7c01 (signalling) -> 0x7fc02000.
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_float(0x7c01)), 0x7fc02000u);
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_float(0xfe00)), 0xffc00000u);
}

TEST(Fp16, EncodesWithRoundToNearestEven) {
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  // 1 + 2^-11 lies halfway between 1 (even) and 1 + 2^-10: ties go to 1.
  EXPECT_EQ(float_to_fp16(1.0f + 0x1p-11f), 0x3c00);
  // 1 + 3·2^-11 lies halfway between 0x3c01 (odd) and 0x3c02 (even).
  EXPECT_EQ(float_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);
  EXPECT_EQ(float_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);  // just above the tie
  // Mantissa overflow carries into the exponent: 2 − 2^-12 rounds up to 2.
  EXPECT_EQ(float_to_fp16(2.0f - 0x1p-12f), 0x4000);
}

TEST(Fp16, EncodesSubnormalsAndUnderflow) {
  EXPECT_EQ(float_to_fp16(0x1p-24f), 0x0001);
  EXPECT_EQ(float_to_fp16(0x1p-25f), 0x0000);         // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(float_to_fp16(0x1.000002p-25f), 0x0001);  // just above the tie
  EXPECT_EQ(float_to_fp16(1.5f * 0x1p-24f), 0x0002);  // tie between 1 and 2 units: 2
  EXPECT_EQ(float_to_fp16(2.5f * 0x1p-24f), 0x0002);  // tie between 2 and 3 units: 2
  EXPECT_EQ(float_to_fp16(-3 * 0x1p-24f), 0x8003);
  EXPECT_EQ(float_to_fp16(1023.5f * 0x1p-24f), 0x0400);  // largest subnormal rounds up to normal
  EXPECT_EQ(float_to_fp16(0x1p-30f), 0x0000);
  EXPECT_EQ(float_to_fp16(from_bits(0x00000001)), 0x0000);  // float subnormal
}

TEST(Fp16, EncodesOverflowInfAndNan) {
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(65519.99f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);   // the tie goes to the even neighbour: inf
  EXPECT_EQ(float_to_fp16(-1e6f), 0xfc00);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(float_to_fp16(from_bits(0xff800001)), 0xfe00);  // signalling nan: quiet, sign kept
}

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<unsigned short>(bits);
    const float value = fp16_to_float(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(value)))) << std::hex << bits;
      continue;
    }
    ASSERT_EQ(float_to_fp16(value), half) << std::hex << bits;
  }
}

TEST(Bf16, DecodesByWideningTheBits) {
  EXPECT_EQ(bf16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_float(0x4049), 3.140625f);
  EXPECT_EQ(bf16_to_float(0x0001), from_bits(0x00010000));  // subnormal
  EXPECT_EQ(bf16_to_float(0xff80), -std::numeric_limits<float>::infinity());
}

TEST(Bf16, EncodesWithRoundToNearestEven) {
  EXPECT_EQ(float_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, 0x3f80 is even
  EXPECT_EQ(float_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, 0x3f81 is odd
  EXPECT_EQ(float_to_bf16(from_bits(0x3f808001)), 0x3f81);  // above the tie
  EXPECT_EQ(float_to_bf16(from_bits(0x3f807fff)), 0x3f80);  // below the tie
  EXPECT_EQ(float_to_bf16(from_bits(0x3f7fffff)), 0x3f80);  // carries into the exponent
  EXPECT_EQ(float_to_bf16(from_bits(0x00008000)), 0x0000);  // subnormal tie to even zero
  EXPECT_EQ(float_to_bf16(from_bits(0x00018000)), 0x0002);  // subnormal tie to even
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000);
}

TEST(Bf16, EncodesOverflowInfAndNan) {
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds past 0x7f7f
  EXPECT_EQ(float_to_bf16(from_bits(0x7f7f7fff)), 0x7f7f);              // stays finite
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(float_to_bf16(from_bits(0x7f800001)), 0x7fc0);  // signalling nan made quiet
  EXPECT_EQ(float_to_bf16(from_bits(0xffc12345)), 0xffc1);  // quiet nan truncated
}

TEST(Bf16, EveryBf16RoundTripsThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto value = static_cast<unsigned short>(bits);
    const float widened = bf16_to_float(value);
    // A signalling nan comes back quiet; everything else comes back unchanged.
    const unsigned short want =
        std::isnan(widened) ? static_cast<unsigned short>(bits | 0x40) : value;
    ASSERT_EQ(float_to_bf16(widened), want) << std::hex << bits;
  }
}

}  // namespace
}  // namespace g4c
