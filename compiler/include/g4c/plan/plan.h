// The decode plan: one decode step of N sequences as a list of ops over named values, plus every
// decision the runtime needs (KV cache layout, matmul routes per width, buffer offsets, kernel
// instances). The same structure holds every stage of the compiler; a section is present once the
// pass that fills it has run. Text form: docs/plan-format.md.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "g4c/kernels/weight_layouts.h"
#include "g4c/spec/describe.h"
#include "g4c/spec/quant_type.h"
#include "g4c/support/diagnostics.h"

namespace g4c::plan {

inline constexpr int kPlanFormatVersion = 1;

// Limits on the sizes a plan states, beside the model's own (g4c/spec/limits.h), checked by the
// parser before anything is computed from them: widths as `g4c compile --batch` allows them, and
// activations — a value, a buffer, one sequence's arena, and the arenas of every width together,
// which the GPU executor allocates at once — at 1 TiB, more than any device holds. Under these
// limits the runtime's products (width x arena bytes, sequences x cache bytes) stay inside int64.
inline constexpr int64_t kMaxWidth = 4096;
inline constexpr int64_t kMaxArenaBytes = int64_t{1} << 40;
// Counts, so that the work of verifying, compiling kernels for and running a plan stays bounded
// whatever a file says: the largest model g4c declares (1024 layers) has about 46,000 ops and
// 21,000 weights, a few widths serve any batch, and every layer owns at most one cache.
inline constexpr int64_t kMaxWidths = 64;
inline constexpr int64_t kMaxOps = int64_t{1} << 17;
inline constexpr int64_t kMaxWeights = int64_t{1} << 16;
inline constexpr int64_t kMaxKernels = int64_t{1} << 16;

// A GPU architecture as NVRTC names it: `sm_` and two or three digits, maybe `a` or `f` (sm_90,
// sm_90a, sm_100f). The plan header's target and g4c compile --target must be one.
bool is_gpu_arch(std::string_view name);

// ---- values ----

enum class DType : uint8_t { f32, i32 };
std::string_view name(DType t);
std::optional<DType> parse_dtype(std::string_view s);

// Value shapes: a list of dims where kBatch stands for the step's width N. Every activation has
// exactly one batch dim, so a value's bytes are N × (bytes per sequence).
inline constexpr int64_t kBatch = -1;

struct ValueType {
  DType dtype = DType::f32;
  std::vector<int64_t> dims;

  int64_t seq_elements() const;  // product of the constant dims
  int64_t seq_bytes() const { return seq_elements() * 4; }
  int64_t last_dim() const { return dims.empty() ? 0 : dims.back(); }
  bool operator==(const ValueType&) const = default;
};

// ---- attributes ----

enum class Route : uint8_t { ws, mmq, gemm_n, cublas, mma16, mma16h };
std::string_view name(Route r);
std::optional<Route> parse_route(std::string_view s);
inline constexpr Route kAllRoutes[] = {Route::ws, Route::mmq, Route::gemm_n, Route::cublas, Route::mma16, Route::mma16h};
// "ws", "mmq", "gemm_n", "cublas", "mma16", "mma16h": for messages that list the routes.
std::vector<std::string> route_names();

// The route of a matmul at one width, and what decided it ("rule mmq-quant", "tuning",
// "policy ws-only", "override ffn_down=mmq@N>=5").
struct RouteChoice {
  int width = 0;
  Route route = Route::ws;
  std::string source;
  bool operator==(const RouteChoice&) const = default;
};

struct Ident {  // a bare word: Q4_K, ring, tokens
  std::string text;
  bool operator==(const Ident&) const = default;
};

using AttrValue = std::variant<int64_t, double, bool, std::string, Ident, std::vector<int64_t>, std::vector<RouteChoice>>;

struct Attr {
  std::string key;
  AttrValue value;
};

// ---- ops ----

// add_rms_norm and rms_norm_rope are fused pairs (compiler/passes/fuse_*.cpp): an rms_norm with
// the add of a residual, and an rms_norm with the rope of each head, in one op and one kernel.
enum class OpKind : uint8_t {
  input, embed_gather, ple_combine, slice, alias, matmul, rms_norm, rope, kv_write, attention,
  geglu, add, scale_by, softcap, add_rms_norm, rms_norm_rope, sample, output,
};
inline constexpr int kOpKindCount = 18;

// `value`: a reference to another op's result, `%name` (kept as an Ident with its sigil).
enum class AttrKind : uint8_t { integer, number, boolean, string, ident, int_list, routes, value };

struct AttrSchema {
  std::string_view key;
  AttrKind kind;
  bool required;
  // The values an integer attribute may take: sizes and indices the runtime computes with.
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

enum class Presence : uint8_t { none, optional, required };

// What an op kind takes and prints, in its fixed order.
struct OpSchema {
  std::string_view name;
  int operands;             // count of value operands
  Presence weight;          // one weight tensor operand (@name)
  bool cache;               // a KV cache operand (-> %kv.lN on kv_write, last operand on attention)
  bool result;
  bool may_run_in_place;    // elementwise per row: may write its result over operand 0
  std::span<const AttrSchema> attrs;
  bool first_operand_optional = false;  // kv_write: no %k into a v_only cache
  // Reads its weight (a vector) as F32 floats, whatever its stored type: the runtime keeps an
  // f32 copy of such a weight (norms, ple_combine, scale_by).
  bool weight_as_floats = false;
  bool normalizes = false;  // has an RMSNorm (attribute eps): the norms, rms_norm_rope, ple_combine
  bool rotates = false;     // RoPE at the positions of operand 1 (attribute theta): rope, rms_norm_rope
};

const OpSchema& schema(OpKind k);
std::optional<OpKind> parse_op_kind(std::string_view s);

struct Op {
  OpKind kind = OpKind::input;
  std::string result;                 // value name without '%'; empty when the op has no result
  std::vector<std::string> operands;  // value names
  std::string weight;                 // tensor name without '@'
  std::string cache;                  // KV cache name without '%'
  std::vector<Attr> attrs;            // in schema order
  ValueType type;                     // of the result
  SourceLoc loc;                      // where the op was read from, when it was

