// kernel-instances: every (op, width) launches one kernel instance; the plan lists each distinct
// instance once, in order of first use, so all NVRTC work is known before the first token.
#include <map>

#include "g4c/compiler/passes.h"
#include "g4c/plan/kernels.h"

namespace g4c {

using namespace plan;

void run_kernel_instances(Plan& plan, PassContext&) {
  std::vector<KernelInstance> instances;
  std::map<std::string, size_t> index;
  for (const Op* op : plan.ops()) {
    for (int64_t width : plan.header.widths) {
      for (KernelInstance& k : kernels_for(plan, *op, width)) {
        auto [it, fresh] = index.try_emplace(k.key(), instances.size());
        if (fresh) instances.push_back(std::move(k));
        ++instances[it->second].uses;
      }
    }
  }
  plan.kernels = std::move(instances);
}

}  // namespace g4c
