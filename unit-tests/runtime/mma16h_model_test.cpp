// A CPU model of the mma16h route (kernels/matmul_mma16h.cuh), run without a GPU: the activations
// stored through matmul::mma16h_half_byte, each lane's loads of a record (the mma16 layout) and of
// the activations as the kernel makes them, the A fragments built by the kernel's own functions
// (g4c/kernels/mma16h_fragments.h, whose fp16 steps run here as their exact emulation), and the
// f16 mma as the PTX ISA lays out its fragments (summed in double: the tensor core's order of
// addition is not modelled). Held to 1e-3 of the RMS (Q4_K: 4e-3, below) against cpu::matmul fed the same
// fp16-rounded activations — a wrong lane, column or scale anywhere is an error of the RMS's order
// — and to the route's own bound against the f32 activations. Partial tiles, K splits of 1, 2 and
// 4, N = 1..32. (Q6_K, Q8_0 and Q4_0 come within 1e-3; Q4_K's weights are differences d·sc·q −
// dmin·m of two fp16-rounded terms of similar size, and the rounding of dmin·m is shared by a
// sub-block's 32 weights: 2-4e-3 of the RMS, about the error q8_1 activations give mma16.)
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/mma16h_fragments.h"
#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/matmul_check.h"

namespace g4c {
namespace {

uint32_t word(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// quantize_mma16h: every value rounded to fp16 at the layout's position.
std::vector<uint8_t> store_activations(const std::vector<float>& x, int width, int64_t cols) {
  std::vector<uint8_t> out(static_cast<size_t>(cols / 256 * width * matmul::kMma16hRowBytes));
  for (int64_t kb = 0; kb < cols / 256; ++kb)
    for (int n = 0; n < width; ++n)
      for (int j = 0; j < 8; ++j)
        for (int p = 0; p < 32; ++p) {
          const uint16_t h = static_cast<uint16_t>(mma16h::half_bits(x[n * cols + kb * 256 + 32 * j + p]));
          std::memcpy(out.data() + kb * width * matmul::kMma16hRowBytes + matmul::mma16h_half_byte(n, j, p), &h, 2);
        }
  return out;
}

std::vector<float> fp16_rounded(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(mma16h::half_value(mma16h::half_bits(x[i])));
  return out;
}

// Lane l's A fragments of 32-column block b of a record, as Mma16hType<Block>::fragments builds
// them from the words the kernel's Record::load reads.
mma16h::BlockFragments fragments(QuantType type, const uint8_t* record, int l, int b) {
  const int g = l / 4;
  const auto words = [&](const uint8_t* p, unsigned (&w)[4]) {
    for (int i = 0; i < 4; ++i) w[i] = word(p + 4 * i);
  };
  switch (type) {
    case QuantType::Q4_K: {
      using L = layout::Mma16Layout<block_q4_K>;
      unsigned c[4], upper[4], lower[4];
      words(record + layout::kMma16ChunkBytes * (b / 2) + 16 * l, c);
      words(record + L::kCodeBytes + L::kHeaderBytes * g, upper);
      words(record + L::kCodeBytes + L::kHeaderBytes * (g + 8), lower);
      return mma16h::q4_k_fragments(c[0], c[1], c[2], c[3], mma16h::q4_k_row(upper), mma16h::q4_k_row(lower), b);
    }
    case QuantType::Q6_K: {
      using L = layout::Mma16Layout<block_q6_K>;
      const int h = b / 4, q = b % 4;
      unsigned ql[4], qh[4], upper[4], lower[4];
      words(record + layout::kMma16ChunkBytes * (2 * h + q % 2) + 16 * l, ql);
      words(record + L::kQlBytes + layout::kMma16ChunkBytes * h + 16 * l, qh);
      words(record + L::kScalesOffset + 16 * g, upper);
      words(record + L::kScalesOffset + 16 * (g + 8), lower);
      uint16_t d_upper, d_lower;
      std::memcpy(&d_upper, record + L::kDOffset + 2 * g, 2);
      std::memcpy(&d_lower, record + L::kDOffset + 2 * (g + 8), 2);
      return mma16h::q6_k_fragments(ql[0], ql[1], ql[2], ql[3], qh[0], qh[1], qh[2], qh[3], upper, lower, d_upper,
                                    d_lower, b);
    }
    case QuantType::Q8_0:
    case QuantType::Q4_0: {
      const bool q8 = type == QuantType::Q8_0;
      const int code_bytes = q8 ? layout::Mma16Layout<block_q8_0>::kCodeBytes : layout::Mma16Layout<block_q4_0>::kCodeBytes;
      uint16_t d_upper, d_lower;  // block b's scale of rows g, g + 8
      std::memcpy(&d_upper, record + code_bytes + 16 * g + 2 * b, 2);
      std::memcpy(&d_lower, record + code_bytes + 16 * (g + 8) + 2 * b, 2);
      unsigned c[4];
      words(record + layout::kMma16ChunkBytes * (q8 ? b : b / 2) + 16 * l, c);
      if (q8) return mma16h::q8_0_fragments(c[0], c[1], c[2], c[3], d_upper, d_lower);
      return mma16h::q4_0_fragments(b % 2 ? c[2] : c[0], b % 2 ? c[3] : c[1], d_upper, d_lower);
    }
    default:
      ADD_FAILURE() << "no mma16h fragments for " << name(type);
      return {};
  }
}

double half_of(unsigned word, int index) { return mma16h::half_value(word >> (16 * index)); }

// d[l][i] += the mma.m16n8k16 f16 of one warp: A[16][16] from each lane's a[4] (row g / g + 8,
// columns 2t, 2t+1 / then 2t+8, 2t+9), B[16][8] from each lane's b0, b1 (column g, rows 2t, 2t+1
// / 2t+8, 2t+9); lane gets D[g][2t], D[g][2t + 1], D[g + 8][2t], D[g + 8][2t + 1].
void mma_f16(const unsigned (&a)[32][4], const unsigned (&b)[32][2], double (&d)[32][4]) {
  double A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int i = 0; i < 2; ++i) {
      A[g][2 * t + i] = half_of(a[l][0], i);
      A[g + 8][2 * t + i] = half_of(a[l][1], i);
      A[g][2 * t + 8 + i] = half_of(a[l][2], i);
      A[g + 8][2 * t + 8 + i] = half_of(a[l][3], i);
      B[2 * t + i][g] = half_of(b[l][0], i);
      B[2 * t + 8 + i][g] = half_of(b[l][1], i);
    }
  }
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int i = 0; i < 4; ++i) {
      const int row = g + 8 * (i / 2), col = 2 * t + i % 2;
      for (int k = 0; k < 16; ++k) d[l][i] += A[row][k] * B[k][col];
    }
  }
}

