// The kernel instance each op launches at each width: a kernel family from kernels/ and the
// constants NVRTC specializes it on. The compiler lists the instances a plan needs; the runtime
// looks each op's instance up by the same function, so the mapping is one piece of code.
#pragma once

#include <optional>
#include <string>

#include "g4c/plan/plan.h"

namespace g4c::plan {

// nullopt for ops that launch nothing (input, alias, slice, output). Needs the plan's weights,
// caches and (for matmuls) routes.
std::optional<KernelInstance> kernel_for(const Plan& plan, const Op& op, int64_t width);

}  // namespace g4c::plan
