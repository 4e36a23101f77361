// A CPU model of the mma16 route's arithmetic (kernels/matmul_mma16.cuh), run without a GPU: the
// activation quantizer writing its scratch through matmul::mma16_code_byte / mma16_scales_byte,
// the kernel's per-lane loads of a record (layout::kMma16* offsets) and of the activations, the
// int8 and fp16 mma as the PTX ISA lays out their fragments, the epilogue in the kernel's order of
// float operations, and the K split's fixed-order reduction. Held, like the kernel in the GPU
// tests, to 1e-4 of the RMS against cpu::matmul fed the same q8_1-rounded activations, on shapes
// with a partial last tile, several super-blocks, K splits of 1, 2 and 4, N = 1, 5, 8, 13, 27, 32
// and row groups of 8 and 16 activation rows.
// A wrong index anywhere in the layout contract shows here, before any device run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <algorithm>
#include <array>
#include <random>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/runtime/matmul_check.h"

namespace g4c {
namespace {

constexpr float kBias = 12582912.0f;  // 1.5·2^23, the kernel's kMmqBias as a float

// quantize_mma16: per row and super-block, 32-value blocks rounded as q8_1 rounds them.
std::vector<uint8_t> quantize(const std::vector<float>& x, int width, int64_t cols) {
  const int64_t super_blocks = cols / 256;
  std::vector<uint8_t> out(static_cast<size_t>(super_blocks * width * matmul::kMma16RowBytes));
  for (int64_t kb = 0; kb < super_blocks; ++kb) {
    uint8_t* record = out.data() + kb * width * matmul::kMma16RowBytes;
    for (int n = 0; n < width; ++n)
      for (int j = 0; j < 8; ++j) {
        const float* v = x.data() + n * cols + kb * 256 + 32 * j;
        float amax = 0;
        for (int p = 0; p < 32; ++p) amax = std::max(amax, std::abs(v[p]));
        const float d = fp16_to_float(float_to_fp16(amax / 127.0f));
        const float inverse = d > 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int p = 0; p < 32; ++p) {
          const int q = std::clamp(static_cast<int>(std::nearbyint(v[p] * inverse)), -127, 127);
          sum += q;
          record[matmul::mma16_code_byte(n, j, p)] = static_cast<uint8_t>(static_cast<int8_t>(q));
        }
        float* scales = reinterpret_cast<float*>(record + matmul::mma16_scales_byte(width, n));
        scales[j] = d;
        scales[8 + j] = d * static_cast<float>(sum);
      }
  }
  return out;
}

struct Lane {
  int g, t;
};
Lane lane_of(int lane) { return {lane / 4, lane % 4}; }

// The mma.m16n8k32 (u8 or s8 × s8 → s32) of one warp: A[16][32] from each lane's a[4] (row g /
// g + 8, columns 4t.. / 16 + 4t..), B[32][8] from each lane's b0, b1 (column g, rows 4t.. /
// 16 + 4t..); lane gets D[g][2t], D[g][2t + 1], D[g + 8][2t], D[g + 8][2t + 1], each + c.
void mma_int8(const uint32_t (&a)[32][4], const uint32_t (&b)[32][2], int c, bool signed_a, int (&d)[32][4]) {
  int A[16][32], B[32][8];
  for (int l = 0; l < 32; ++l) {
    const Lane ln = lane_of(l);
    const auto element = [&](uint32_t word, int i) {
      const int byte = (word >> (8 * i)) & 0xff;
      return signed_a ? static_cast<int>(static_cast<int8_t>(byte)) : byte;
    };
    for (int i = 0; i < 4; ++i) {
      A[ln.g][4 * ln.t + i] = element(a[l][0], i);
      A[ln.g + 8][4 * ln.t + i] = element(a[l][1], i);
      A[ln.g][16 + 4 * ln.t + i] = element(a[l][2], i);
      A[ln.g + 8][16 + 4 * ln.t + i] = element(a[l][3], i);
      B[4 * ln.t + i][ln.g] = static_cast<int8_t>((b[l][0] >> (8 * i)) & 0xff);
      B[16 + 4 * ln.t + i][ln.g] = static_cast<int8_t>((b[l][1] >> (8 * i)) & 0xff);
    }
  }
  for (int l = 0; l < 32; ++l) {
    const Lane ln = lane_of(l);
    for (int i = 0; i < 4; ++i) {
      const int row = ln.g + 8 * (i / 2), col = 2 * ln.t + i % 2;
      int sum = c;
      for (int k = 0; k < 32; ++k) sum += A[row][k] * B[k][col];
      d[l][i] = sum;
    }
  }
}

// The mma.m16n8k16 (s8 × s8 → s32) of one warp: A[16][16] from a0 (row g, columns 4t..) and a1
// (row g + 8), B[16][8] from b0 (column g, rows 4t..).
void mma_s8_k16(const uint32_t (&a0)[32], const uint32_t (&a1)[32], const uint32_t (&b0)[32], int (&d)[32][4]) {
  int A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l) {
    const Lane ln = lane_of(l);
    for (int i = 0; i < 4; ++i) {
      A[ln.g][4 * ln.t + i] = static_cast<int8_t>((a0[l] >> (8 * i)) & 0xff);
      A[ln.g + 8][4 * ln.t + i] = static_cast<int8_t>((a1[l] >> (8 * i)) & 0xff);
      B[4 * ln.t + i][ln.g] = static_cast<int8_t>((b0[l] >> (8 * i)) & 0xff);
    }
  }
  for (int l = 0; l < 32; ++l) {
    const Lane ln = lane_of(l);
    for (int i = 0; i < 4; ++i) {
      const int row = ln.g + 8 * (i / 2), col = 2 * ln.t + i % 2;
      int sum = 0;
      for (int k = 0; k < 16; ++k) sum += A[row][k] * B[k][col];
      d[l][i] = sum;
    }
  }
}

