// embed_gather {type}: out[r] = dequantized table row ids[r] × scale — the token embedding
// (scale √hidden) and the PLE table row (scale √P) of gemma4.md §8.1 and §3.2.
//
// A thread per output element, decoding it with quant_blocks.h's dequantize_element: the same
// exact products as the CPU's dequantize_row, then one rounded multiply by the scale, so the rows
// equal the CPU op's bit for bit. Neighbouring threads share a block's bytes through L1.
//
// embed_gather {type, layout = mma16}: the same from a table repacked for the mma16 route (a tied
// embedding that is also the LM head). A block per (row, 256-column super-block) puts the row's
// GGUF bytes back together in shared memory — it walks the 16-row record and keeps the 2-byte units
// whose source (Mma16Layout::source, the map the repacking used) is its row — and then decodes
// them exactly as above. The whole record is read for one row of it: 16× the bytes of a GGUF
// gather, a few MB per step at most.
#include "g4c/kernels/weight_layouts.h"
#include "ops_common.cuh"

namespace g4c {

template <class Block>
__global__ void __launch_bounds__(kGatherThreads) embed_gather(EmbedGatherArgs a) {
  wait_for_prior_grids();
  const long long element = static_cast<long long>(blockIdx.x) * kGatherThreads + threadIdx.x;
  const int row = blockIdx.y;
  if (element >= a.row_elems) return;
  const long long id = a.ids[row];
  if (id < 0 || id >= a.table_rows) {  // a second line of defence: never read outside the table
    a.out[row * a.row_elems + element] = __int_as_float(0x7fc00000);
    return;
  }
  const long long blocks_per_row = a.row_elems / Block::kElems;
  const Block* table_row = static_cast<const Block*>(a.table) + id * blocks_per_row;
  a.out[row * a.row_elems + element] = dequantize_element(table_row, element) * a.scale;
}

template <class Block>
__global__ void __launch_bounds__(kGatherThreads) embed_gather_mma16(EmbedGatherArgs a) {
  wait_for_prior_grids();
  static_assert(kGatherThreads == layout::kMma16SuperBlock, "a thread per column of a super-block");
  using Layout = layout::Mma16Layout<Block>;
  __shared__ unsigned short gguf[layout::super_block_bytes<Block>() / 2];
  const int row = blockIdx.y, kb = blockIdx.x;
  const long long element = static_cast<long long>(kb) * layout::kMma16SuperBlock + threadIdx.x;
  const long long id = a.ids[row];
  if (id < 0 || id >= a.table_rows) {  // a second line of defence: never read outside the table
    a.out[row * a.row_elems + element] = __int_as_float(0x7fc00000);
    return;
  }
  const long long super_blocks = a.row_elems / layout::kMma16SuperBlock;
  const long long record = (id / layout::kMma16TileRows) * super_blocks + kb;
  const unsigned short* units = static_cast<const unsigned short*>(a.table) + record * (Layout::kRecordBytes / 2);
  const int tile_row = static_cast<int>(id % layout::kMma16TileRows);
  for (int u = threadIdx.x; u < Layout::kRecordBytes / 2; u += kGatherThreads) {
    const layout::RowByte source = Layout::source(2 * u);
    if (source.row == tile_row) gguf[source.byte / 2] = units[u];
  }
  __syncthreads();
  a.out[row * a.row_elems + element] =
      dequantize_element(reinterpret_cast<const Block*>(gguf), threadIdx.x) * a.scale;
}

}  // namespace g4c
