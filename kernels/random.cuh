// random_weights {type}: the blocks of a `random:seed=N` tensor generated on the device, bit for
// bit as the CPU generator (runtime/weights/random_weights.cpp) writes them: a thread per block
// calls the same random_block of random_blocks.h.
//
// Why the bytes agree although NVRTC contracts a·b + c into an FMA by default: every float
// expression of random_blocks.h is either a lone product (rounded once either way) or a sum whose
// product is exact — k · 2^-17 with k < 2^16 — and fma(a, b, c) rounds a·b + c once, which equals
// rounding the sum of the exact product. Everything else (the streams, codes, scale packing and
// fp16/bf16 rounding) is integer arithmetic. A change to that header that breaks this shows up in
// unit-tests/gpu/ops_test.cpp, which compares the bytes of every type.
#include "ops_common.cuh"

namespace g4c {

template <class Block>
__global__ void __launch_bounds__(kRandomThreads) random_weights(RandomWeightsArgs a) {
  wait_for_prior_grids();
  Block* blocks = static_cast<Block*>(a.blocks);
  const long long stride = static_cast<long long>(gridDim.x) * kRandomThreads;
  for (long long i = static_cast<long long>(blockIdx.x) * kRandomThreads + threadIdx.x; i < a.count; i += stride) {
    Block block;
    random_block(a.params, i, block);
    blocks[i] = block;
  }
}

}  // namespace g4c
