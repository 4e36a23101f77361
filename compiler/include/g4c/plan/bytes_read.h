// The bytes a decode step reads from device memory, op by op: the one count behind every GB/s
// that `g4run bench` (the step), `g4run profile` (each op) and `g4run tune` (each matmul shape)
// print, so the three agree for the same op on the same route.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "g4c/plan/plan.h"

namespace g4c::plan {

// The route a matmul takes at a compiled width; nullopt when the op lists none for it (a plan
// the verifier rejects).
std::optional<Route> route_at(const Op& op, int64_t width);

// Weight bytes a matmul streams on `route`, once per step whatever the width: the weight in the
// form the route reads — GGUF's blocks (ws, mmq, gemm_n), the mma16 repacking (mma16), or the
// fp16 copy made at load (cublas on a quantized weight; float weights are read as they are).
int64_t matmul_weight_bytes_read(Route route, QuantType type, int64_t rows, int64_t cols);

// Weight bytes `op` reads in a step of `width` rows: a matmul's on its route at that width; the
// `width` gathered rows of an embedding; the f32 copy of a vector that norms, ple_combine and
// scale_by read (the weight itself when it is F32); for attention over a v_only cache, the f32
// K-norm weight that rebuilds its keys. 0 for ops without weights.
int64_t weight_bytes_read(const Plan& plan, const Op& op, int64_t width);

// KV cache bytes an attention op reads for rows at `positions`: each key's
// KvCache::position_bytes (K and V, or V alone from a v_only cache), window-many keys at most on
// a sliding layer. The rope table that rebuilds v_only keys is not counted. 0 for other ops.
int64_t kv_bytes_read(const Plan& plan, const Op& op, std::span<const int32_t> positions);

// The weight bytes `op` must read at the least, whatever form its route reads: its weight once as
// stored (GGUF's blocks), the `width` gathered rows of an embedding. The decode floor (DESIGN.md
// §9) is these bytes and the KV at the copy bandwidth: a route that reads more (cublas's fp16
// copy) shows as a step further from it.
int64_t stored_weight_bytes(const Plan& plan, const Op& op, int64_t width);

// The step's totals: the sums of the three above over every op.
int64_t step_weight_bytes_read(const Plan& plan, int64_t width);
int64_t step_stored_weight_bytes(const Plan& plan, int64_t width);
int64_t step_kv_bytes_read(const Plan& plan, std::span<const int32_t> positions);

}  // namespace g4c::plan
