// Device weight layouts: how a matmul weight is laid out in device memory. The compiler decides
// per weight (compiler/passes/weight_layout.cpp) and the plan prints it (`layout = mma16`); the
// runtime repacks the GGUF bytes once at load. One definition for g++ and NVRTC: the repacking
// kernel, the host repacking the tests check it against, and the kernels that read the layout
// all index through the functions here.
//
// gguf: the file's own layout, rows of blocks one after another.
//
// mma16 (Q4_K): what the mma16 route (kernels/matmul_mma16.cuh) streams. Rows are grouped in
// tiles of 16 (the M side of an int8 mma.m16n8k32); each tile is a run of records, one per
// 256-column super-block kb, and each record is 2304 bytes — as many as the 16 rows' GGUF
// super-blocks, so the layout takes no more memory when rows % 16 == 0:
//   bytes 0..2047: the codes in mma fragment order, four chunks c of 64 columns, each 32 lanes
//     × 16 bytes. Lane 4g + t holds the words qs[32c + 4t ..+3] of rows g and g + 8, then
//     qs[32c + 16 + 4t ..+3] of rows g and g + 8: one 16-byte load gives it the A fragment of
//     sub-block 2c (the low nibbles) and of sub-block 2c + 1 (the high nibbles) at once, and a
//     warp's 32 loads are 512 contiguous bytes.
//   bytes 2048..2303: the 16 rows' super-block headers (d, dmin, 12 scale bytes), row by row.
// Rows past the matrix in the last tile are zeros (d = 0: every weight 0).
#pragma once

#include "g4c/kernels/quant_blocks.h"

namespace g4c {

enum class WeightLayout : unsigned char { gguf = 0, mma16 = 1 };

namespace layout {

inline constexpr int kMma16TileRows = 16;
inline constexpr int kMma16SuperBlock = 256;
inline constexpr int kMma16RecordBytes = 2304;     // Q4_K: 16 rows × 144 bytes
inline constexpr int kMma16CodeBytes = 2048;       // the fragment-ordered codes of a record
inline constexpr int kMma16ChunkBytes = 512;       // one chunk c: 32 lanes × 16 bytes
inline constexpr int kQ4KHeaderBytes = 16;         // d, dmin, scales[12]: where qs starts

static_assert(kMma16RecordBytes == kMma16TileRows * sizeof(block_q4_K) &&
                  kMma16CodeBytes == kMma16TileRows * sizeof(block_q4_K::qs) &&
                  kQ4KHeaderBytes == sizeof(block_q4_K) - sizeof(block_q4_K::qs),
              "an mma16 record holds the 16 rows' super-blocks, codes first");

G4C_HD constexpr long long mma16_tiles(long long rows) { return (rows + kMma16TileRows - 1) / kMma16TileRows; }

// Bytes of a rows × cols Q4_K weight in the mma16 layout (cols % 256 == 0).
G4C_HD constexpr long long mma16_bytes(long long rows, long long cols) {
  return mma16_tiles(rows) * (cols / kMma16SuperBlock) * kMma16RecordBytes;
}

// Where the 4 bytes at `word` (a byte offset, a multiple of 4) of the mma16 layout come from: a
// byte offset into the GGUF rows (row_bytes = cols / 256 · 144 each), or −1 for the zeros of a
// row past the matrix. Every 4-byte word of the GGUF rows is the source of exactly one word.
G4C_HD constexpr long long mma16_source_offset(long long rows, long long cols, long long word) {
  const long long super_blocks = cols / kMma16SuperBlock;
  const long long row_bytes = super_blocks * static_cast<long long>(sizeof(block_q4_K));
  const long long record = word / kMma16RecordBytes, within = word % kMma16RecordBytes;
  const long long tile = record / super_blocks, kb = record % super_blocks;
  long long row, byte;  // the source row in the tile and the byte in its super-block
  if (within < kMma16CodeBytes) {
    const int c = static_cast<int>(within / kMma16ChunkBytes);
    const int lane = static_cast<int>(within % kMma16ChunkBytes / 16), slot = static_cast<int>(within % 16 / 4);
    const int g = lane / 4, t = lane % 4;
    row = g + 8 * (slot % 2);                                       // slots: rows g, g + 8, g, g + 8
    byte = kQ4KHeaderBytes + 32 * c + 16 * (slot / 2) + 4 * t;  // qs follows the header
  } else {
    row = (within - kMma16CodeBytes) / kQ4KHeaderBytes;
    byte = (within - kMma16CodeBytes) % kQ4KHeaderBytes;
  }
  const long long source_row = tile * kMma16TileRows + row;
  if (source_row >= rows) return -1;
  return source_row * row_bytes + kb * static_cast<long long>(sizeof(block_q4_K)) + byte;
}

// Where weight (row, col) of a Q4_K matrix sits in the mma16 layout, as the mma16 kernel's
// fragments read it: the byte holding its 4-bit code (low nibble: shift 0, sub-block 2c; high
// nibble: shift 4, sub-block 2c + 1) and the first byte of its row's super-block header. Column p
// of sub-block j is in chunk c = j / 2, lane 4g + t with g = row % 8 and t = (p % 16) / 4, word
// slot (row % 16 ≥ 8) + 2·(p ≥ 16), byte p % 4.
struct Mma16Position {
  long long code_byte;
  int shift;
  long long header_byte;
};

G4C_HD constexpr Mma16Position mma16_position(long long cols, long long row, long long col) {
  const long long super_blocks = cols / kMma16SuperBlock;
  const long long record = (row / kMma16TileRows) * super_blocks + col / kMma16SuperBlock;
  const int r = static_cast<int>(row % kMma16TileRows), within = static_cast<int>(col % kMma16SuperBlock);
  const int j = within / 32, p = within % 32;
  const int lane = 4 * (r % 8) + (p % 16) / 4, slot = (r >= 8 ? 1 : 0) + 2 * (p >= 16 ? 1 : 0);
  const long long base = record * kMma16RecordBytes;
  return {base + kMma16ChunkBytes * (j / 2) + 16 * lane + 4 * slot + p % 4, 4 * (j % 2),
          base + kMma16CodeBytes + kQ4KHeaderBytes * r};
}

}  // namespace layout
}  // namespace g4c