float unbias(int biased) {
  float f;
  std::memcpy(&f, &biased, 4);
  return f - kBias;
}

// Signed byte c - bias for each byte of a word (Q4_0's codes q - 8).
uint32_t minus_bytes(uint32_t codes, int bias) {
  uint32_t out = 0;
  for (int i = 0; i < 4; ++i)
    out |= static_cast<uint32_t>(static_cast<uint8_t>(static_cast<int8_t>(((codes >> (8 * i)) & 0xff) - bias))) << (8 * i);
  return out;
}

// Lane l's A-fragment word i of 32-column block b in a record: Q8_0 keeps a block's signed codes
// whole in chunk b; Q4_0 keeps them as nibbles, 8 bytes a block, two blocks a chunk (rows g, g + 8:
// low nibbles are columns 4t.., high ones 16 + 4t..), made signed as q - 8.
template <class Word>
uint32_t block_fragment_word(QuantType type, const uint8_t* record, int b, int l, int i, Word word) {
  if (type == QuantType::Q8_0) return word(record + layout::kMma16ChunkBytes * b + 16 * l + 4 * i);
  const uint32_t raw = word(record + layout::kMma16ChunkBytes * (b / 2) + 16 * l + 8 * (b % 2) + 4 * (i % 2));
  return minus_bytes(i < 2 ? raw & 0x0f0f0f0fu : (raw >> 4) & 0x0f0f0f0fu, 8);
}

