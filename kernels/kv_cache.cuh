// kv_write {kind, head_dim, kv_heads, dtype[, storage = v_only]}: stores each row's K and V
// (already normed and roped) at its position in its sequence's cache, in g4c::cpu::KvCacheView's
// layout: per sequence, `slots` rows of KV_HEADS·HEAD_DIM elements, K and V in separate arrays; a
// ring cache keeps position p in slot p mod slots. A v_only cache has no K array: V alone is
// stored (attention rebuilds K from it). Rows with seq < 0 are padding and store nothing.
//
// A thread per 16 bytes of the cache row (8 half or 4 float elements) of K and of V, rounding with
// quant_blocks.h's conversions so the cache bytes equal the CPU's exactly.
#include "ops_common.cuh"

namespace g4c {

template <bool RING, int HEAD_DIM, int KV_HEADS, class Elem, bool V_ONLY>
__global__ void __launch_bounds__(kKvWriteThreads) kv_write(KvWriteArgs a) {
  wait_for_prior_grids();
  constexpr int kRowElems = KV_HEADS * HEAD_DIM;
  constexpr int kChunkElems = CacheElement<Elem>::kChunkElems;
  static_assert(kRowElems % kChunkElems == 0, "cache rows are whole 16-byte chunks");
  const int row = blockIdx.y;
  const int offset = (blockIdx.x * kKvWriteThreads + threadIdx.x) * kChunkElems;
  const int seq = a.seq[row];
  const long long slot = cache_slot<RING>(seq, a.pos[row], a.slots, a.sequences);
  if (slot < 0 || offset >= kRowElems) return;
  const long long element = (seq * a.slots + slot) * kRowElems + offset;
  const long long source = static_cast<long long>(row) * kRowElems + offset;
  constexpr int kElemBytes = 16 / kChunkElems;
  if constexpr (!V_ONLY)
    *reinterpret_cast<uint4*>(static_cast<char*>(a.k_cache) + element * kElemBytes) = encode_chunk<Elem>(a.k + source);
  *reinterpret_cast<uint4*>(static_cast<char*>(a.v_cache) + element * kElemBytes) = encode_chunk<Elem>(a.v + source);
}

}  // namespace g4c
