#include "g4c/plan/printer.h"

#include <algorithm>
#include <functional>

#include <ostream>

#include "g4c/support/text.h"

namespace g4c::plan {

std::string KernelInstance::key() const {
  if (constants.empty()) return family;
  return family + " {" + format_attrs(constants, {}) + "}";
}

std::string format_type(const ValueType& type) {
  std::string out(name(type.dtype));
  out += "[";
  for (size_t i = 0; i < type.dims.size(); ++i) {
    if (i) out += ", ";
    out += type.dims[i] == kBatch ? "N" : std::to_string(type.dims[i]);
  }
  return out + "]";
}

namespace {

std::string width_range(std::span<const int64_t> widths, size_t first, size_t last) {
  if (first == last) return std::to_string(widths[first]);
  return std::to_string(widths[first]) + ".." + std::to_string(widths[last]);
}

// Groups runs of the plan's widths that share route and source. Choices for widths the plan does
// not serve, and every choice of a plan whose widths are not ascending (only in hand-edited plans,
// where a range would read back as other widths), print on their own.
std::string format_routes(const std::vector<RouteChoice>& routes, std::span<const int64_t> widths) {
  std::vector<std::string> parts;
  size_t i = 0;
  const bool ascending = std::adjacent_find(widths.begin(), widths.end(), std::greater_equal<>()) == widths.end();
  auto index_of = [&](int64_t w) -> std::optional<size_t> {
    for (size_t k = 0; k < widths.size(); ++k)
      if (widths[k] == w) return k;
    return std::nullopt;
  };
  while (i < routes.size()) {
    const RouteChoice& c = routes[i];
    size_t j = i;
    auto first = ascending ? index_of(c.width) : std::nullopt;
    while (first && j + 1 < routes.size()) {
      const RouteChoice& next = routes[j + 1];
      auto k = index_of(next.width);
      auto prev = index_of(routes[j].width);
      if (!k || *k != *prev + 1 || next.route != c.route || next.source != c.source) break;
      ++j;
    }
    std::string span = first ? width_range(widths, *first, *index_of(routes[j].width)) : std::to_string(c.width);
    parts.push_back(span + ": " + std::string(name(c.route)) + " (" + c.source + ")");
    i = j + 1;
  }
  return "[" + join(parts) + "]";
}

}  // namespace

std::string format_attr_value(const AttrValue& value, std::span<const int64_t> widths) {
  struct Visitor {
    std::span<const int64_t> widths;
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return format_double(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return quote(v); }
    std::string operator()(const Ident& v) const { return v.text; }
    std::string operator()(const std::vector<int64_t>& v) const {
      std::vector<std::string> parts;
      for (int64_t x : v) parts.push_back(std::to_string(x));
      return "[" + join(parts) + "]";
    }
    std::string operator()(const std::vector<RouteChoice>& v) const { return format_routes(v, widths); }
  };
  return std::visit(Visitor{widths}, value);
}

std::string format_attrs(const std::vector<Attr>& attrs, std::span<const int64_t> widths) {
  std::string out;
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i) out += ", ";
    out += attrs[i].key + " = " + format_attr_value(attrs[i].value, widths);
  }
  return out;
}

std::string format_op(const Op& op, std::span<const int64_t> widths) {
  const OpSchema& s = schema(op.kind);
  std::string out;
  if (!op.result.empty()) out += "%" + op.result + " = ";
  out += s.name;
  std::vector<std::string> args;
  for (const std::string& v : op.operands) args.push_back("%" + v);
  if (!op.weight.empty()) args.push_back("@" + op.weight);
  if (op.kind == OpKind::attention && !op.cache.empty()) args.push_back("%" + op.cache);
  if (!args.empty()) out += " " + join(args);
  if (op.kind == OpKind::kv_write && !op.cache.empty()) out += " -> %" + op.cache;
  if (!op.attrs.empty()) out += " {" + format_attrs(op.attrs, widths) + "}";
  if (s.result) out += " : " + format_type(op.type);
  return out;
}