// One Q8_0 or Q4_0 record: per 32-column block b, the signed codes against the activations, each
// dot scaled by d_b of its row · dx straight into the accumulators.
template <class Row, class Word, class ScaleAt>
void block_scaled_record(QuantType type, const uint8_t* record, const uint8_t* x, int width, Row row, Word word,
                         ScaleAt scale_at, std::vector<std::array<float, 4>>& acc) {
  const int code_bytes = type == QuantType::Q8_0 ? layout::Mma16Layout<block_q8_0>::kCodeBytes
                                                 : layout::Mma16Layout<block_q4_0>::kCodeBytes;
  const int tiles8 = (width + 7) / 8;
  const auto d = [&](int r, int b) {
    uint16_t h;
    std::memcpy(&h, record + code_bytes + 16 * r + 2 * b, 2);
    return fp16_to_float(h);
  };
  for (int j8 = 0; j8 < tiles8; ++j8)
    for (int b = 0; b < 8; ++b) {
      uint32_t a[32][4], bb[32][2];
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i) a[l][i] = block_fragment_word(type, record, b, l, i, word);
        const uint8_t* pair = x + matmul::mma16_code_byte(row(8 * j8 + ln.g), 0, 4 * ln.t) + 64 * (b / 2) + 8 * (b % 2);
        bb[l][0] = word(pair), bb[l][1] = word(pair + 4);
      }
      int dot[32][4];
      mma_int8(a, bb, 0x4B400000, true, dot);
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        const float upper = d(ln.g, b), lower = d(ln.g + 8, b);
        const float dx0 = scale_at(8 * j8 + 2 * ln.t, b), dx1 = scale_at(8 * j8 + 2 * ln.t + 1, b);
        auto& part = acc[j8 * 32 + l];
        part[0] = std::fmaf(upper * dx0, unbias(dot[l][0]), part[0]);
        part[1] = std::fmaf(upper * dx1, unbias(dot[l][1]), part[1]);
        part[2] = std::fmaf(lower * dx0, unbias(dot[l][2]), part[2]);
        part[3] = std::fmaf(lower * dx1, unbias(dot[l][3]), part[3]);
      }
    }
}

// One Q6_K record: per sub-block (half h, quarter q) the signed codes code − 32 rebuilt from the
// ql and qh chunks, two k16 mmas (one per 16-column scale) combined in int32 with the signed
// scales, then one FMA by d · dx.
template <class Row, class Word, class ScaleAt>
void q6_k_record(const uint8_t* record, const uint8_t* x, int width, Row row, Word word, ScaleAt scale_at,
                 std::vector<std::array<float, 4>>& acc) {
  using L = layout::Mma16Layout<block_q6_K>;
  const int tiles8 = (width + 7) / 8;
  const auto scale = [&](int r, int index) { return static_cast<int>(static_cast<int8_t>(record[L::kScalesOffset + 16 * r + index])); };
  const auto d = [&](int r) {
    uint16_t h;
    std::memcpy(&h, record + L::kDOffset + 2 * r, 2);
    return fp16_to_float(h);
  };
  for (int j8 = 0; j8 < tiles8; ++j8)
    for (int j = 0; j < 8; ++j) {
      const int h = j / 4, q = j % 4;
      uint32_t a[4][32], b[2][32];
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i) {
          const uint32_t low = word(record + layout::kMma16ChunkBytes * (2 * h + q % 2) + 16 * l + 4 * i);
          const uint32_t high = word(record + L::kQlBytes + layout::kMma16ChunkBytes * h + 16 * l + 4 * i);
          uint32_t codes = 0;
          for (int byte = 0; byte < 4; ++byte) {
            const int code = ((low >> (8 * byte + 4 * (q / 2))) & 0xf) | (((high >> (8 * byte + 2 * q)) & 3) << 4);
            codes |= static_cast<uint32_t>(static_cast<uint8_t>(static_cast<int8_t>(code - 32))) << (8 * byte);
          }
          a[i][l] = codes;
        }
        const uint8_t* block = x + matmul::mma16_code_byte(row(8 * j8 + ln.g), j, 4 * ln.t);
        b[0][l] = word(block), b[1][l] = word(block + 4);
      }
      int first[32][4], second[32][4];
      mma_s8_k16(a[0], a[1], b[0], first);
      mma_s8_k16(a[2], a[3], b[1], second);
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i) {
          const int r = ln.g + 8 * (i / 2), n = 8 * j8 + 2 * ln.t + i % 2;
          const int combined = first[l][i] * scale(r, 8 * h + 2 * q) + second[l][i] * scale(r, 8 * h + 2 * q + 1);
          acc[j8 * 32 + l][i] = std::fmaf(d(r) * scale_at(n, j), static_cast<float>(combined), acc[j8 * 32 + l][i]);
        }
      }
    }
}

