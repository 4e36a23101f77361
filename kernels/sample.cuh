// sample: per row, the index of the largest logit — the first one on ties, as std::max_element
// (greedy decoding; gemma4.md §8 step 7). A block of 1024 threads per row: each thread scans its
// elements in increasing order keeping the strictly larger, then a tree keeps the larger value,
// or the smaller index of equal values.
#include "ops_common.cuh"

namespace g4c {

struct Candidate {
  float value;
  int index;  // kNoIndex until the thread has seen an element
};

inline constexpr int kNoIndex = 0x7fffffff;

__device__ inline bool better(Candidate a, Candidate b) {
  return a.value > b.value || (a.value == b.value && a.index < b.index);
}

__device__ inline Candidate warp_best(Candidate c) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const Candidate other{__shfl_xor_sync(kFullWarp, c.value, offset), __shfl_xor_sync(kFullWarp, c.index, offset)};
    if (better(other, c)) c = other;
  }
  return c;
}

__global__ void __launch_bounds__(kSampleThreads) sample(SampleArgs a) {
  wait_for_prior_grids();
  const float* logits = a.logits + blockIdx.x * a.vocab;
  const int tid = threadIdx.x;
  Candidate best{negative_infinity(), kNoIndex};
  auto consider = [&](float value, long long index) {
    const Candidate c{value, static_cast<int>(index)};
    if (better(c, best)) best = c;
  };
  long long scalar_begin = 0;
  if (a.vectorized) {
    for (long long i = tid; i < a.vocab / 4; i += kSampleThreads) {
      const float4 v = load_float4(logits + 4 * i);
      consider(v.x, 4 * i), consider(v.y, 4 * i + 1), consider(v.z, 4 * i + 2), consider(v.w, 4 * i + 3);
    }
    scalar_begin = a.vocab / 4 * 4;
  }
  for (long long i = scalar_begin + tid; i < a.vocab; i += kSampleThreads) consider(logits[i], i);

  __shared__ Candidate warp_bests[kSampleThreads / 32];
  best = warp_best(best);
  if (tid % 32 == 0) warp_bests[tid / 32] = best;
  __syncthreads();
  if (tid >= 32) return;
  best = warp_best(warp_bests[tid]);
  if (tid == 0) a.tokens[blockIdx.x] = best.index;
}

}  // namespace g4c
