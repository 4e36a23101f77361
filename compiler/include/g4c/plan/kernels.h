// The kernel instances each op launches at each width, in launch order: a kernel family from
// kernels/ and the constants NVRTC specializes it on. The compiler lists the instances a plan
// needs; the runtime looks each op's instances up by the same function, so the mapping is one
// piece of code.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/plan/storage.h"

namespace g4c::plan {

// Decode attention splits each row's keys over at most this many blocks (flash-decoding) and
// combines their partial results; the op's scratch holds the partials.
inline constexpr int64_t kAttentionMaxSplits = 128;

// Empty for ops that launch nothing (input, alias, slice, output). Needs the plan's weights,
// caches and (for matmuls) routes. Matmuls on the mmq route first quantize their activations;
// on the cublas route a quantized weight is dequantized to fp16 once at load and the activations
// converted each step (cuBLAS itself runs the GEMM); attention runs a partial and a combine kernel.
// An instance of `family` with these specialization constants (as kernels_for makes them; for
// tools and tests that name instances directly).
KernelInstance kernel_instance(std::string family, std::vector<Attr> constants = {});

std::vector<KernelInstance> kernels_for(const Plan& plan, const Op& op, int64_t width);

// Whether attention's tensor-core split (`split = mma`, kernels/attention_mma.cuh) serves an
// attention op over `cache`: op_args.h's attention_mma_serves for its GQA group, head dim and
// cache type. The attention-split pass sets it only there and the verifier holds plans to it.
bool tensor_cores_serve(const Op& attention, const KvCache& cache);
// The op's GQA group: query heads a KV head serves.
int64_t attention_group(const Op& attention);

// What an instance does for its op, which is how the runtime takes an op's instances: prepares
// its weight once, when the weights are loaded (repack_mma16, dequantize_f16); prepares a matmul's
// activations each step (activation_kernel's families); merges the attention's splits
// (attention.combine); or is the op's kernel.
enum class KernelRole : uint8_t { weight_at_load, activations, main, combine };
KernelRole kernel_role(std::string_view family);

// Whether an instance of `family` runs once, when the weights are loaded, rather than in every step.
inline bool runs_at_load(std::string_view family) { return kernel_role(family) == KernelRole::weight_at_load; }

// Kernel launches one step of `width` rows makes: every op's per-step instances, and one for each
// GEMM the cublas route hands to cuBLAS (a library call launches at least one kernel). The number
// the fusion work drives down (`g4c compile --emit=kernels` prints it per width).
int64_t launches_per_step(const Plan& plan, int64_t width);
// One op's share of that count (a matmul launched with another: none).
int64_t launches_per_step(const Plan& plan, const Op& op, int64_t width);

// The instance that prepares a matmul's activations in its scratch on `route` (q8_1 for mmq, the
// mma16 layout, fp16/bf16 for cuBLAS on non-F32 weights), or none. Matmuls of one input whose
// routes prepare them alike at every width share one preparation (the quantize-once pass): the
// others carry `activations_from` and launch everything but this instance.
std::optional<KernelInstance> activation_kernel(Route route, QuantType type);

// Why `member` cannot be computed by `leader`'s launch (group-matmuls, `launched_with`) after
// `earlier_members`, or "" when it can: the same group-capable route at every width, and the
// leader's weight type but for the last member (the kernel's LastBlock: the 12B's
// Q6_K V after Q4_K Q and K), so none joins after a member of another type. The text follows
// "launched_with %leader" in the verifier's messages; the pass groups only where it is empty.
std::string launch_group_conflict(const Plan& plan, const Op& leader, const Op& member,
                                  std::span<const Op* const> earlier_members);

// Whose preparation of its input a matmul reads: its `activations_from`, or itself ("%name").
std::string activations_source(const Op& matmul);

// The ops whose `launched_with` names `leader`, in plan order: what its launch computes beside it
// (a matmul's: the matmuls of its group, then the geglu of geglu-epilogue).
std::vector<const Op*> launch_group_members(const Plan& plan, const Op& leader);
// Of those, the matmuls (group-matmuls, group-mixed-types), in plan order.
std::vector<const Op*> launch_group_matmuls(const Plan& plan, const Op& leader);

// geglu-epilogue: a launch of two matmuls (gate and up) also computes their geglu
// (`launched_with = %leader` on it), a segment of kGegluEpilogueRows rows at a time, in the last
// block to finish that segment's tiles. The geglu a matmul's launch computes, or null.
inline constexpr int64_t kGegluEpilogueRows = 256;
const Op* geglu_epilogue_of(const Plan& plan, const Op& matmul);
// Why `geglu` cannot be computed by `leader`'s launch, or "" when it can: it is the geglu of
// exactly the launch's two matmuls (a launch group, so on mma16 or mma16h at every width), of one
// row count that is a multiple of kGegluEpilogueRows, right after them. The text follows
// "launched_with %leader" in the verifier's messages; the pass fuses only where it is empty.
std::string geglu_epilogue_conflict(const Plan& plan, const Op& leader, const Op& geglu);

// attention-inputs: a layer's Q norm+RoPE launch also computes its K norm+RoPE (none into a v_only
// cache), its V norm and the KV write of both (`launched_with = %q` on each; kernel
// attention_inputs).
struct AttentionInputs {
  const Op* q = nullptr;      // rms_norm_rope of the queries: the launch
  const Op* k = nullptr;      // rms_norm_rope of the keys, or null
  const Op* v = nullptr;      // rms_norm of the values
  const Op* write = nullptr;  // kv_write of k and v
};

// Why those ops cannot be one launch, or "" when they can: one head size and RoPE for Q and K
// (their positions are the plan's one positions input); the kv_write stores the K and V normalized
// here into a cache of that head size; no op writes storage another one reads (their heads run at
// once). The text
// follows "launched_with %q" in the verifier's messages; the pass fuses only where it is empty.
std::string attention_inputs_conflict(const Plan& plan, const AttentionInputs& in, const StorageAnalysis& storage);

// The attention-inputs ops `q` launches (q itself first), or none when it launches only itself.
std::optional<AttentionInputs> attention_inputs_of(const Plan& plan, const Op& q);

// A matmul's activation kernel at each of its widths, as one string ("-" where its route needs
// none); empty when no width needs one. Two matmuls of one input with the same signature can share
// one preparation (quantize-once; the verifier holds `activations_from` to it).
std::string activation_signature(const Plan& plan, const Op& op);

// The instances a matmul of this weight type launches on `route` at `width` (what kernels_for
// gives a matmul op; `g4run tune` and tests ask for routes the plan did not choose).
std::vector<KernelInstance> matmul_route_kernels(Route route, QuantType type, int64_t width);

}  // namespace g4c::plan