// The kernel on one 16-row tile, one row group (group_width activation rows from first_row) and
// one K-lane's super-blocks [first, last): each lane's four accumulators per 8-row activation tile.
void tile_partial(QuantType type, const std::vector<uint8_t>& weights, const std::vector<uint8_t>& xq, int width,
                  int first_row, int group_width, int64_t cols, int64_t tile, int64_t first, int64_t last,
                  std::vector<std::array<float, 4>>& acc /* [tiles8][lane] */) {
  const int64_t record_bytes = mma16_bytes(type, 16, 256);
  const int tiles8 = (group_width + 7) / 8;
  const int64_t super_blocks = cols / 256;
  const auto row = [&](int n) { return std::min(first_row + n, width - 1); };
  for (int64_t kb = first; kb < last; ++kb) {
    const uint8_t* record = weights.data() + (tile * super_blocks + kb) * record_bytes;
    const uint8_t* x = xq.data() + kb * width * matmul::kMma16RowBytes;
    const auto word = [](const uint8_t* p) {
      uint32_t w;
      std::memcpy(&w, p, 4);
      return w;
    };
    const auto scale_at = [&](int n, int index) {
      float f;
      std::memcpy(&f, x + matmul::mma16_scales_byte(width, row(n)) + 4 * index, 4);
      return f;
    };
    // Row scales of a lane's rows g (upper) and g + 8 (lower), from the record's headers.
    struct Scales {
      float d, dmin;
      int sc[8], m[8];
    };
    if (type == QuantType::Q8_0 || type == QuantType::Q4_0) {
      block_scaled_record(type, record, x, group_width, row, word, scale_at, acc);
      continue;
    }
    if (type == QuantType::Q6_K) {
      q6_k_record(record, x, group_width, row, word, scale_at, acc);
      continue;
    }
    const auto scales_of = [&](int r) {
      using L = layout::Mma16Layout<block_q4_K>;
      block_q4_K h{};
      std::memcpy(&h, record + L::kCodeBytes + L::kHeaderBytes * r, L::kHeaderBytes);
      Scales s{fp16_to_float(h.d), fp16_to_float(h.dmin), {}, {}};
      for (int j = 0; j < 8; ++j) {
        const KScaleMin sm = get_scale_min_k4(j, h.scales);
        s.sc[j] = sm.scale, s.m[j] = sm.min;
      }
      return s;
    };
    Scales rows[16];
    for (int r = 0; r < 16; ++r) rows[r] = scales_of(r);
    for (int j8 = 0; j8 < tiles8; ++j8) {
      // Minimum terms: Σ_j m_j · s_j by an fp16 mma (exact products, f32 sums) with s split into
      // an fp16 pair; then acc −= dmin · that.
      float mins[32][4];
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i) {
          const int r = ln.g + 8 * (i / 2), n = 8 * j8 + 2 * ln.t + i % 2;
          double sum = 0;
          for (int j = 0; j < 8; ++j) {
            const float s = scale_at(n, 8 + j);
            const float high = fp16_to_float(float_to_fp16(s));
            const float low = fp16_to_float(float_to_fp16(s - high));
            sum += static_cast<double>(rows[r].m[j]) * high + static_cast<double>(rows[r].m[j]) * low;
          }
          mins[l][i] = static_cast<float>(sum);
        }
      }
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i)
          acc[j8 * 32 + l][i] = std::fmaf(-rows[ln.g + 8 * (i / 2)].dmin, mins[l][i], acc[j8 * 32 + l][i]);
      }
      float part[32][4] = {};
      for (int c = 0; c < 4; ++c) {
        uint32_t low[32][4], high[32][4], b_low[32][2], b_high[32][2];
        for (int l = 0; l < 32; ++l) {
          const Lane ln = lane_of(l);
          for (int i = 0; i < 4; ++i) {
            const uint32_t raw = word(record + layout::kMma16ChunkBytes * c + 16 * l + 4 * i);
            low[l][i] = raw & 0x0f0f0f0fu, high[l][i] = raw & 0xf0f0f0f0u;
          }
          const uint8_t* pair = x + matmul::mma16_code_byte(row(8 * j8 + ln.g), 0, 4 * ln.t) + 64 * c;
          b_low[l][0] = word(pair), b_low[l][1] = word(pair + 4);
          b_high[l][0] = word(pair + 8), b_high[l][1] = word(pair + 12);
        }
        int dot[32][4];
        for (int half = 0; half < 2; ++half) {
          mma_int8(half ? high : low, half ? b_high : b_low, 0x4B400000, false, dot);
          const int j = 2 * c + half;
          for (int l = 0; l < 32; ++l) {
            const Lane ln = lane_of(l);
            const float scale = half ? 0.0625f : 1.0f;
            const float upper = scale * static_cast<float>(rows[ln.g].sc[j]);
            const float lower = scale * static_cast<float>(rows[ln.g + 8].sc[j]);
            const float dx0 = scale_at(8 * j8 + 2 * ln.t, j), dx1 = scale_at(8 * j8 + 2 * ln.t + 1, j);
            part[l][0] = std::fmaf(upper * dx0, unbias(dot[l][0]), part[l][0]);
            part[l][1] = std::fmaf(upper * dx1, unbias(dot[l][1]), part[l][1]);
            part[l][2] = std::fmaf(lower * dx0, unbias(dot[l][2]), part[l][2]);
            part[l][3] = std::fmaf(lower * dx1, unbias(dot[l][3]), part[l][3]);
          }
        }
      }
      for (int l = 0; l < 32; ++l) {
        const Lane ln = lane_of(l);
        for (int i = 0; i < 4; ++i)
          acc[j8 * 32 + l][i] = std::fmaf(rows[ln.g + 8 * (i / 2)].d, part[l][i], acc[j8 * 32 + l][i]);
      }
    }
  }
}

