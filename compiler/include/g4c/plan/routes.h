// What each matmul route can run and what it needs: shared by the compiler (which picks routes),
// the verifier (which checks them) and the runtime (which launches them).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "g4c/plan/plan.h"

namespace g4c::plan {

// The K-step of each tiled route: mmq works on one 256-weight super-block (8 blocks of the 32-weight
// types), gemm_n on 32-weight tiles.
inline constexpr int64_t kMmqKStep = 256;  // mma16's too
inline constexpr int64_t kGemmNKStep = 32;

// Whether `route` can multiply a weight of this type and shape. `ws` and `cublas` run every type
// and shape, so every matmul has a legal route at every width.
bool route_legal(Route route, QuantType type, int64_t rows, int64_t cols);

// The routes legal for a weight, in kAllRoutes order (ws and cublas always among them).
std::vector<Route> legal_routes(QuantType type, int64_t rows, int64_t cols);

// Why a route is not legal, for diagnostics ("mmq needs a quantized weight").
std::string route_illegal_reason(Route route, QuantType type, int64_t rows, int64_t cols);

// Per-sequence scratch the route needs beside its output: mmq quantizes the activation row to
// int8 blocks (32 values + fp16 scale and sum: 36 bytes), mma16 likewise in its own layout (40
// bytes per 32 values, matmul_args.h), mma16h rounds it to fp16 in its K order (2 bytes a value);
// cublas converts it to fp16 or bf16, except for F32 weights, which multiply f32 activations as
// they are.
int64_t route_scratch_seq_bytes(Route route, QuantType type, int64_t cols);

// The activations a route multiplies, when an op other than the matmul may write them (the
// quantize-in-producer fusion: `quantize = q8_1 | mma16 | mma16h` on an rms_norm or geglu): mmq's
// q8_1 blocks, mma16's layout of the same codes and mma16h's fp16 (matmul_args.h). cuBLAS's fp16
// copy stays its own.
enum class ActivationFormat { q8_1, mma16, mma16h };
std::string_view name(ActivationFormat format);
std::optional<ActivationFormat> parse_activation_format(std::string_view s);
std::optional<ActivationFormat> activation_format(Route route);
// Per-sequence bytes of a row of `cols` activations in `format` (route_scratch_seq_bytes' share).
int64_t activation_seq_bytes(ActivationFormat format, int64_t cols);
// What a producer writes for a matmul (quantize-in-producer): the matmul's routes, each naming the
// activations it reads at its width (source: the matmul), or none when a route at some width reads
// none a producer writes (ws, gemm_n, cublas).
std::optional<std::vector<RouteChoice>> activations_for(const Op& matmul);
// The ops that may write a matmul's activations as they produce its input: an rms_norm over whole
// rows or a geglu, of a row length the formats step over (256-value super-blocks), or an attention
// of heads of whole super-blocks that merges its splits in its combine kernel.
bool can_quantize_result(const Op& op);
// The format an op's `quantize` attribute names at `width` (none without one, or at another width).
std::optional<ActivationFormat> quantized_result(const Op& op, int64_t width);
// Whether an op's `quantize` writes the format `matmul` reads at every width the op quantizes at.
bool quantizes_for(const Op& op, const Op& matmul);
// Per-sequence scratch of an op's `quantize`: the largest of its widths' formats (0 without one).
int64_t quantized_result_seq_bytes(const Op& op);

// Whether an op other than a matmul reads a weight of `type` in `layout`: every op reads GGUF's;
// embed_gather also gathers rows from the mma16 layout (a tied embedding whose LM head is on
// mma16), for every type mma16 repacks.
bool reads_layout(OpKind kind, QuantType type, WeightLayout layout);

// Launch groups (the group-matmuls fusion, `launched_with`): matmuls of one input, weight type and
// column count whose route is the same at every width run as one launch, the first (the leader)
// computing all of them, up to kMaxLaunchGroup. Only mma16 and mma16h launch several weights at once.
inline constexpr int kMaxLaunchGroup = 3;
inline bool route_launches_groups(Route route) { return route == Route::mma16 || route == Route::mma16h; }

}  // namespace g4c::plan
