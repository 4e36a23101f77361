// Device weight layouts: how a matmul weight is laid out in device memory. The compiler decides
// per weight (compiler/passes/weight_layout.cpp) and the plan prints it (`layout = mma16`); the
// runtime repacks the GGUF bytes once at load. One definition for g++ and NVRTC: the repacking
// kernel, the host repacking the tests check it against, and the kernels that read the layout
// all index through the functions here.
//
// gguf: the file's own layout, rows of blocks one after another.
//
// mma16 (Q4_K, Q6_K, Q8_0, Q4_0): what the mma16 route (kernels/matmul_mma16.cuh) streams. Rows are grouped
// in tiles of 16 (the M side of an int8 mma.m16n8k32); each tile is a run of records, one per
// 256-column super-block kb, each holding exactly the 16 rows' GGUF bytes of it (so the layout
// takes no more memory when rows % 16 == 0): first the codes in mma fragment order, 16 bytes per
// lane and chunk — lane 4g + t's are columns 4t..4t+3 of rows g and g + 8, then columns
// 16+4t..16+4t+3 of rows g and g + 8, the A fragment of one 32-column block (Q4_K: of two, in the
// low and high nibbles), and a warp's 32 loads are 512 contiguous bytes — then the rows' scales
// (Mma16Layout below). Rows past the matrix in the last tile are zeros (scale 0: every weight 0).
#pragma once

#include "g4c/kernels/quant_blocks.h"