// The whole matmul as the kernel computes it with a K split of k_split warps per tile, in row
// groups of `capacity` activation rows (matmul::mma16_row_groups).
std::vector<float> model_matmul(QuantType type, const std::vector<uint8_t>& weights, const std::vector<float>& x,
                                int width, int64_t rows, int64_t cols, int k_split, int capacity) {
  const std::vector<uint8_t> xq = quantize(x, width, cols);
  const int64_t super_blocks = cols / 256;
  std::vector<float> y(static_cast<size_t>(width * rows), std::nanf(""));
  for (int first_row = 0; first_row < width; first_row += capacity) {
    const int group_width = std::min(capacity, width - first_row), tiles8 = (group_width + 7) / 8;
    for (int64_t tile = 0; tile < layout::mma16_tiles(rows); ++tile) {
      std::vector<std::array<float, 4>> total(static_cast<size_t>(tiles8 * 32), {0, 0, 0, 0});
      for (int k_lane = 0; k_lane < k_split; ++k_lane) {
        std::vector<std::array<float, 4>> acc(static_cast<size_t>(tiles8 * 32), {0, 0, 0, 0});
        tile_partial(type, weights, xq, width, first_row, group_width, cols, tile, super_blocks * k_lane / k_split,
                     super_blocks * (k_lane + 1) / k_split, acc);
        for (size_t i = 0; i < acc.size(); ++i)
          for (int e = 0; e < 4; ++e) total[i][e] = k_lane == 0 ? acc[i][e] : total[i][e] + acc[i][e];
      }
      for (int j8 = 0; j8 < tiles8; ++j8)
        for (int l = 0; l < 32; ++l) {
          const Lane ln = lane_of(l);
          for (int i = 0; i < 4; ++i) {
            const int64_t r = tile * 16 + ln.g + 8 * (i / 2);
            const int n = 8 * j8 + 2 * ln.t + i % 2;
            if (r < rows && n < group_width) y[(first_row + n) * rows + r] = total[j8 * 32 + l][i];
          }
        }
    }
  }
  return y;
}