  const Attr* find(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_number(std::string_view key) const;
  bool get_bool(std::string_view key, bool fallback = false) const;
  std::string get_ident(std::string_view key) const;
  const std::vector<RouteChoice>* routes() const;
  // Sets an attribute, keeping schema order.
  void set(std::string key, AttrValue value);
  void erase(std::string_view key);
  bool in_place() const { return get_bool("in_place"); }
};

// kv_write's operands: `%k, %v, %pos, %seq` into a separate cache, `%v, %pos, %seq` into a v_only
// one, which stores no K (k is then empty).
struct KvWriteOperands {
  std::string k, v, pos, seq;
};
KvWriteOperands kv_write_operands(const Op& op);

// ---- sections ----

// How a weight sits in device memory (g4c/kernels/weight_layouts.h): GGUF's rows of blocks, or
// repacked at load for the route that reads it (compiler/passes/weight_layout.cpp decides).
std::string_view name(WeightLayout l);
std::optional<WeightLayout> parse_weight_layout(std::string_view s);
// The layout a route reads its weight in.
WeightLayout route_layout(Route r);

struct WeightDecl {
  std::string name;
  QuantType type = QuantType::F32;
  int64_t ne0 = 0;  // row length (input features)
  int64_t ne1 = 1;  // rows (output features)
  WeightLayout layout = WeightLayout::gguf;
  SourceLoc loc;
  int64_t bytes() const { return row_bytes(type, ne0) * ne1; }  // in GGUF's layout, as files store it
};

enum class KvKind : uint8_t { ring, full };
std::string_view name(KvKind k);

// What a KV cache stores per position (compiler/passes/kv_storage.cpp decides): K and V, or on a
// k_eq_v layer V alone — there K before RoPE is V ⊙ the K-norm weight (gemma4.md §2.2), and
// attention rebuilds each key from its stored V at the key's own position.
enum class KvStorage : uint8_t { separate, v_only };
std::string_view name(KvStorage s);
std::optional<KvStorage> parse_kv_storage(std::string_view s);

// Where attention's partial kernels run (compiler/passes/attention_split.cpp decides each op's
// `split`): `automatic` puts GQA groups of 8 or more query heads on the tensor cores wherever that
// split serves them, `tensor_cores` every group it serves, `cuda_cores` none.
enum class AttentionSplit : uint8_t { automatic, cuda_cores, tensor_cores };
std::string_view name(AttentionSplit s);
std::optional<AttentionSplit> parse_attention_split(std::string_view s);

// How attention rebuilds K from a v_only cache: K = rope(V ⊙ @norm) at the key's position, with
// the writing layer's K-norm weight (head_dim values) and its rope's attributes.
struct KFromV {
  std::string norm;  // weight name without '@'
  int64_t head_dim = 0;
  int64_t rotated_pairs = 0;
  double theta = 0;
  bool operator==(const KFromV&) const = default;
};

// The one place a cache's bytes are computed: the plan's kv_caches section, `g4c compile
// --emit=spec`, `g4run bench` and the GPU executor's memory check all read these.
struct KvCache {
  std::string name;  // "kv.l0"
  int layer = 0;     // the layer that writes it
  KvKind kind = KvKind::full;
  int64_t slots = 0;
  int kv_heads = 0;
  int head_dim = 0;
  QuantType dtype = QuantType::F16;
  KvStorage storage = KvStorage::separate;
  KFromV k_from_v;               // set when storage is v_only
  std::vector<int64_t> readers;  // layers whose attention reads it
  SourceLoc loc;
  bool v_only() const { return storage == KvStorage::v_only; }
  int planes() const { return v_only() ? 1 : 2; }  // tensors stored: K and V, or V
  // One plane (K or V) of one position, every plane of one position, and of every slot: per sequence.
  int64_t row_bytes() const { return g4c::row_bytes(dtype, int64_t{kv_heads} * head_dim); }
  int64_t position_bytes() const { return planes() * row_bytes(); }
  int64_t plane_seq_bytes() const { return slots * row_bytes(); }
  int64_t seq_bytes() const { return slots * position_bytes(); }
};

struct Buffer {
  std::string value;  // the storage root's value name (or "<matmul result>.scratch")
  int64_t seq_offset = 0;
  int64_t seq_bytes = 0;
  SourceLoc loc;
};

struct BufferPlan {
  int64_t alignment = 256;
  int64_t seq_bytes = 0;           // arena bytes per sequence: peak of the layout
  int64_t unshared_seq_bytes = 0;  // what the buffers would take without reuse
  std::vector<Buffer> buffers;
  SourceLoc loc;
};

struct KernelInstance {
  std::string family;         // "matmul.ws", "rms_norm"
  std::vector<Attr> constants;
  int64_t uses = 0;           // (op, width) pairs that launch it
  SourceLoc loc;
  std::string key() const;    // canonical text: family {constants}
};

enum class BlockKind : uint8_t { prologue, layer, epilogue };

struct Block {
  BlockKind kind = BlockKind::prologue;
  int layer = -1;
  std::string layer_kind;  // "sliding" / "global" for layers
  std::vector<Op> ops;
  SourceLoc loc;
};

struct PlanHeader {
  std::string name;
  std::string source;
  std::vector<int64_t> widths;
  std::string target = "sm_90";
  int64_t context = 0;
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t layers = 0;
  std::string route_policy = "default";
  std::string tuning;                       // path of the tuning file, empty when none
  std::vector<std::string> route_overrides; // --route flags, in order
  // The most consecutive positions of one sequence a step may carry (chunked prefill). Rings then
  // keep window + prefill_chunk − 1 slots, so a step's K/V writes never overwrite a slot that one
  // of its own rows still attends to. Printed only when above 1.
  int64_t prefill_chunk = 1;
  // The fusion passes that ran (`g4c compile --fuse`), in pipeline order. Printed only when some
  // did, so an unfused plan reads as plans did before fusions existed.
  std::vector<std::string> fusions;
  // `g4c compile --kv-storage`: v_only (k_eq_v caches keep V alone, the default) or separate
  // (every cache keeps K and V). Printed only when separate; the caches say what each stores, so
  // the runtime does not read it.
  KvStorage kv_storage = KvStorage::v_only;
  // `g4c compile --attention-split`: printed only when not auto; the attention ops say where each
  // runs (`split = mma`), so the runtime does not read it.
  AttentionSplit attention_split = AttentionSplit::automatic;
  SourceLoc loc;
};

// Slots of a ring cache for a sliding window: the window, plus room for a prefill chunk's later
// rows, never more than the context.
inline int64_t ring_slots(int64_t window, int64_t prefill_chunk, int64_t context) {
  return std::min(window + prefill_chunk - 1, context);
}

struct Plan {
  PlanHeader header;
  std::vector<WeightDecl> weights;
  std::optional<std::vector<KvCache>> caches;  // set by kv-layout
  std::optional<BufferPlan> buffers;           // set by buffer-plan
  std::vector<Block> blocks;                   // prologue, layer 0..L-1, epilogue
  std::optional<std::vector<KernelInstance>> kernels;  // set by kernel-instances

  // By name, through an index built on first use and rebuilt when the weights or caches change
  // (their count or storage; a rename in place would need a copy of the plan), so that lookups
  // in plans of thousands of weights stay cheap.
  const WeightDecl* find_weight(std::string_view name) const;
  int64_t weight_bytes() const;  // all weights together; the parser holds this to kMaxWeightBytes
  const KvCache* find_cache(std::string_view name) const;
  // Ops in execution order (prologue, layers, epilogue).
  std::vector<const Op*> ops() const;
  std::vector<Op*> mutable_ops();

 private:
  struct NameIndex;
  static std::shared_ptr<NameIndex> new_index();
  std::shared_ptr<NameIndex> index_ = new_index();
};

// Whether a backend can run the plan: it has the kv_caches and buffers sections (a plan from
// g4c compile does); else says so in `diag`.
bool check_runnable(const Plan& plan, DiagnosticEngine& diag);

// The caches' bytes by layer, as `g4c compile --emit=spec` prints them (from KvCache).
KvFootprint kv_footprint(const Plan& plan);

}  // namespace g4c::plan
