// Programmatic dependent launch (Hopper, sm_90): the runtime launches every kernel of a step with
// cudaLaunchAttributeProgrammaticStreamSerialization, so a kernel's blocks may be scheduled while
// the kernel before it is still finishing — the launch latency between the ~1,000 small kernels
// of a decode step overlaps the previous kernel's tail instead of adding to it. A kernel launched
// that way must not touch memory before the grids it depends on are complete: every g4c kernel
// calls wait_for_prior_grids() before it reads anything a step writes (the mma16 kernels start
// their weight copies first: weights are written only at load). Without the attribute (or before
// sm_90) it does nothing.
#pragma once

namespace g4c {

__device__ __forceinline__ void wait_for_prior_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

}  // namespace g4c
