// The compiler's passes, in pipeline order. Each lives in its own file under compiler/passes/,
// takes the plan as the previous pass left it, and can be printed after (`--print-after=NAME`).
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/compiler/routing.h"
#include "g4c/plan/plan.h"
#include "g4c/spec/model_spec.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

struct RouteOptions {
  RoutePolicy policy = RoutePolicy::default_rules;
  std::vector<RouteOverride> overrides;
  std::optional<TuningTable> tuning;
};

// The fusion passes that run (`g4c compile --fuse`); a fusion pass left out passes the plan
// through unchanged, so `--print-after` still names it.
struct FusionOptions {
  std::vector<std::string> enabled;  // fusion pass names

  static FusionOptions all();    // every fusion but the opt-in ones: the default
  static FusionOptions known();  // every fusion, opt-in ones included
  static FusionOptions none() { return {}; }
  bool runs(std::string_view pass) const;
};

struct PassContext {
  const ModelSpec& spec;
  const RouteOptions& routes;
  DiagnosticEngine& diag;
  FusionOptions fusions = FusionOptions::all();
  plan::KvStorage kv_storage = plan::KvStorage::v_only;  // `g4c compile --kv-storage`
  plan::AttentionSplit attention_split = plan::AttentionSplit::automatic;  // `g4c compile --attention-split`
};

// residual-norm: `%h = add %r, %n` where `%n = rms_norm %x, @w` is read by nothing else becomes
// `%h = add_rms_norm %r, %x, @w` (post-attention, post-FFW and PLE post-norms).
void run_fuse_residual_norm(plan::Plan& plan, PassContext& ctx);
// norm-rope: `%y = rope %n, %pos` where `%n = rms_norm %x, @w` (one head per group) is read by
// nothing else becomes `%y = rms_norm_rope %x, %pos, @w` (Q and K).
void run_fuse_norm_rope(plan::Plan& plan, PassContext& ctx);

// kv-layout: one cache per layer that owns KV (a ring of `window` slots, plus prefill_chunk - 1, on
// sliding layers; `context` slots on global ones), with the layers that read it.
void run_kv_layout(plan::Plan& plan, PassContext& ctx);
// kv-storage: k_eq_v caches keep V alone (`storage = v_only`, with the K-norm weight and RoPE that
// rebuild K from it), unless `--kv-storage=separate`; their kv_write loses its K operand and the
// ops computing K go.
void run_kv_storage(plan::Plan& plan, PassContext& ctx);
// attention-split: attention ops whose GQA groups the tensor-core split serves run on it (`split =
// mma`) as `--attention-split` says: by default groups of 8 or more query heads (the 12B's global
// 16:1 layers).
void run_attention_split(plan::Plan& plan, PassContext& ctx);
// attention-combine: attention ops merge their splits in the partial kernel (`combine =
// last_block`), one launch each instead of two.
void run_fuse_attention_combine(plan::Plan& plan, PassContext& ctx);
// alias: decides which results overwrite an operand in place, never one whose storage an alias
// (k_eq_v's V, a PLE slice) still has to be read from.
void run_alias(plan::Plan& plan, PassContext& ctx);
// routes: a route for every matmul at every width.
void run_routes(plan::Plan& plan, PassContext& ctx);
// quantize-once: a matmul whose input an earlier matmul of its block already prepared alike at
// every width (quantized for mmq / mma16, converted for cuBLAS) reads that preparation
// (`activations_from`) instead of making its own.
void run_quantize_once(plan::Plan& plan, PassContext& ctx);
// group-matmuls: a matmul reading an earlier one's prepared activations, with the same weight type,
// column count and group-capable route (mma16) at every width, is computed by that one's launch
// (`launched_with`), up to plan::kMaxLaunchGroup matmuls a launch.
void run_group_matmuls(plan::Plan& plan, PassContext& ctx);
// group-mixed-types: a matmul group-matmuls left apart for its weight type alone joins the launch
// group of its input as the last member (`launched_with`; the leader's kernel's `last_type`).
void run_group_mixed_types(plan::Plan& plan, PassContext& ctx);
// quantize-in-producer: the rms_norm or geglu producing a matmul's input also writes its int8
// activations (`quantize = q8_1 | mma16`); the matmuls of that input read them
// (`activations_from = %producer`) and launch no quantization of their own.
void run_quantize_in_producer(plan::Plan& plan, PassContext& ctx);
// geglu-epilogue: the geglu of a launch group's two matmuls (gate and up) is computed by that
// launch (`launched_with = %leader`), in the last blocks to finish each 256-row segment.
void run_geglu_epilogue(plan::Plan& plan, PassContext& ctx);
// norm-chains: an add_rms_norm over whole rows also computes the layer scale in place over its
// result and the next weighted rms_norm of that row (`launched_with = %add_rms_norm` on both),
// one launch instead of up to three.
void run_norm_chains(plan::Plan& plan, PassContext& ctx);
// attention-inputs: a layer's Q rms_norm_rope also computes its K rms_norm_rope, V rms_norm and
// kv_write (`launched_with = %q` on each), moved next to it: one launch instead of up to four.
void run_attention_inputs(plan::Plan& plan, PassContext& ctx);
// weight-layout: each weight's device layout (mma16 when every reader is a matmul on mma16).
void run_weight_layout(plan::Plan& plan, PassContext& ctx);
// buffer-plan: liveness and offsets in one per-sequence arena layout, scaled by the width.
void run_buffer_plan(plan::Plan& plan, PassContext& ctx);
// kernel-instances: the kernel instances the plan launches, with how often.
void run_kernel_instances(plan::Plan& plan, PassContext& ctx);

struct PassInfo {
  std::string_view name;
  std::string_view summary;
  void (*run)(plan::Plan&, PassContext&);
  bool fusion = false;  // selectable with --fuse
  // A fusion that --fuse=all (the default) leaves out: it measured slower; named in --fuse, it runs.
  // Reads the model declaration (PassContext::spec), which a plan does not carry: it runs only
  // from `g4c compile`, never on a plan's text (`g4c opt`).
  bool needs_declaration = false;
  bool opt_in = false;
};

std::span<const PassInfo> pass_pipeline();
const PassInfo* find_pass(std::string_view name);

// Runs `passes` in order; after each pass named in `print_after` (or all of them when
// `print_after_all`) prints the plan to `dump` with a header line. Stops at the first pass that
// reports an error.
bool run_passes(plan::Plan& plan, PassContext& ctx, std::span<const PassInfo* const> passes,
                const std::vector<std::string>& print_after, bool print_after_all, std::ostream& dump);

// run_passes over the whole pipeline.
bool run_pipeline(plan::Plan& plan, PassContext& ctx, const std::vector<std::string>& print_after,
                  bool print_after_all, std::ostream& dump);

}  // namespace g4c
