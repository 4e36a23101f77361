// Known answers for every block format: blocks built byte by byte, dequantized values worked out
// by hand from the layout (shared/reference/routing.md §B.6). All scales are exact in fp16 and
// every product is exact in float, so the expectations are exact.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "g4c/kernels/quant_host.h"

namespace g4c {
namespace {

constexpr unsigned short kHalfOne = 0x3c00;      // 1.0
constexpr unsigned short kHalfHalf = 0x3800;     // 0.5
constexpr unsigned short kHalfQuarter = 0x3400;  // 0.25

template <class Block>
std::vector<float> dequantized(const Block& block) {
  std::vector<float> out(Block::kElems);
  dequantize_block(block, out.data());
  return out;
}

// Every element, as dequantize_block, the per-element accessor and the host row function see it.
template <class Block>
void expect_block_decodes_to(QuantType type, const Block& block,
                             const std::vector<float>& expected) {
  ASSERT_EQ(static_cast<int>(expected.size()), Block::kElems);
  std::vector<float> row(Block::kElems);
  dequantize_row(type, &block, row.data(), Block::kElems);
  const std::vector<float> whole = dequantized(block);
  for (int i = 0; i < Block::kElems; ++i) {
    EXPECT_EQ(whole[i], expected[i]) << "element " << i;
    EXPECT_EQ(dequantize_element(&block, i), expected[i]) << "element " << i;
    EXPECT_EQ(row[i], expected[i]) << "element " << i;
  }
}

TEST(BlockLayout, StructsMatchTheSpecGeometry) {
  for (QuantType type : kAllQuantTypes) {
    visit_block_type(type, [&](auto tag) {
      using Block = typename decltype(tag)::type;
      EXPECT_EQ(static_cast<int>(sizeof(Block)), info(type).block_bytes) << name(type);
      EXPECT_EQ(Block::kElems, info(type).block_elems) << name(type);
    });
  }
}

TEST(BlockLayout, FieldOffsetsAreGgmls) {
  EXPECT_EQ(offsetof(block_q4_0, qs), 2u);
  EXPECT_EQ(offsetof(block_q8_0, qs), 2u);
  EXPECT_EQ(offsetof(block_q4_K, dmin), 2u);
  EXPECT_EQ(offsetof(block_q4_K, scales), 4u);
  EXPECT_EQ(offsetof(block_q4_K, qs), 16u);
  EXPECT_EQ(offsetof(block_q5_K, qh), 16u);
  EXPECT_EQ(offsetof(block_q5_K, qs), 48u);
  EXPECT_EQ(offsetof(block_q6_K, qh), 128u);
  EXPECT_EQ(offsetof(block_q6_K, scales), 192u);
  EXPECT_EQ(offsetof(block_q6_K, d), 208u);
}

TEST(Dequantize, Q4_0LowNibblesFirstHalfHighNibblesSecondHalf) {
  block_q4_0 block{};
  block.d = kHalfHalf;
  std::memset(block.qs, 0x88, sizeof(block.qs));  // code 8 in both halves decodes to 0
  block.qs[0] = 0x1F;   // element 0: (15 − 8)·0.5 = 3.5;  element 16: (1 − 8)·0.5 = −3.5
  block.qs[3] = 0x80;   // element 3: (0 − 8)·0.5 = −4;    element 19: (8 − 8)·0.5 = 0
  block.qs[15] = 0xC9;  // element 15: (9 − 8)·0.5 = 0.5; element 31: (12 − 8)·0.5 = 2
  std::vector<float> expected(32, 0.0f);
  expected[0] = 3.5f;
  expected[16] = -3.5f;
  expected[3] = -4.0f;
  expected[15] = 0.5f;
  expected[31] = 2.0f;
  expect_block_decodes_to(QuantType::Q4_0, block, expected);
}

TEST(Dequantize, Q8_0SignedCodes) {
  block_q8_0 block{};
  block.d = kHalfQuarter;
  block.qs[0] = -128;  // −128·0.25 = −32
  block.qs[1] = -1;    // −0.25
  block.qs[2] = 1;     // 0.25
  block.qs[31] = 127;  // 31.75
  std::vector<float> expected(32, 0.0f);
  expected[0] = -32.0f;
  expected[1] = -0.25f;
  expected[2] = 0.25f;
  expected[31] = 31.75f;
  expect_block_decodes_to(QuantType::Q8_0, block, expected);
}

// Scales of the Q4_K block below (d = 1, dmin = 0.5):
//   sub-block 1 (direct):  sc = 5,  m = 3:  bytes 1 and 5 hold them in their low six bits.
//   sub-block 2 (direct):  sc = 7,  m = 1:  bytes 2 and 6, whose top bits belong to sub-block 6.
//   sub-block 6 (packed):  sc = 41 = 0b10'1001, m = 52 = 0b11'0100: byte 10 = 0x49 (low nibbles
//                          9 and 4), top bits 0b10 in byte 2 and 0b11 in byte 6.
//   sub-block 7 (packed):  sc = 19 = 0b01'0011, m = 15 = 0b00'1111: byte 11 = 0xF3, top bits 0b01
//                          in byte 3 (sub-block 3 keeps sc = 0) and 0b00 in byte 7.
//   all others: sc = m = 0.
block_q4_K hand_built_q4_K() {
  block_q4_K block{};
  block.d = kHalfOne;
  block.dmin = kHalfHalf;
  const unsigned char scales[kKScaleBytes] = {0x00, 0x05, 0x87, 0x40, 0x00, 0x03,
                                              0xC1, 0x00, 0x00, 0x00, 0x49, 0xF3};
  std::memcpy(block.scales, scales, sizeof(scales));
  block.qs[0] = 0xA0;    // element 0 (sub-block 0): 0;  element 32 (sub-block 1): q = 10
  block.qs[35] = 0x0F;   // element 67 (sub-block 2, chunk 1 low nibble): q = 15
  block.qs[127] = 0xE2;  // element 223 (sub-block 6): q = 2; element 255 (sub-block 7): q = 14
  return block;
}

TEST(Dequantize, Q4_KUnpacksDirectAndPackedScales) {
  const block_q4_K block = hand_built_q4_K();
  const KScaleMin want[8] = {{0, 0}, {5, 3}, {7, 1}, {0, 0}, {0, 0}, {0, 0}, {41, 52}, {19, 15}};
  for (int j = 0; j < 8; ++j) {
    const KScaleMin got = get_scale_min_k4(j, block.scales);
    EXPECT_EQ(got.scale, want[j].scale) << "sub-block " << j;
    EXPECT_EQ(got.min, want[j].min) << "sub-block " << j;
  }
  // Code 0 decodes to −dmin·m: sub-block 1 −1.5, 2 −0.5, 6 −26, 7 −7.5, others 0.
  std::vector<float> expected(256, 0.0f);
  std::fill(expected.begin() + 32, expected.begin() + 64, -1.5f);
  std::fill(expected.begin() + 64, expected.begin() + 96, -0.5f);
  std::fill(expected.begin() + 192, expected.begin() + 224, -26.0f);
  std::fill(expected.begin() + 224, expected.end(), -7.5f);
  expected[32] = 48.5f;    // 1·5·10 − 0.5·3
  expected[67] = 104.5f;   // 1·7·15 − 0.5·1
  expected[223] = 56.0f;   // 1·41·2 − 0.5·52
  expected[255] = 258.5f;  // 1·19·14 − 0.5·15
  expect_block_decodes_to(QuantType::Q4_K, block, expected);
}

// Q5_K with d = 0.25, dmin = 1. Scales: sub-block 0 sc = 1; sub-block 1 sc = 2 (byte 1 = 0xC2,
// whose top bits 0b11 belong to sub-block 5); sub-block 5 sc = 48 = 0b11'0000, m = 18 = 0b01'0010
// (byte 9 = 0x20, top bits 0b11 in byte 1 and 0b01 in byte 5); sub-block 7 sc = 1 (byte 11 = 0x01).
TEST(Dequantize, Q5_KTakesTheFifthBitFromQh) {
  block_q5_K block{};
  block.d = kHalfQuarter;
  block.dmin = kHalfOne;
  const unsigned char scales[kKScaleBytes] = {0x01, 0xC2, 0x00, 0x00, 0x00, 0x40,
                                              0x00, 0x00, 0x00, 0x20, 0x00, 0x01};
  std::memcpy(block.scales, scales, sizeof(scales));
  block.qs[0] = 0x0F;   // element 0: low nibble 15
  block.qh[0] = 0x81;   // bit 0: element 0 gains 16 (q = 31); bit 7: element 224 gains 16
  block.qs[1] = 0x43;   // element 1: q = 3; element 33: low bits 4
  block.qh[1] = 0x02;   // bit 1: element 33 gains 16 (q = 20); element 1 keeps q = 3
  block.qs[71] = 0x90;  // element 167 (sub-block 5, chunk 2 high nibble, lane 7): low bits 9
  block.qh[7] = 0x20;   // bit 5: element 167 gains 16 (q = 25)
  block.qs[96] = 0x20;  // element 224 (sub-block 7, chunk 3 high nibble): low bits 2, q = 18
  EXPECT_EQ(get_scale_min_k4(5, block.scales).scale, 48);
  EXPECT_EQ(get_scale_min_k4(5, block.scales).min, 18);
  std::vector<float> expected(256, 0.0f);
  // Code 0 decodes to −dmin·m: −1·18 in sub-block 5, 0 elsewhere.
  std::fill(expected.begin() + 160, expected.begin() + 192, -18.0f);
  expected[0] = 7.75f;     // 0.25·1·31
  expected[1] = 0.75f;     // 0.25·1·3
  expected[33] = 10.0f;    // 0.25·2·20
  expected[167] = 282.0f;  // 0.25·48·25 − 1·18
  expected[224] = 4.5f;    // 0.25·1·18
  expect_block_decodes_to(QuantType::Q5_K, block, expected);
}

// Q6_K with d = 0.5 and signed scales; scale g covers elements 16g..16g+15. Element
// 128h + 32k + l takes its low four bits from ql[64h + 32(k & 1) + l] (low nibble for k < 2) and
// its top two from bits 2k..2k+1 of qh[32h + l]; x = d·sc·(code − 32).
TEST(Dequantize, Q6_KBothHalvesAllQuartersSignedScales) {
  block_q6_K block{};
  block.d = kHalfHalf;
  const signed char scales[16] = {1, -2, 3, 6, -4, 0, 5, -1, 7, 0, 2, 0, -3, 0, 0, -128};
  std::memcpy(block.scales, scales, sizeof(scales));
  block.ql[0] = 0xA5;    // element 0: low 5; element 64 (quarter 2): low 10
  block.qh[0] = 0x12;    // element 0: top 2 -> code 37; element 64: top 1 -> code 26
  block.ql[49] = 0x0F;   // element 49 (quarter 1, lane 17): low 15; element 113 (quarter 3): low 0
  block.qh[17] = 0x8C;   // element 49: top 3 -> code 63; element 113: top 2 -> code 32
  block.ql[67] = 0x01;   // element 131 (half 1, quarter 0, lane 3): low 1
  block.qh[35] = 0x01;   // element 131: top 1 -> code 17
  block.ql[96] = 0x07;   // element 160 (half 1, quarter 1, lane 0): low 7
  block.ql[64] = 0x30;   // element 192 (half 1, quarter 2, lane 0): low 3
  block.qh[32] = 0x38;   // element 160: top 2 -> code 39; element 192: top 3 -> code 51
  block.ql[127] = 0xF0;  // element 255 (half 1, quarter 3, lane 31): low 15
  block.qh[63] = 0xC0;   // element 255: top 3 -> code 63
  // Code 0 everywhere else: 0.5·sc·(−32) = −16·sc.
  std::vector<float> expected(256);
  for (int e = 0; e < 256; ++e) expected[e] = -16.0f * scales[e / 16];
  expected[0] = 2.5f;        // 0.5·1·(37 − 32)
  expected[49] = 93.0f;      // 0.5·6·(63 − 32)
  expected[64] = 12.0f;      // 0.5·(−4)·(26 − 32)
  expected[113] = 0.0f;      // 0.5·(−1)·(32 − 32)
  expected[131] = -52.5f;    // 0.5·7·(17 − 32)
  expected[160] = 7.0f;      // 0.5·2·(39 − 32)
  expected[192] = -28.5f;    // 0.5·(−3)·(51 − 32)
  expected[255] = -1984.0f;  // 0.5·(−128)·(63 − 32)
  expect_block_decodes_to(QuantType::Q6_K, block, expected);
}

TEST(Dequantize, FloatTypesDecodeTheirBits) {
  expect_block_decodes_to(QuantType::F16, block_f16{0xc500}, {-5.0f});        // −1.25·2^2
  expect_block_decodes_to(QuantType::BF16, block_bf16{0x4049}, {3.140625f});  // 1.5703125·2
  expect_block_decodes_to(QuantType::F32, block_f32{-0.1f}, {-0.1f});
}

TEST(Dequantize, RowsAndElementsIndexAcrossBlocks) {
  block_q8_0 row[3] = {};
  for (int b = 0; b < 3; ++b) {
    row[b].d = kHalfOne;
    row[b].qs[5] = static_cast<signed char>(10 * (b + 1));
  }
  EXPECT_EQ(dequantize_element(row, 5), 10.0f);
  EXPECT_EQ(dequantize_element(row, 32 + 5), 20.0f);
  EXPECT_EQ(dequantize_element(QuantType::Q8_0, row, 64 + 5), 30.0f);
  EXPECT_EQ(dequantize_element(QuantType::Q8_0, row, 64 + 6), 0.0f);
}

}  // namespace
}  // namespace g4c
