#include "g4c/plan/plan.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <unordered_map>

#include "g4c/spec/limits.h"

namespace g4c::plan {

bool is_gpu_arch(std::string_view name) {
  if (!name.starts_with("sm_")) return false;
  std::string_view rest = name.substr(3);
  if (rest.ends_with('a') || rest.ends_with('f')) rest.remove_suffix(1);
  return (rest.size() == 2 || rest.size() == 3) &&
         std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view name(DType t) { return t == DType::f32 ? "f32" : "i32"; }

std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f32") return DType::f32;
  if (s == "i32") return DType::i32;
  return std::nullopt;
}

int64_t ValueType::seq_elements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d != kBatch) n *= d;
  return n;
}

static constexpr std::array<std::string_view, 6> kRouteNames = {"ws", "mmq", "gemm_n", "cublas", "mma16", "mma16h"};

std::string_view name(Route r) { return kRouteNames[static_cast<size_t>(r)]; }

std::optional<Route> parse_route(std::string_view s) {
  for (size_t i = 0; i < kRouteNames.size(); ++i)
    if (kRouteNames[i] == s) return static_cast<Route>(i);
  return std::nullopt;
}

std::vector<std::string> route_names() { return {kRouteNames.begin(), kRouteNames.end()}; }

std::string_view name(KvKind k) { return k == KvKind::ring ? "ring" : "full"; }

std::string_view name(KvStorage s) { return s == KvStorage::v_only ? "v_only" : "separate"; }

std::optional<KvStorage> parse_kv_storage(std::string_view s) {
  if (s == "separate") return KvStorage::separate;
  if (s == "v_only") return KvStorage::v_only;
  return std::nullopt;
}

static constexpr std::array<std::string_view, 3> kAttentionSplitNames = {"auto", "cuda-cores", "tensor-cores"};

std::string_view name(AttentionSplit s) { return kAttentionSplitNames[static_cast<size_t>(s)]; }

std::optional<AttentionSplit> parse_attention_split(std::string_view s) {
  for (size_t i = 0; i < kAttentionSplitNames.size(); ++i)
    if (kAttentionSplitNames[i] == s) return static_cast<AttentionSplit>(i);
  return std::nullopt;
}

static constexpr std::array<std::string_view, 2> kLayoutNames = {"gguf", "mma16"};

std::string_view name(WeightLayout l) { return kLayoutNames[static_cast<size_t>(l)]; }

std::optional<WeightLayout> parse_weight_layout(std::string_view s) {
  for (size_t i = 0; i < kLayoutNames.size(); ++i)
    if (kLayoutNames[i] == s) return static_cast<WeightLayout>(i);
  return std::nullopt;
}

WeightLayout route_layout(Route r) {
  return r == Route::mma16 || r == Route::mma16h ? WeightLayout::mma16 : WeightLayout::gguf;
}

// ---- op schemas ----

