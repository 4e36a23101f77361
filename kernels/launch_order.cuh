// Programmatic dependent launch (Hopper, sm_90): the runtime launches every kernel of a step with
// cudaLaunchAttributeProgrammaticStreamSerialization, so a kernel's blocks may be scheduled while
// the kernel before it is still finishing — the launch latency between the ~1,000 small kernels
// of a decode step overlaps the previous kernel's tail instead of adding to it. A kernel launched
// that way must not touch memory before the grids it depends on are complete: every g4c kernel
// calls wait_for_prior_grids() before it reads anything a step writes (the mma16 kernels start
// their weight copies first: weights are written only at load). Without the attribute (or before
// sm_90) it does nothing.
#pragma once

//
// Built with G4C_EARLY_LAUNCH (the executor's `early_launch`, `g4run --early-launch`), every block
// also lets the next kernel launch once it is past the wait: the next kernel is then scheduled as
// soon as all of this one's blocks run, not as they exit — an mma16 kernel streams its first
// weights while this one computes. The next kernel still waits for this one to complete before it
// reads what this one writes; one kernel ahead at most, since its blocks trigger only past their
// own wait.
namespace g4c {

__device__ __forceinline__ void wait_for_prior_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#if defined(G4C_EARLY_LAUNCH)
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
#endif
}

}  // namespace g4c
