#include "g4c/plan/routes.h"

#include <array>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/kernels.h"

namespace g4c::plan {

// The legality rules above step as the kernels do; the scratch sizes below are the kernels' layouts.
static_assert(kMmqKStep == matmul::kQ8SuperBlock, "mmq and mma16 step over the kernels' 256-weight super-block");
static_assert(matmul::kQ8RowBytes * 32 == kMmqKStep * 36, "q8_1 activations take 36 bytes per 32 values");
static_assert(kMaxLaunchGroup == kMma16MaxMembers, "an mma16 launch holds a whole launch group");
static_assert(kGegluEpilogueRows == matmul::kQ8SuperBlock, "a geglu epilogue's segment is a super-block of activations");

bool reads_layout(OpKind kind, QuantType type, WeightLayout layout) {
  return layout == WeightLayout::gguf || (kind == OpKind::embed_gather && layout == WeightLayout::mma16 && mma16_supports(type));
}

bool route_legal(Route route, QuantType type, int64_t rows, int64_t cols) {
  return route_illegal_reason(route, type, rows, cols).empty();
}

std::vector<Route> legal_routes(QuantType type, int64_t rows, int64_t cols) {
  std::vector<Route> out;
  for (Route r : kAllRoutes)
    if (route_legal(r, type, rows, cols)) out.push_back(r);
  return out;
}

std::string route_illegal_reason(Route route, QuantType type, int64_t rows, int64_t cols) {
  (void)rows;
  switch (route) {
    case Route::ws:
    case Route::cublas:
      return {};
    case Route::mmq:
      if (info(type).is_float) return "mmq multiplies int8 blocks and needs a quantized weight";
      if (cols % kMmqKStep != 0) return "mmq steps over 256-weight super-blocks and needs cols % 256 == 0";
      return {};
    case Route::gemm_n:
      if (cols % kGemmNKStep != 0) return "gemm_n steps over 32-weight tiles and needs cols % 32 == 0";
      return {};
    case Route::mma16:
    case Route::mma16h:
      if (!mma16_supports(type))
        return std::string(name(route)) + " reads Q4_K, Q6_K, Q8_0 and Q4_0 weights repacked for it (no other type yet)";
      if (cols % kMmqKStep != 0)
        return std::string(name(route)) + " steps over 256-weight super-blocks and needs cols % 256 == 0";
      return {};
  }
  return "unknown route";
}

int64_t route_scratch_seq_bytes(Route route, QuantType type, int64_t cols) {
  switch (route) {
    case Route::mmq: return activation_seq_bytes(ActivationFormat::q8_1, cols);
    case Route::mma16: return activation_seq_bytes(ActivationFormat::mma16, cols);
    case Route::mma16h: return activation_seq_bytes(ActivationFormat::mma16h, cols);
    case Route::cublas: return type == QuantType::F32 ? 0 : cols * 2;
    case Route::ws:
    case Route::gemm_n: return 0;
  }
  return 0;
}

static constexpr std::array<std::string_view, 3> kActivationFormatNames = {"q8_1", "mma16", "mma16h"};

std::string_view name(ActivationFormat format) { return kActivationFormatNames[static_cast<size_t>(format)]; }

std::optional<ActivationFormat> parse_activation_format(std::string_view s) {
  for (size_t i = 0; i < kActivationFormatNames.size(); ++i)
    if (kActivationFormatNames[i] == s) return static_cast<ActivationFormat>(i);
  return std::nullopt;
}

std::optional<ActivationFormat> activation_format(Route route) {
  switch (route) {
    case Route::mmq: return ActivationFormat::q8_1;
    case Route::mma16: return ActivationFormat::mma16;
    case Route::mma16h: return ActivationFormat::mma16h;
    default: return std::nullopt;
  }
}

int64_t activation_seq_bytes(ActivationFormat format, int64_t cols) {
  switch (format) {
    case ActivationFormat::q8_1: return cols / matmul::kQ8SuperBlock * matmul::kQ8RowBytes;
    case ActivationFormat::mma16: return matmul::mma16_activation_row_bytes(cols);
    case ActivationFormat::mma16h: return matmul::mma16h_activation_row_bytes(cols);
  }
  return 0;
}

std::optional<std::vector<RouteChoice>> activations_for(const Op& matmul) {
  const std::vector<RouteChoice>* routes = matmul.kind == OpKind::matmul ? matmul.routes() : nullptr;
  if (!routes || routes->empty()) return std::nullopt;
  std::vector<RouteChoice> out;
  for (const RouteChoice& c : *routes) {
    if (!activation_format(c.route)) return std::nullopt;
    out.push_back({c.width, c.route, "%" + matmul.result});
  }
  return out;
}

namespace {

const std::vector<RouteChoice>* quantize_list(const Op& op) {
  const Attr* a = op.find("quantize");
  return a ? std::get_if<std::vector<RouteChoice>>(&a->value) : nullptr;
}

}  // namespace

bool can_quantize_result(const Op& op) {
  const int64_t cols = op.type.seq_elements();
  if (cols <= 0 || cols % kMmqKStep != 0) return false;
  if (op.kind == OpKind::geglu) return true;
  // attention: its combine kernel's block per (head, row) quantizes the head's whole super-blocks.
  if (op.kind == OpKind::attention) return !op.find("combine") && op.get_int("head_dim") % kMmqKStep == 0;
  return op.kind == OpKind::rms_norm && op.get_int("group") == cols;
}

std::optional<ActivationFormat> quantized_result(const Op& op, int64_t width) {
  if (const std::vector<RouteChoice>* list = quantize_list(op))
    for (const RouteChoice& c : *list)
      if (c.width == width) return activation_format(c.route);
  return std::nullopt;
}

bool quantizes_for(const Op& op, const Op& matmul) {
  const std::vector<RouteChoice>* list = quantize_list(op);
  const std::vector<RouteChoice>* routes = matmul.routes();
  if (!list || !routes) return false;
  for (const RouteChoice& c : *routes)
    if (!activation_format(c.route) || quantized_result(op, c.width) != activation_format(c.route)) return false;
  return true;
}

int64_t quantized_result_seq_bytes(const Op& op) {
  int64_t bytes = 0;
  if (const std::vector<RouteChoice>* list = quantize_list(op))
    for (const RouteChoice& c : *list)
      if (const std::optional<ActivationFormat> f = activation_format(c.route))
        bytes = std::max(bytes, activation_seq_bytes(*f, op.type.seq_elements()));
  return bytes;
}

}  // namespace g4c::plan
