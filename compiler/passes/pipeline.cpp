#include <algorithm>
#include <array>
#include <ostream>

#include "g4c/compiler/passes.h"
#include "g4c/plan/printer.h"

namespace g4c {

static constexpr std::array<PassInfo, 5> kPipeline = {{
    {"kv-layout", "KV cache per owning layer: ring of window slots or full context", run_kv_layout},
    {"alias", "in-place results that never overwrite a live alias", run_alias},
    {"routes", "a matmul route for every width", run_routes},
    {"buffer-plan", "liveness and per-sequence arena offsets", run_buffer_plan},
    {"kernel-instances", "the kernel instances the plan launches", run_kernel_instances},
}};

std::span<const PassInfo> pass_pipeline() { return kPipeline; }

bool run_pipeline(plan::Plan& plan, PassContext& ctx, const std::vector<std::string>& print_after,
                  bool print_after_all, std::ostream& dump) {
  int errors_before = ctx.diag.error_count();
  for (const PassInfo& pass : kPipeline) {
    pass.run(plan, ctx);
    if (ctx.diag.error_count() > errors_before) return false;
    bool wanted = print_after_all || std::find(print_after.begin(), print_after.end(), pass.name) != print_after.end();
    if (!wanted) continue;
    dump << "// -----// IR Dump After " << pass.name << " //----- //\n";
    plan::print_plan(plan, dump);
  }
  return true;
}

}  // namespace g4c
