// The mma16 launch geometry (runtime/gpu/launch_matmul.cpp), which decides speed but not results:
// every K split runs a grid of one wave where one exists, and the largest such split is taken.
#include <gtest/gtest.h>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/weight_layouts.h"
#include "g4c/runtime/gpu/launch_matmul.h"

namespace g4c {
namespace {

int64_t grid_blocks(int64_t rows, int width, int k_split) {
  const int64_t tiles_per_block = matmul::kWarps / k_split;
  return (layout::mma16_tiles(rows) + tiles_per_block - 1) / tiles_per_block * matmul::mma16_row_groups(width);
}

TEST(Mma16Launch, TakesTheWidestKSplitThatRunsInOneWave) {
  for (const int sm_count : {78, 132})
    for (const int64_t rows : {512, 2048, 3840, 4096, 8192, 15360, 262144})
      for (int width = 1; width <= matmul::kMaxWidth; ++width) {
        SCOPED_TRACE(std::to_string(rows) + " rows, N=" + std::to_string(width) + ", " + std::to_string(sm_count) +
                     " SMs");
        const int64_t resident = int64_t{sm_count} * matmul::mma16_min_blocks_per_sm(matmul::mma16_capacity(width));
        const int k_split = gpu::mma16_k_split(rows, width, sm_count);
        ASSERT_TRUE(k_split == 1 || k_split == 2 || k_split == 4);
        if (k_split > 1) EXPECT_LE(grid_blocks(rows, width, k_split), resident);
        if (k_split < 4) EXPECT_GT(grid_blocks(rows, width, 2 * k_split), resident);
      }
}

TEST(Mma16Launch, TwelveBShapesAtOneRow) {
  EXPECT_EQ(gpu::mma16_k_split(4096, 1, 132), 4);     // 256 tiles: 256 blocks of four K-lanes
  EXPECT_EQ(gpu::mma16_k_split(15360, 1, 132), 2);    // 960 tiles: 480 blocks fit 4 × 132
  EXPECT_EQ(gpu::mma16_k_split(262144, 1, 132), 1);   // the LM head: many waves at any split
}

TEST(Mma16Launch, RowGroupsCoverTheWidth) {
  for (int width = 1; width <= matmul::kMaxWidth; ++width) {
    const int capacity = matmul::mma16_capacity(width), groups = matmul::mma16_row_groups(width);
    EXPECT_EQ(capacity % 8, 0);
    EXPECT_LE(capacity, matmul::kMma16MaxCapacity);
    EXPECT_GE(groups * capacity, width);
    EXPECT_LT((groups - 1) * capacity, width) << "a group with no row";
  }
}

}  // namespace
}  // namespace g4c
