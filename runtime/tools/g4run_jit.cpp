// g4run jit: compiles a plan's kernel instances ahead of time.
#include <cstdio>
#include <iostream>

#include "g4c/plan/parser.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/jit.h"
#include "g4run_common.h"

namespace g4run {

const std::vector<g4c::OptionSpec>& jit_options() {
  static const std::vector<g4c::OptionSpec> options = {
      {"arch", true, false, "arch", "GPU architecture to compile for (default: the device's, else sm_90)"},
      kCacheDirOption,
      kNoCacheOption,
      kHelpOption,
  };
  return options;
}

// Compiles every kernel instance the plan lists ahead of time (NVRTC needs no GPU).
int jit(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "jit", jit_options(), exit_code);
  if (!args) return exit_code;
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("jit: --kernel-cache-dir and --no-kernel-cache contradict each other");
  g4c::JitOptions options;
  if (auto arch = args->value("arch")) {
    options.arch = *arch;
  } else if (std::string why; auto device = g4c::gpu::find_device(why)) {
    options.arch = device->arch();
  }
  options.cache_dir = kernel_cache_dir(*args);
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  std::optional<std::vector<g4c::CompiledProgram>> programs;
  g4c::JitStats stats;
  if (plan) programs = g4c::jit_compile(g4c::jit_requests(*plan), options, stats, diag);
  diag.print(std::cerr, kTool);
  if (!programs) return kInputError;
  std::printf("g4run: jit: %d kernel instances of %s in %d NVRTC programs for %s: %d programs from the cache, %.2f s\n",
              stats.instances, plan->header.name.c_str(), stats.programs, options.arch.c_str(), stats.cache_hits,
              stats.compile_seconds);
  return 0;
}

}  // namespace g4run
