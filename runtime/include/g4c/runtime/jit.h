// NVRTC JIT: compiles the kernel instances a plan lists into cubins for one GPU architecture, one
// program per kernel source with every instance of it as a name expression, through a disk cache
// keyed by everything that decides the output (sources and headers, name expressions, options,
// arch, NVRTC version). NVRTC needs no GPU: CI compiles every instance of every plan.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

// Bumped whenever the cache file layout or the compile options' meaning changes.
inline constexpr int kKernelCacheVersion = 2;  // 2: entries end in a checksum

struct JitOptions {
  std::string arch = "sm_90";
  std::string cache_dir;  // empty: no disk cache
  // Preprocessor definitions ("NAME" or "NAME=VALUE") handed to NVRTC as -D options, part of the
  // cache key. A testing aid: the oracle tests inject known bugs into the kernels through it
  // (kernels/include/g4c/kernels/injected_bugs.h); nothing in g4c or g4run sets it.
  std::vector<std::string> defines;
};

// The default cache directory: $G4C_KERNEL_CACHE_DIR, else $XDG_CACHE_HOME/g4c/kernels, else
// ~/.cache/g4c/kernels; empty when G4C_KERNEL_CACHE=0 turns the cache off.
std::string default_kernel_cache_dir();

struct JitRequest {
  plan::KernelInstance instance;
  std::string used_by;  // a plan op that launches it, for error messages ("%l5.q")
};

struct CompiledProgram {
  std::string source;                          // "matmul_ws.cuh"
  std::vector<std::string> keys;               // KernelInstance::key() of each instance
  std::vector<std::string> lowered_names;      // the mangled kernel names, same order
  std::vector<char> cubin;
  bool from_cache = false;
};

struct JitStats {
  int instances = 0;
  int programs = 0;
  int cache_hits = 0;  // programs read from the disk cache
  double compile_seconds = 0;
};

// The plan's kernel list (its `kernels` section, which the verifier holds to what its ops launch),
// each instance with the first op that launches it.
std::vector<JitRequest> jit_requests(const plan::Plan& plan);

// Compiles the requested instances. A family with no registered source, or a compile error, is
// reported naming the instance and the plan op, with NVRTC's log.
std::optional<std::vector<CompiledProgram>> jit_compile(std::span<const JitRequest> requests,
                                                        const JitOptions& options, JitStats& stats,
                                                        DiagnosticEngine& diag);

// "13.0" — part of every cache key.
std::string nvrtc_version();

}  // namespace g4c