// The whole matmul as the kernel computes it: per 16-row tile and K-lane of k_split, every record
// of its super-blocks, every block's two mmas per 8-row tile of activations; the K-lanes summed in
// order.
std::vector<float> model_matmul(QuantType type, const std::vector<uint8_t>& weights, const std::vector<float>& x,
                                int width, int64_t rows, int64_t cols, int k_split) {
  const std::vector<uint8_t> xh = store_activations(x, width, cols);
  const int64_t super_blocks = cols / 256, record_bytes = mma16_bytes(type, 16, 256);
  const int tiles8 = matmul::mma16h_capacity(width) / 8;
  std::vector<float> y(static_cast<size_t>(width * rows), std::nanf(""));
  for (int64_t tile = 0; tile < layout::mma16_tiles(rows); ++tile) {
    std::vector<std::array<float, 4>> total(static_cast<size_t>(tiles8 * 32), {0, 0, 0, 0});
    for (int k_lane = 0; k_lane < k_split; ++k_lane) {
      std::vector<std::array<double, 4>> acc(static_cast<size_t>(tiles8 * 32), {0, 0, 0, 0});
      for (int64_t kb = super_blocks * k_lane / k_split; kb < super_blocks * (k_lane + 1) / k_split; ++kb) {
        const uint8_t* record = weights.data() + (tile * super_blocks + kb) * record_bytes;
        const uint8_t* activations = xh.data() + kb * width * matmul::kMma16hRowBytes;
        for (int b = 0; b < 8; ++b) {
          unsigned first[32][4], second[32][4];
          for (int l = 0; l < 32; ++l) {
            const mma16h::BlockFragments f = fragments(type, record, l, b);
            std::memcpy(first[l], f.first, sizeof f.first);
            std::memcpy(second[l], f.second, sizeof f.second);
          }
          for (int j = 0; j < tiles8; ++j) {
            unsigned b_first[32][2], b_second[32][2];
            for (int l = 0; l < 32; ++l) {
              const int n = std::min(8 * j + l / 4, width - 1);
              const uint8_t* v = activations + matmul::mma16h_half_byte(n, 0, 4 * (l % 4)) + 64 * b;
              b_first[l][0] = word(v), b_first[l][1] = word(v + 4);
              b_second[l][0] = word(v + 8), b_second[l][1] = word(v + 12);
            }
            double d[32][4];
            for (int l = 0; l < 32; ++l)
              for (int i = 0; i < 4; ++i) d[l][i] = acc[j * 32 + l][i];
            mma_f16(first, b_first, d);
            mma_f16(second, b_second, d);
            for (int l = 0; l < 32; ++l)
              for (int i = 0; i < 4; ++i) acc[j * 32 + l][i] = d[l][i];
          }
        }
      }
      for (size_t i = 0; i < acc.size(); ++i)
        for (int e = 0; e < 4; ++e) total[i][e] += static_cast<float>(acc[i][e]);
    }
    for (int j = 0; j < tiles8; ++j)
      for (int l = 0; l < 32; ++l)
        for (int i = 0; i < 4; ++i) {
          const int64_t r = tile * 16 + l / 4 + 8 * (i / 2);
          const int n = 8 * j + 2 * (l % 4) + i % 2;
          if (r < rows && n < width) y[n * rows + r] = total[j * 32 + l][i];
        }
  }
  return y;
}

