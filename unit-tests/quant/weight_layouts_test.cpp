// The mma16 device layout (g4c/kernels/weight_layouts.h) against GGUF's Q4_K, Q6_K, Q8_0 and Q4_0 blocks, on
// the CPU: repacking moves every 2-byte unit of the GGUF rows exactly once, and every weight read
// back through the position the mma16 kernel's fragments use decodes to the bits GGUF's layout
// gives — with a last tile the rows do not fill (zeros), several super-blocks, and every row phase.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"

namespace g4c {
namespace {

constexpr QuantType kTypes[] = {QuantType::Q4_K, QuantType::Q6_K, QuantType::Q8_0, QuantType::Q4_0};

std::vector<uint8_t> random_rows(QuantType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(rows * cols));
  for (float& v : values) v = dist(rng);
  std::vector<uint8_t> bytes(static_cast<size_t>(row_bytes(type, cols) * rows));
  quantize_row(type, values.data(), bytes.data(), rows * cols);
  return bytes;
}

template <class Block>
void expect_each_unit_moved_once(int64_t rows, int64_t cols, QuantType type) {
  std::set<int64_t> sources;
  int64_t zeros = 0;
  const int64_t bytes = layout::mma16_bytes<Block>(rows, cols);
  EXPECT_EQ(bytes, mma16_bytes(type, rows, cols));
  for (int64_t unit = 0; unit < bytes; unit += 2) {
    const int64_t from = layout::mma16_source_offset<Block>(rows, cols, unit);
    if (from < 0) {
      ++zeros;
      continue;
    }
    EXPECT_EQ(from % 2, 0) << "unit " << unit;
    EXPECT_TRUE(sources.insert(from).second) << "source byte " << from << " moved twice";
  }
  const int64_t gguf_bytes = row_bytes(type, cols) * rows;
  EXPECT_EQ(static_cast<int64_t>(sources.size()) * 2, gguf_bytes) << rows << " rows";
  EXPECT_EQ(*sources.rbegin(), gguf_bytes - 2);
  EXPECT_EQ(zeros * 2, bytes - gguf_bytes) << "padding rows";
}

TEST(Mma16Layout, RepackingMovesEveryGgufUnitExactlyOnce) {
  for (int64_t rows : {16, 37, 64}) {
    expect_each_unit_moved_once<block_q4_K>(rows, 768, QuantType::Q4_K);
    expect_each_unit_moved_once<block_q8_0>(rows, 768, QuantType::Q8_0);
    expect_each_unit_moved_once<block_q6_K>(rows, 768, QuantType::Q6_K);
    expect_each_unit_moved_once<block_q4_0>(rows, 768, QuantType::Q4_0);
  }
}

// embed_gather_mma16 (kernels/embed.cuh) rebuilds one row's GGUF super-block from its 16-row
// record: every 2-byte unit u whose source (Layout::source(2u)) is that row goes to source.byte.
// The same walk here must give back the GGUF bytes of every row and super-block.
template <class Block>
void expect_rows_rebuilt_from_records(QuantType type, int64_t rows, int64_t cols) {
  using L = layout::Mma16Layout<Block>;
  const std::vector<uint8_t> gguf = random_rows(type, rows, cols, static_cast<uint32_t>(rows + 3));
  const std::vector<uint8_t> repacked = repack_mma16(type, rows, cols, gguf.data());
  const int64_t super_blocks = cols / 256, bytes = layout::super_block_bytes<Block>();
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t kb = 0; kb < super_blocks; ++kb) {
      std::vector<uint8_t> rebuilt(static_cast<size_t>(bytes), 0xAB);
      const uint8_t* record = repacked.data() + ((row / 16) * super_blocks + kb) * L::kRecordBytes;
      for (int u = 0; u < L::kRecordBytes / 2; ++u) {
        const layout::RowByte source = L::source(2 * u);
        if (source.row == row % 16) std::memcpy(&rebuilt[source.byte], record + 2 * u, 2);
      }
      ASSERT_EQ(0, std::memcmp(rebuilt.data(), gguf.data() + (row * super_blocks + kb) * bytes, bytes))
          << name(type) << " row " << row << " super-block " << kb;
    }
}

TEST(Mma16Layout, GatherRebuildsEveryRowFromItsRecords) {
  expect_rows_rebuilt_from_records<block_q4_K>(QuantType::Q4_K, 37, 512);
  expect_rows_rebuilt_from_records<block_q6_K>(QuantType::Q6_K, 37, 512);
  expect_rows_rebuilt_from_records<block_q8_0>(QuantType::Q8_0, 37, 512);
  expect_rows_rebuilt_from_records<block_q4_0>(QuantType::Q4_0, 37, 512);
}

TEST(Mma16Layout, EveryWeightReadsBackBitForBit) {
  for (QuantType type : kTypes)
    for (int64_t rows : {16, 37}) {
      SCOPED_TRACE(std::string(name(type)) + ", " + std::to_string(rows) + " rows");
      const int64_t cols = 512;
      const std::vector<uint8_t> gguf = random_rows(type, rows, cols, static_cast<uint32_t>(rows));
      const std::vector<uint8_t> repacked = repack_mma16(type, rows, cols, gguf.data());
      ASSERT_EQ(static_cast<int64_t>(repacked.size()), mma16_bytes(type, rows, cols));
      const int64_t row_length = row_bytes(type, cols);
      int mismatches = 0;
      for (int64_t row = 0; row < rows; ++row)
        for (int64_t col = 0; col < cols; ++col) {
          const float want = dequantize_element(type, gguf.data() + row * row_length, col);
          const float got = mma16_weight(type, repacked.data(), cols, row, col);
          if (std::memcmp(&want, &got, 4) != 0 && ++mismatches <= 5)
            ADD_FAILURE() << "W[" << row << "][" << col << "] reads " << got << ", is " << want;
        }
      EXPECT_EQ(mismatches, 0);
      for (int64_t row = rows; row < layout::mma16_tiles(rows) * layout::kMma16TileRows; ++row)
        EXPECT_EQ(mma16_weight(type, repacked.data(), cols, row, cols - 1), 0.0f) << "padding row " << row;
    }
}

}  // namespace
}  // namespace g4c