namespace {

using AK = AttrKind;
constexpr AttrSchema kInPlace{"in_place", AK::boolean, false};

constexpr AttrSchema kInputAttrs[] = {{"role", AK::ident, true}};
constexpr AttrSchema kEmbedAttrs[] = {{"scale", AK::number, true}};
constexpr AttrSchema kPleAttrs[] = {{"layers", AK::integer, true, 1, kMaxLayers},
                                    {"width", AK::integer, true, 1, kMaxDim},
                                    {"proj_scale", AK::number, true},
                                    {"eps", AK::number, true},
                                    {"out_scale", AK::number, true}};
constexpr AttrSchema kSliceAttrs[] = {{"index", AK::integer, true, 0, kMaxLayers - 1}};
constexpr AttrSchema kAliasAttrs[] = {{"reason", AK::ident, true}};
constexpr AttrSchema kMatmulAttrs[] = {{"type", AK::ident, true},
                                       {"rows", AK::integer, true, 1},
                                       {"cols", AK::integer, true, 1},
                                       {"routes", AK::routes, false},
                                       // quantize-once: the earlier matmul of the same input whose
                                       // prepared activations (its scratch) this one reads
                                       {"activations_from", AK::value, false},
                                       // group-matmuls: the earlier matmul whose launch computes this one
                                       {"launched_with", AK::value, false}};
constexpr AttrSchema kNormAttrs[] = {{"eps", AK::number, true}, {"group", AK::integer, true, 1, kMaxDim}, kInPlace};
// quantize-in-producer: at each width, the activations of which route (mmq: q8_1, mma16, mma16h)
// this op writes for the matmuls of its result, which read them with `activations_from`.
constexpr AttrSchema kQuantize{"quantize", AK::routes, false};
// norm-chains: the add_rms_norm whose launch computes this op too; attention-inputs: the Q
// rms_norm_rope whose launch computes this K norm, V norm or KV write.
constexpr AttrSchema kChainedLaunch{"launched_with", AK::value, false};
constexpr AttrSchema kQuantizingNormAttrs[] = {kNormAttrs[0], kNormAttrs[1], kInPlace, kQuantize, kChainedLaunch};
constexpr AttrSchema kScaleAttrs[] = {kInPlace, kChainedLaunch};
// geglu-epilogue: the matmul whose launch (gate and up) computes this geglu too.
constexpr AttrSchema kGegluAttrs[] = {kInPlace, kQuantize, kChainedLaunch};
constexpr AttrSchema kRopeAttrs[] = {{"head_dim", AK::integer, true, 2, kMaxHeadDim},
                                     {"rotated_pairs", AK::integer, true, 0, kMaxHeadDim / 2},
                                     {"theta", AK::number, true},
                                     kInPlace};
constexpr AttrSchema kAttentionAttrs[] = {{"q_heads", AK::integer, true, 1, kMaxHeads},
                                          {"kv_heads", AK::integer, true, 1, kMaxHeads},
                                          {"head_dim", AK::integer, true, 1, kMaxHeadDim},
                                          {"window", AK::integer, true, 0, kMaxDim},
                                          {"scale", AK::number, true},
                                          // attention-combine: last_block, the partial kernel merges the splits
                                          {"combine", AK::ident, false},
                                          // attention-split: mma, the partial kernel runs on the tensor cores
                                          {"split", AK::ident, false},
                                          kQuantize};
// rms_norm's attributes, then rope's: the fused op states both halves as the unfused pair did.
constexpr AttrSchema kNormRopeAttrs[] = {kNormAttrs[0],
                                         kNormAttrs[1],
                                         kRopeAttrs[0],
                                         kRopeAttrs[1],
                                         kRopeAttrs[2],
                                         kInPlace,
                                         kChainedLaunch};
constexpr AttrSchema kInPlaceOnly[] = {kInPlace};
constexpr AttrSchema kKvWriteAttrs[] = {kChainedLaunch};
constexpr AttrSchema kSoftcapAttrs[] = {{"cap", AK::number, true}, kInPlace};
constexpr AttrSchema kOutputAttrs[] = {{"role", AK::ident, true}};

using P = Presence;
const std::array<OpSchema, kOpKindCount> kSchemas = {{
    {"input", 0, P::none, false, true, false, kInputAttrs},
    {"embed_gather", 1, P::required, false, true, false, kEmbedAttrs},
    {"ple_combine", 2, P::required, false, true, false, kPleAttrs, false, true, true},
    {"slice", 1, P::none, false, true, false, kSliceAttrs},
    {"alias", 1, P::none, false, true, false, kAliasAttrs},
    {"matmul", 1, P::required, false, true, false, kMatmulAttrs},
    {"rms_norm", 1, P::optional, false, true, true, kQuantizingNormAttrs, false, true, true},
    {"rope", 2, P::none, false, true, true, kRopeAttrs, false, false, false, true},
    {"kv_write", 4, P::none, true, false, false, kKvWriteAttrs, true},
    {"attention", 3, P::none, true, true, false, kAttentionAttrs},
    {"geglu", 2, P::none, false, true, true, kGegluAttrs},
    {"add", 2, P::none, false, true, true, kInPlaceOnly},
    {"scale_by", 1, P::required, false, true, true, kScaleAttrs, false, true},
    {"softcap", 1, P::none, false, true, true, kSoftcapAttrs},
    // residual + rms_norm(x) [⊙ w]: in place over the residual, as the add it replaces was.
    {"add_rms_norm", 2, P::optional, false, true, true, kNormAttrs, false, true, true},
    // rope(rms_norm(x) [⊙ w], pos), one head per norm group.
    {"rms_norm_rope", 2, P::optional, false, true, true, kNormRopeAttrs, false, true, true, true},
    {"sample", 1, P::none, false, true, false, {}},
    {"output", 1, P::none, false, false, false, kOutputAttrs},
}};

}  // namespace

const OpSchema& schema(OpKind k) { return kSchemas[static_cast<size_t>(k)]; }

std::optional<OpKind> parse_op_kind(std::string_view s) {
  for (size_t i = 0; i < kSchemas.size(); ++i)
    if (kSchemas[i].name == s) return static_cast<OpKind>(i);
  return std::nullopt;
}

KvWriteOperands kv_write_operands(const Op& op) {
  const std::vector<std::string>& o = op.operands;
  if (o.size() == 3) return {"", o[0], o[1], o[2]};
  if (o.size() == 4) return {o[0], o[1], o[2], o[3]};
  return {};
}

// ---- op attribute access ----

const Attr* Op::find(std::string_view key) const {
  for (const Attr& a : attrs)
    if (a.key == key) return &a;
  return nullptr;
}