TEST(Mma16Model, MatchesTheCpuOpOnTheSameQ81Activations) {
  struct Shape {
    QuantType type;
    int64_t rows, cols;
    int width, k_split, capacity = 32;  // the model's rows per group, any multiple of 8
  };
  for (const Shape s : {Shape{QuantType::Q4_K, 37, 512, 1, 1}, Shape{QuantType::Q4_K, 64, 768, 5, 2},
                        Shape{QuantType::Q4_K, 16, 1024, 8, 4}, Shape{QuantType::Q4_K, 33, 512, 13, 1},
                        Shape{QuantType::Q4_K, 20, 256, 32, 1}, Shape{QuantType::Q8_0, 37, 512, 1, 1},
                        Shape{QuantType::Q8_0, 48, 768, 9, 2}, Shape{QuantType::Q8_0, 16, 512, 32, 4},
                        Shape{QuantType::Q6_K, 37, 512, 1, 1}, Shape{QuantType::Q6_K, 48, 768, 8, 2},
                        Shape{QuantType::Q6_K, 16, 512, 17, 4}, Shape{QuantType::Q4_0, 37, 512, 1, 1},
                        Shape{QuantType::Q4_0, 48, 768, 9, 2}, Shape{QuantType::Q4_0, 16, 512, 32, 4},
                        Shape{QuantType::Q4_K, 33, 512, 27, 2, 8}, Shape{QuantType::Q6_K, 20, 512, 32, 1, 16}}) {
    SCOPED_TRACE(std::string(name(s.type)) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols) +
                 " N=" + std::to_string(s.width) + " split " + std::to_string(s.k_split) + " capacity " +
                 std::to_string(s.capacity));
    const TensorShape shape{"w", s.type, s.cols, s.rows};
    const WeightSet w = random_weights(std::span(&shape, 1), static_cast<uint64_t>(s.rows * 7 + s.width));
    const HostTensor& t = w.at("w");
    const std::vector<uint8_t> repacked = repack_mma16(s.type, s.rows, s.cols, t.bytes.data());
    std::mt19937 rng(static_cast<uint32_t>(s.cols + s.width));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(s.width * s.cols));
    for (float& v : x) v = dist(rng);
    const std::vector<float> got = model_matmul(s.type, repacked, x, s.width, s.rows, s.cols, s.k_split, s.capacity);
    const std::vector<int64_t> all = spread_rows(s.rows, s.rows);
    const MatmulReference q8 = cpu_matmul_reference(t, q8_1_activations(x), s.width, all);
    const MatmulErrors e = measure_matmul_errors(got, q8, s.width, s.rows);
    EXPECT_TRUE(e.comparable()) << "NaN: an output the model never wrote";
    EXPECT_LE(e.max_abs, 1e-4 * e.rms_ref) << "max |δ| " << e.max_abs << ", RMS " << e.rms_ref;
    const MatmulReference exact = cpu_matmul_reference(t, x, s.width, all);
    const MatmulErrors statistical = measure_matmul_errors(got, exact, s.width, s.rows);
    EXPECT_TRUE(route_error_ratios(plan::Route::mma16, s.type, statistical).passes(statistical));
  }
}

// The kernel's comment promises that a row's result does not depend on the row group it falls in,
// so the launcher may pick the capacity by speed alone.
TEST(Mma16Model, RowGroupsDoNotChangeAnyBit) {
  for (const QuantType type : {QuantType::Q4_K, QuantType::Q6_K}) {
    SCOPED_TRACE(name(type));
    const TensorShape shape{"w", type, 512, 33};
    const WeightSet w = random_weights(std::span(&shape, 1), 11);
    const std::vector<uint8_t> repacked = repack_mma16(type, 33, 512, w.at("w").bytes.data());
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> x(27 * 512);
    for (float& v : x) v = dist(rng);
    const std::vector<float> whole = model_matmul(type, repacked, x, 27, 33, 512, 2, 32);
    for (const int capacity : {8, 16}) {
      const std::vector<float> grouped = model_matmul(type, repacked, x, 27, 33, 512, 2, capacity);
      EXPECT_EQ(0, std::memcmp(whole.data(), grouped.data(), whole.size() * sizeof(float))) << "capacity " << capacity;
    }
  }
}

}  // namespace
}  // namespace g4c
