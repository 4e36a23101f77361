// embed_gather {type}: out[r] = dequantized table row ids[r] × scale — the token embedding
// (scale √hidden) and the PLE table row (scale √P) of gemma4.md §8.1 and §3.2.
//
// A thread per output element, decoding it with quant_blocks.h's dequantize_element: the same
// exact products as the CPU's dequantize_row, then one rounded multiply by the scale, so the rows
// equal the CPU op's bit for bit. Neighbouring threads share a block's bytes through L1.
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

}  // namespace g4c