namespace {

void print_header(const PlanHeader& h, std::ostream& os) {
  std::vector<std::string> overrides;
  for (const std::string& o : h.route_overrides) overrides.push_back(quote(o));
  os << "// g4c plan v" << kPlanFormatVersion << "\n";
  os << "plan @" << h.name << " {source = " << quote(h.source)
     << ", widths = " << format_attr_value(h.widths, {}) << ", target = " << h.target << ", context = " << h.context
     << ", vocab = " << h.vocab << ", hidden = " << h.hidden << ", layers = " << h.layers
     << ", route_policy = " << h.route_policy << ", tuning = " << (h.tuning.empty() ? "none" : quote(h.tuning))
     << ", route_overrides = [" << join(overrides) << "]";
  if (!h.fusions.empty()) os << ", fusions = [" << join(h.fusions) << "]";
  if (h.kv_storage != KvStorage::v_only) os << ", kv_storage = " << name(h.kv_storage);
  if (h.attention_split != AttentionSplit::automatic) os << ", attention_split = " << name(h.attention_split);
  if (h.prefill_chunk != 1) os << ", prefill_chunk = " << h.prefill_chunk;
  os << "}\n";
}

void print_weights(const Plan& plan, std::ostream& os) {
  os << "\nweights {count = " << plan.weights.size() << ", bytes = " << plan.weight_bytes() << "}\n";
  for (const WeightDecl& w : plan.weights) {
    os << "  weight @" << w.name << " {type = " << name(w.type) << ", shape = [" << w.ne0 << ", " << w.ne1 << "]";
    if (w.layout != WeightLayout::gguf) os << ", layout = " << name(w.layout);
    os << "}\n";
  }
}

// `, storage = v_only, k_from_v = {...}` on a cache that stores V alone; nothing on a separate one.
std::string format_storage(const KvCache& c) {
  if (!c.v_only()) return {};
  const KFromV& k = c.k_from_v;
  return ", storage = " + std::string(name(c.storage)) + ", k_from_v = {norm = @" + k.norm +
         ", head_dim = " + std::to_string(k.head_dim) + ", rotated_pairs = " + std::to_string(k.rotated_pairs) +
         ", theta = " + format_double(k.theta) + "}";
}

void print_caches(const std::vector<KvCache>& caches, std::ostream& os) {
  int64_t bytes = 0;
  for (const KvCache& c : caches) bytes += c.seq_bytes();
  os << "\nkv_caches {count = " << caches.size() << ", seq_bytes = " << bytes << "}\n";
  for (const KvCache& c : caches)
    os << "  kv %" << c.name << " {layer = " << c.layer << ", kind = " << name(c.kind) << ", slots = " << c.slots
       << ", kv_heads = " << c.kv_heads << ", head_dim = " << c.head_dim << ", dtype = " << name(c.dtype)
       << format_storage(c) << ", seq_bytes = " << c.seq_bytes() << ", readers = " << format_attr_value(c.readers, {})
       << "}\n";
}

void print_buffers(const BufferPlan& b, std::span<const int64_t> widths, std::ostream& os) {
  os << "\nbuffers {seq_bytes = " << b.seq_bytes << ", unshared_seq_bytes = " << b.unshared_seq_bytes
     << ", alignment = " << b.alignment << "}\n";
  for (int64_t w : widths) os << "  arena {width = " << w << ", bytes = " << w * b.seq_bytes << "}\n";
  for (const Buffer& buf : b.buffers)
    os << "  buf %" << buf.value << " {seq_offset = " << buf.seq_offset << ", seq_bytes = " << buf.seq_bytes << "}\n";
}

void print_blocks(const Plan& plan, std::ostream& os) {
  for (const Block& b : plan.blocks) {
    if (b.kind == BlockKind::prologue) os << "\nprologue\n";
    if (b.kind == BlockKind::layer) os << "\nlayer " << b.layer << " {kind = " << b.layer_kind << "}\n";
    if (b.kind == BlockKind::epilogue) os << "\nepilogue\n";
    for (const Op& op : b.ops) os << "  " << format_op(op, plan.header.widths) << "\n";
  }
}

void print_kernels(const std::vector<KernelInstance>& kernels, std::ostream& os) {
  os << "\nkernels {count = " << kernels.size() << "}\n";
  for (const KernelInstance& k : kernels) os << "  kernel " << k.key() << " uses " << k.uses << "\n";
}

}  // namespace

void print_plan(const Plan& plan, std::ostream& os, const PrintOptions& o) {
  print_header(plan.header, os);
  if (o.weights) print_weights(plan, os);
  if (o.caches && plan.caches) print_caches(*plan.caches, os);
  if (o.buffers && plan.buffers) print_buffers(*plan.buffers, plan.header.widths, os);
  if (o.ops) print_blocks(plan, os);
  if (o.kernels && plan.kernels) print_kernels(*plan.kernels, os);
}

}  // namespace g4c::plan
