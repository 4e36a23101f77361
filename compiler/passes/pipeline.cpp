#include <algorithm>
#include <array>
#include <ostream>

#include "g4c/compiler/passes.h"
#include "g4c/plan/printer.h"

namespace g4c {

// Fusions of ops come first: every later pass (in-place decisions, liveness, offsets, kernel
// instances) then sees the fused ops, never the pairs they replaced. quantize-once reads the
// routes, so it follows them, and group-matmuls the preparations quantize-once shares; quantize-in-producer
// then moves each shared preparation into the op producing the input, geglu-epilogue moves the
// GEGLU (and the activations it now writes) into its gate/up launch, and norm-chains lets a
// post-norm's launch carry the norms after it (and their quantization), and attention-inputs a
// Q norm's launch its layer's K and V norms and KV write (after alias, whose in-place decisions
// it must not break, and kv-storage, which decides whether K is stored); liveness
// and kernel instances still come after both.
static constexpr std::array<PassInfo, 18> kPipeline = {{
    {"residual-norm", "residual add of an rms_norm as one add_rms_norm op", run_fuse_residual_norm, true},
    {"norm-rope", "per-head rms_norm and its rope as one rms_norm_rope op", run_fuse_norm_rope, true},
    {"attention-combine", "attention's split partials merged by the partial kernel's last block", run_fuse_attention_combine,
     true, false, /*opt_in=*/true},
    {"kv-layout", "KV cache per owning layer: ring of window slots or full context", run_kv_layout, false, true},
    {"kv-storage", "k_eq_v caches keep V alone; attention rebuilds K from it", run_kv_storage},
    {"attention-split", "attention over GQA groups of 8+ query heads on the tensor cores (split = mma)",
     run_attention_split},
    {"alias", "in-place results that never overwrite a live alias", run_alias},
    {"routes", "a matmul route for every width", run_routes},
    {"weight-layout", "each weight's device layout, as its routes read it", run_weight_layout},
    {"quantize-once", "matmuls of one input share its one activation quantization", run_quantize_once, true},
    {"group-matmuls", "matmuls of one prepared input, type and route launch as one kernel", run_group_matmuls, true},
    {"group-mixed-types", "a matmul of another weight type joins its input's launch group last", run_group_mixed_types,
     true},
    {"quantize-in-producer", "the rms_norm or geglu before a matmul writes its int8 activations", run_quantize_in_producer,
     true},
    {"geglu-epilogue", "a gate/up launch computes their geglu (and its activations) in its last blocks",
     run_geglu_epilogue, true, false, /*opt_in=*/true},
    {"norm-chains", "an add_rms_norm launches the layer scale and the next norm of its row", run_norm_chains, true},
    {"attention-inputs", "a layer's Q norm+RoPE launches its K norm+RoPE, V norm and KV write", run_attention_inputs,
     true},
    {"buffer-plan", "liveness and per-sequence arena offsets", run_buffer_plan},
    {"kernel-instances", "the kernel instances the plan launches", run_kernel_instances},
}};

std::span<const PassInfo> pass_pipeline() { return kPipeline; }

const PassInfo* find_pass(std::string_view name) {
  for (const PassInfo& pass : kPipeline)
    if (pass.name == name) return &pass;
  return nullptr;
}

FusionOptions FusionOptions::all() {
  FusionOptions all;
  for (const PassInfo& pass : kPipeline)
    if (pass.fusion && !pass.opt_in) all.enabled.emplace_back(pass.name);
  return all;
}

FusionOptions FusionOptions::known() {
  FusionOptions known;
  for (const PassInfo& pass : kPipeline)
    if (pass.fusion) known.enabled.emplace_back(pass.name);
  return known;
}

bool FusionOptions::runs(std::string_view pass) const {
  return std::find(enabled.begin(), enabled.end(), pass) != enabled.end();
}

bool run_passes(plan::Plan& plan, PassContext& ctx, std::span<const PassInfo* const> passes,
                const std::vector<std::string>& print_after, bool print_after_all, std::ostream& dump) {
  int errors_before = ctx.diag.error_count();
  for (const PassInfo* pass : passes) {
    pass->run(plan, ctx);
    if (ctx.diag.error_count() > errors_before) return false;
    bool wanted = print_after_all || std::find(print_after.begin(), print_after.end(), pass->name) != print_after.end();
    if (!wanted) continue;
    dump << "// -----// IR Dump After " << pass->name << " //----- //\n";
    plan::print_plan(plan, dump);
  }
  return true;
}

bool run_pipeline(plan::Plan& plan, PassContext& ctx, const std::vector<std::string>& print_after,
                  bool print_after_all, std::ostream& dump) {
  std::vector<const PassInfo*> all;
  for (const PassInfo& pass : kPipeline) all.push_back(&pass);
  return run_passes(plan, ctx, all, print_after, print_after_all, dump);
}

}  // namespace g4c