int64_t Op::get_int(std::string_view key) const {
  const Attr* a = find(key);
  return a && std::holds_alternative<int64_t>(a->value) ? std::get<int64_t>(a->value) : 0;
}

double Op::get_number(std::string_view key) const {
  const Attr* a = find(key);
  if (!a) return 0;
  if (auto* d = std::get_if<double>(&a->value)) return *d;
  if (auto* i = std::get_if<int64_t>(&a->value)) return static_cast<double>(*i);
  return 0;
}

bool Op::get_bool(std::string_view key, bool fallback) const {
  const Attr* a = find(key);
  return a && std::holds_alternative<bool>(a->value) ? std::get<bool>(a->value) : fallback;
}

std::string Op::get_ident(std::string_view key) const {
  const Attr* a = find(key);
  return a && std::holds_alternative<Ident>(a->value) ? std::get<Ident>(a->value).text : std::string();
}

const std::vector<RouteChoice>* Op::routes() const {
  const Attr* a = find("routes");
  return a ? std::get_if<std::vector<RouteChoice>>(&a->value) : nullptr;
}

void Op::set(std::string key, AttrValue value) {
  for (Attr& a : attrs)
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  auto order = [this](std::string_view k) {
    std::span<const AttrSchema> s = schema(kind).attrs;
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i].key == k) return i;
    return s.size();
  };
  size_t rank = order(key);
  auto pos = std::find_if(attrs.begin(), attrs.end(), [&](const Attr& a) { return order(a.key) > rank; });
  attrs.insert(pos, Attr{std::move(key), std::move(value)});
}

void Op::erase(std::string_view key) {
  std::erase_if(attrs, [&](const Attr& a) { return a.key == key; });
}

// ---- plan ----


int64_t Plan::weight_bytes() const {
  int64_t total = 0;
  for (const WeightDecl& w : weights) total += w.bytes();
  return total;
}

// Positions by name of one vector's elements, valid while the vector keeps its storage and size.
// Shared between copies of a plan (each rebuilds it for its own vector), hence the mutex.
struct Plan::NameIndex {
  struct Table {
    const void* data = nullptr;
    size_t size = 0;
    std::unordered_map<std::string_view, size_t> positions;
  };
  std::mutex mutex;
  Table weights, caches;

  template <typename T>
  static const T* find(std::mutex& mutex, Table& table, const std::vector<T>& items, std::string_view name) {
    std::lock_guard lock(mutex);
    if (table.data != items.data() || table.size != items.size()) {
      table.positions.clear();
      for (size_t i = 0; i < items.size(); ++i) table.positions.emplace(items[i].name, i);
      table.data = items.data();
      table.size = items.size();
    }
    auto it = table.positions.find(name);
    if (it == table.positions.end()) return nullptr;
    if (items[it->second].name == name) return &items[it->second];
    for (const T& item : items)  // renamed in place since the index was built
      if (item.name == name) return &item;
    return nullptr;
  }
};

std::shared_ptr<Plan::NameIndex> Plan::new_index() { return std::make_shared<NameIndex>(); }

const WeightDecl* Plan::find_weight(std::string_view n) const {
  if (!index_) {  // a moved-from plan
    for (const WeightDecl& w : weights)
      if (w.name == n) return &w;
    return nullptr;
  }
  return NameIndex::find(index_->mutex, index_->weights, weights, n);
}

const KvCache* Plan::find_cache(std::string_view n) const {
  if (!caches) return nullptr;
  if (!index_) {
    for (const KvCache& c : *caches)
      if (c.name == n) return &c;
    return nullptr;
  }
  return NameIndex::find(index_->mutex, index_->caches, *caches, n);
}

KvFootprint kv_footprint(const Plan& plan) {
  KvFootprint kv;
  kv.bytes_per_token.assign(static_cast<size_t>(plan.header.layers), 0);
  for (const KvCache& c : plan.caches ? *plan.caches : std::vector<KvCache>{}) {
    if (c.layer >= 0 && c.layer < plan.header.layers) kv.bytes_per_token[c.layer] = c.position_bytes();
    kv.bytes_per_token_total += c.position_bytes();
    kv.bytes_per_sequence += c.seq_bytes();
  }
  return kv;
}

std::vector<const Op*> Plan::ops() const {
  std::vector<const Op*> out;
  for (const Block& b : blocks)
    for (const Op& op : b.ops) out.push_back(&op);
  return out;
}

std::vector<Op*> Plan::mutable_ops() {
  std::vector<Op*> out;
  for (Block& b : blocks)
    for (Op& op : b.ops) out.push_back(&op);
  return out;
}

bool check_runnable(const Plan& plan, DiagnosticEngine& diag) {
  if (plan.caches && plan.buffers) return true;
  diag.error({}, "plan is incomplete (no kv_caches or buffers section); compile it with g4c compile");
  return false;
}

}  // namespace g4c::plan