namespace g4c {

enum class WeightLayout : unsigned char { gguf = 0, mma16 = 1 };

namespace layout {

inline constexpr int kMma16TileRows = 16;
inline constexpr int kMma16SuperBlock = 256;  // the K-step: one record per 16 rows × 256 columns
inline constexpr int kMma16ChunkBytes = 512;  // one fragment chunk: 32 lanes × 16 bytes

G4C_HD constexpr long long mma16_tiles(long long rows) { return (rows + kMma16TileRows - 1) / kMma16TileRows; }

// A row and a byte of one 256-column super-block of it, in GGUF's layout.
struct RowByte {
  int row;   // in the tile, 0..15
  int byte;  // in the row's 256 columns (its blocks one after another)
};

// The mma16 layout of one weight type: a record of 16 rows × 256 columns holds exactly their
// GGUF bytes, codes first in fragment order (see the file comment), then the rows' scales; and
// for every 2-byte unit of a record, where in the GGUF super-blocks it comes from.
template <class Block>
struct Mma16Layout;

// Q4_K: four chunks c of 64 columns; lane 4g + t's 16 bytes hold qs[32c + 4t ..+3] of rows g,
// g + 8, then qs[32c + 16 + 4t ..+3] of rows g, g + 8 (low nibbles: sub-block 2c, high: 2c + 1);
// then the 16 rows' 16-byte headers (d, dmin, 12 scale bytes).
template <>
struct Mma16Layout<block_q4_K> {
  static constexpr int kRecordBytes = kMma16TileRows * static_cast<int>(sizeof(block_q4_K));  // 2304
  static constexpr int kCodeBytes = kMma16TileRows * static_cast<int>(sizeof(block_q4_K::qs));  // 2048
  static constexpr int kHeaderBytes = static_cast<int>(sizeof(block_q4_K) - sizeof(block_q4_K::qs));  // 16
  G4C_HD static constexpr RowByte source(int within) {
    if (within >= kCodeBytes) return {(within - kCodeBytes) / kHeaderBytes, (within - kCodeBytes) % kHeaderBytes};
    const int c = within / kMma16ChunkBytes, lane = within % kMma16ChunkBytes / 16, slot = within % 16 / 4;
    return {lane / 4 + 8 * (slot % 2), kHeaderBytes + 32 * c + 16 * (slot / 2) + 4 * (lane % 4) + within % 4};
  }
};

// Q8_0: eight chunks, one per 32-column block b; lane 4g + t's 16 bytes hold qs[4t ..+3] of
// rows g, g + 8, then qs[16 + 4t ..+3] of rows g, g + 8; then the 16 rows' eight block scales d
// (fp16), row by row.
template <>
struct Mma16Layout<block_q8_0> {
  static constexpr int kBlockBytes = static_cast<int>(sizeof(block_q8_0));  // 34
  static constexpr int kRecordBytes = kMma16TileRows * 8 * kBlockBytes;     // 4352
  static constexpr int kCodeBytes = kMma16TileRows * 8 * 32;                // 4096
  G4C_HD static constexpr RowByte source(int within) {
    if (within >= kCodeBytes) {
      const int scales = within - kCodeBytes;  // [row][block] fp16
      return {scales / 16, kBlockBytes * (scales % 16 / 2) + scales % 2};
    }
    const int b = within / kMma16ChunkBytes, lane = within % kMma16ChunkBytes / 16, slot = within % 16 / 4;
    return {lane / 4 + 8 * (slot % 2), kBlockBytes * b + 2 + 16 * (slot / 2) + 4 * (lane % 4) + within % 4};
  }
};

// Q4_0: four chunks c of two 32-column blocks; lane 4g + t's 16 bytes hold qs[4t ..+3] of rows g,
// g + 8 of block 2c, then of rows g, g + 8 of block 2c + 1 (each byte: column 4t + i in the low
// nibble, 16 + 4t + i in the high one, so 8 bytes are a block's whole A fragment); then the 16 rows'
// eight block scales d (fp16), row by row.
template <>
struct Mma16Layout<block_q4_0> {
  static constexpr int kBlockBytes = static_cast<int>(sizeof(block_q4_0));  // 18
  static constexpr int kRecordBytes = kMma16TileRows * 8 * kBlockBytes;     // 2304
  static constexpr int kCodeBytes = kMma16TileRows * 8 * 16;                // 2048
  G4C_HD static constexpr RowByte source(int within) {
    if (within >= kCodeBytes) {
      const int scales = within - kCodeBytes;  // [row][block] fp16
      return {scales / 16, kBlockBytes * (scales % 16 / 2) + scales % 2};
    }
    const int c = within / kMma16ChunkBytes, lane = within % kMma16ChunkBytes / 16, slot = within % 16 / 4;
    return {lane / 4 + 8 * (slot % 2), kBlockBytes * (2 * c + slot / 2) + 2 + 4 * (lane % 4) + within % 4};
  }
};

// Q6_K: ql in four chunks (2h + o for half h, o = 0, 1; lane 4g + t's 16 bytes hold
// ql[64h + 32o + 4t ..+3] of rows g, g + 8, then ql[64h + 32o + 16 + 4t ..+3] of rows g, g + 8: the
// low nibbles of quarter o, the high nibbles of quarter o + 2 of half h); then qh in two chunks
// (half h: qh[32h + 4t ..+3] of rows g, g + 8, then qh[32h + 16 + 4t ..+3], bits 2q, 2q + 1 for
// quarter q); then the 16 rows' 16 signed scales, row by row; then their d (fp16), row by row.
template <>
struct Mma16Layout<block_q6_K> {
  static constexpr int kRecordBytes = kMma16TileRows * static_cast<int>(sizeof(block_q6_K));  // 3360
  static constexpr int kQlBytes = 4 * kMma16ChunkBytes;                                       // 2048
  static constexpr int kQhBytes = 2 * kMma16ChunkBytes;                                       // 1024
  static constexpr int kScalesOffset = kQlBytes + kQhBytes;                                   // 3072
  static constexpr int kDOffset = kScalesOffset + kMma16TileRows * 16;                        // 3328
  G4C_HD static constexpr RowByte source(int within) {
    if (within >= kDOffset) return {(within - kDOffset) / 2, 208 + within % 2};
    if (within >= kScalesOffset) return {(within - kScalesOffset) / 16, 192 + (within - kScalesOffset) % 16};
    const int plane = within >= kQlBytes ? within - kQlBytes : within;
    const int chunk = plane / kMma16ChunkBytes, lane = plane % kMma16ChunkBytes / 16, slot = plane % 16 / 4;
    const int row = lane / 4 + 8 * (slot % 2), column = 16 * (slot / 2) + 4 * (lane % 4) + within % 4;
    if (within < kQlBytes) return {row, 64 * (chunk / 2) + 32 * (chunk % 2) + column};
    return {row, 128 + 32 * chunk + column};
  }
};

// GGUF bytes of one row's 256-column super-block.
template <class Block>
G4C_HD constexpr long long super_block_bytes() {
  return static_cast<long long>(sizeof(Block)) * (kMma16SuperBlock / Block::kElems);
}

// Bytes of a rows × cols weight in the mma16 layout (cols % 256 == 0): as many as its GGUF bytes
// when rows % 16 == 0.
template <class Block>
G4C_HD constexpr long long mma16_bytes(long long rows, long long cols) {
  return mma16_tiles(rows) * (cols / kMma16SuperBlock) * Mma16Layout<Block>::kRecordBytes;
}

// Where the 2 bytes at `unit` (an even byte offset) of the mma16 layout come from: a byte offset
// into the GGUF rows, or −1 for the zeros of a row past the matrix. Every 2-byte unit of the GGUF
// rows is the source of exactly one unit (unit_tests/quant/weight_layouts_test.cpp).
template <class Block>
G4C_HD constexpr long long mma16_source_offset(long long rows, long long cols, long long unit) {
  using L = Mma16Layout<Block>;
  const long long super_blocks = cols / kMma16SuperBlock;
  const long long record = unit / L::kRecordBytes;
  const RowByte rb = L::source(static_cast<int>(unit % L::kRecordBytes));
  const long long row = record / super_blocks * kMma16TileRows + rb.row;
  if (row >= rows) return -1;
  return (row * super_blocks + record % super_blocks) * super_block_bytes<Block>() + rb.byte;
}

// Where weight (row, col) sits in the mma16 layout as the kernel's fragments read it: the byte
// holding its code (Q4_K: low nibble, shift 0, of sub-block 2c, or high nibble, shift 4, of
// 2c + 1; Q8_0: the whole byte), and its row's scales in the record (Q4_K: the header; Q8_0: the
// eight block scales). Column p of a 32-column block is in lane 4g + t with g = row % 8 and
// t = (p % 16) / 4, word slot (row % 16 ≥ 8) + 2·(p ≥ 16), byte p % 4.
struct Mma16Position {
  long long code_byte;
  int shift;
  long long scales_byte;
};

template <class Block>
G4C_HD constexpr Mma16Position mma16_position(long long cols, long long row, long long col) {
  using L = Mma16Layout<Block>;
  const long long record = (row / kMma16TileRows) * (cols / kMma16SuperBlock) + col / kMma16SuperBlock;
  const int r = static_cast<int>(row % kMma16TileRows), within = static_cast<int>(col % kMma16SuperBlock);
  const int j = within / 32, p = within % 32;
  const int lane = 4 * (r % 8) + (p % 16) / 4, slot = (r >= 8 ? 1 : 0) + 2 * (p >= 16 ? 1 : 0);
  const long long base = record * L::kRecordBytes;
  const bool nibbles = Block::kElems == 256;  // Q4_K: two sub-blocks per chunk
  const int chunk = nibbles ? j / 2 : j;
  return {base + kMma16ChunkBytes * chunk + 16 * lane + 4 * slot + p % 4, nibbles ? 4 * (j % 2) : 0,
          base + L::kCodeBytes + 16 * r};  // a 16-byte header, or eight fp16 scales
}

// Q4_0's: column p of block j is in lane 4g + t (t = (p % 16) / 4), in the 8 bytes of block j % 2
// of chunk j / 2, word (row % 16 ≥ 8), byte p % 4, the high nibble when p ≥ 16; its row's eight
// block scales as Q8_0's.
G4C_HD constexpr Mma16Position mma16_q4_0_position(long long cols, long long row, long long col) {
  using L = Mma16Layout<block_q4_0>;
  const long long record = (row / kMma16TileRows) * (cols / kMma16SuperBlock) + col / kMma16SuperBlock;
  const int r = static_cast<int>(row % kMma16TileRows), within = static_cast<int>(col % kMma16SuperBlock);
  const int j = within / 32, p = within % 32;
  const int lane = 4 * (r % 8) + (p % 16) / 4;
  const long long base = record * L::kRecordBytes;
  return {base + kMma16ChunkBytes * (j / 2) + 16 * lane + 8 * (j % 2) + 4 * (r >= 8 ? 1 : 0) + p % 4,
          p >= 16 ? 4 : 0, base + L::kCodeBytes + 16 * r};
}

// Q6_K's: the low four bits (ql, shift 0 or 4), the top two (qh, shift 2q) and the row's 16
// scales and d.
struct Mma16Q6KPosition {
  long long low_byte;
  int low_shift;
  long long high_byte;
  int high_shift;
  long long scales_byte, d_byte;
};

G4C_HD constexpr Mma16Q6KPosition mma16_q6_k_position(long long cols, long long row, long long col) {
  using L = Mma16Layout<block_q6_K>;
  const long long record = (row / kMma16TileRows) * (cols / kMma16SuperBlock) + col / kMma16SuperBlock;
  const int r = static_cast<int>(row % kMma16TileRows), within = static_cast<int>(col % kMma16SuperBlock);
  const int h = within / 128, q = within % 128 / 32, p = within % 32;
  const int lane = 4 * (r % 8) + (p % 16) / 4, slot = (r >= 8 ? 1 : 0) + 2 * (p >= 16 ? 1 : 0);
  const long long base = record * L::kRecordBytes, in_chunk = 16 * lane + 4 * slot + p % 4;
  return {base + kMma16ChunkBytes * (2 * h + q % 2) + in_chunk, 4 * (q / 2),
          base + L::kQlBytes + kMma16ChunkBytes * h + in_chunk, 2 * q,
          base + L::kScalesOffset + 16 * r, base + L::kDOffset + 2 * r};
}

}  // namespace layout
}  // namespace g4c
