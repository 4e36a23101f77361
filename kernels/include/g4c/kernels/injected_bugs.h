// Known bugs that the oracle tests inject on purpose, to prove that each oracle fails on them
// (unit-tests/runtime/mutation_test.cpp for the CPU backend, unit-tests/gpu/mutation_test.cpp for
// the kernels; the table is in docs/gpu-tests.md). One definition for g++ and NVRTC.
//
// No production build can inject anything: `injected(bug)` is a constant false unless
//   - device code is compiled with -DG4C_INJECTED_BUG=<number> (JitOptions::defines, set only by
//     the GPU mutation tests), which makes it a compile-time constant; or
//   - host code is compiled with -DG4C_BUG_INJECTION, as only the CPU mutation test binary compiles
//     its own copy of the CPU op library, where the test selects the bug at run time.
// Either way every hook folds away in the code g4c and g4run run.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define G4C_BUG_HD __host__ __device__
#else
#define G4C_BUG_HD
#endif

namespace g4c {

enum class InjectedBug : int {
  none = 0,
  skip_v_norm = 1,            // V's RMSNorm (the only unweighted one) leaves its input unnormalized
  drop_weight_block = 2,      // every quantized dot product skips weights 32..63 of each row
  drop_weight_block_mmq = 3,  // the same on the mmq route only (GPU)
  window_plus_one = 4,        // sliding attention reads window + 1 keys
  ring_size_as_window = 5,    // sliding attention takes the ring's slot count as its window
  swap_rope_pairs = 6,        // RoPE pairs 0 and 1 trade angles (every RoPE)
  swap_rope_pairs_fused = 7,  // the same in the fused norm + RoPE only
  ticket_left_set = 8,        // last-block fusions (attention-combine, geglu-epilogue) leave their counter set (GPU)
};

inline constexpr int kInjectedBugCount = 9;

#if defined(G4C_INJECTED_BUG)
G4C_BUG_HD constexpr bool injected(InjectedBug bug) { return static_cast<int>(bug) == G4C_INJECTED_BUG; }
#elif defined(G4C_BUG_INJECTION)
extern InjectedBug g_injected_bug;  // defined by the CPU mutation tests
inline bool injected(InjectedBug bug) { return g_injected_bug == bug; }
#else
G4C_BUG_HD constexpr bool injected(InjectedBug) { return false; }
#endif

// Whether a drop_weight_block bug drops column `column` of a quantized weight row (`mmq`: in the
// mmq route, which drop_weight_block_mmq also reaches).
G4C_BUG_HD inline bool injected_drop(long long column, bool mmq = false) {
  return column >= 32 && column < 64 &&
         (injected(InjectedBug::drop_weight_block) || (mmq && injected(InjectedBug::drop_weight_block_mmq)));
}

// The pair whose angle pair `pair` takes under a swap_rope_pairs bug.
G4C_BUG_HD constexpr int swapped_rope_pair(int pair) { return pair < 2 ? pair ^ 1 : pair; }

}  // namespace g4c