TEST(Mma16hModel, MatchesTheCpuOpOnTheSameFp16Activations) {
  struct Shape {
    QuantType type;
    int64_t rows, cols;
    int width, k_split;
  };
  for (const Shape s : {Shape{QuantType::Q4_K, 37, 512, 1, 1}, Shape{QuantType::Q4_K, 64, 768, 5, 2},
                        Shape{QuantType::Q4_K, 16, 1024, 16, 4}, Shape{QuantType::Q4_K, 33, 512, 27, 2},
                        Shape{QuantType::Q6_K, 37, 512, 1, 1}, Shape{QuantType::Q6_K, 48, 768, 9, 2},
                        Shape{QuantType::Q6_K, 20, 512, 32, 4}, Shape{QuantType::Q8_0, 37, 512, 3, 1},
                        Shape{QuantType::Q8_0, 16, 768, 32, 2}, Shape{QuantType::Q4_0, 37, 512, 8, 1},
                        Shape{QuantType::Q4_0, 48, 512, 17, 4}}) {
    SCOPED_TRACE(std::string(name(s.type)) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols) +
                 " N=" + std::to_string(s.width) + " split " + std::to_string(s.k_split));
    const TensorShape shape{"w", s.type, s.cols, s.rows};
    const WeightSet w = random_weights(std::span(&shape, 1), static_cast<uint64_t>(s.rows * 5 + s.width));
    const HostTensor& t = w.at("w");
    const std::vector<uint8_t> repacked = repack_mma16(s.type, s.rows, s.cols, t.bytes.data());
    std::mt19937 rng(static_cast<uint32_t>(s.cols + 3 * s.width));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(s.width * s.cols));
    for (float& v : x) v = dist(rng);
    const std::vector<float> got = model_matmul(s.type, repacked, x, s.width, s.rows, s.cols, s.k_split);
    const std::vector<int64_t> all = spread_rows(s.rows, s.rows);
    const MatmulReference rounded = cpu_matmul_reference(t, fp16_rounded(x), s.width, all);
    const MatmulErrors e = measure_matmul_errors(got, rounded, s.width, s.rows);
    EXPECT_TRUE(e.comparable()) << "NaN: an output the model never wrote";
    EXPECT_LE(e.max_abs, (s.type == QuantType::Q4_K ? 4e-3 : 1e-3) * e.rms_ref)
        << "max |δ| " << e.max_abs << ", RMS " << e.rms_ref;
    const MatmulReference exact = cpu_matmul_reference(t, x, s.width, all);
    const MatmulErrors statistical = measure_matmul_errors(got, exact, s.width, s.rows);
    EXPECT_TRUE(route_error_ratios(plan::Route::mma16h, s.type, statistical).passes(statistical));
  }
}

// store_activation_lane's mma16h branch writes lane L's columns 8m..8m+3 (m = L % 4) as the
// halves (v0, v2), (v1, v3) at the first column's byte, and 8m+4..8m+7 likewise: that must be
// where the layout puts each column.
TEST(Mma16hModel, TheProducersLaneStoresFillTheLayout) {
  constexpr int kOrder[4] = {0, 2, 1, 3};  // the value at each half of an 8-byte store
  for (int n : {0, 3})
    for (int block = 0; block < 8; ++block)
      for (int m = 0; m < 4; ++m)
        for (int half = 0; half < 2; ++half) {
          const int first = 8 * m + 4 * half;
          for (int i = 0; i < 4; ++i)
            EXPECT_EQ(matmul::mma16h_half_byte(n, block, first + kOrder[i]),
                      matmul::mma16h_half_byte(n, block, first) + 2 * i)
                << "block " << block << " column " << first + kOrder[i];
        }
}

// The fp16 steps: one rounding of the exact result, magic-number codes exact.
TEST(Mma16hModel, HalfStepsRoundOnce) {
  const unsigned codes = mma16h::code_pairs(0x0f3a0c05u, 0x000F000Fu).even;  // bytes 0, 2: 5 and 10
  EXPECT_EQ(mma16h::hsub2(codes, mma16h::kMagic), mma16h::half_bits(5.0) | mma16h::half_bits(10.0) << 16);
  const unsigned high = mma16h::code_pairs(0x00f000a0u, 0x00F000F0u).even;  // high nibbles 10 and 15
  EXPECT_EQ(mma16h::hfma2(high, mma16h::kHalfSixteenth, mma16h::kHalfMinus64),
            mma16h::half_bits(10.0) | mma16h::half_bits(15.0) << 16);
  const unsigned third = mma16h::half_bits(1.0 / 3.0) * 0x00010001u;
  EXPECT_EQ(mma16h::scaled_code(mma16h::kMagic | 7u * 0x00010001u, third) & 0xffffu,
            mma16h::half_bits(7.0 * mma16h::half_value(third)));
}

}  // namespace
}  // namespace g4c
