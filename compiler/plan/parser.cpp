#include "g4c/plan/parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "g4c/spec/limits.h"
#include "g4c/support/checked_math.h"
#include "g4c/support/text.h"
#include "line_cursor.h"

namespace g4c::plan {

namespace {

using namespace parsing;

// "value takes 2 TiB per sequence; g4c's limit is 1 TiB", with exact byte counts; nullopt bytes
// overflowed int64.
std::string over_limit_text(std::string_view what, std::optional<int64_t> bytes, std::string_view per, int64_t limit) {
  return std::string(what) + " " + byte_count_text(bytes) + std::string(per) + "; g4c's limit is " +
         byte_count_text(limit);
}

// Route lists: `[1..4: mmq (rule mmq-quant), 8: gemm_n (tuning)]`; a range covers the plan's widths
// between its ends, which must be widths of the plan.
std::vector<RouteChoice> parse_routes(Cursor& c, const std::vector<int64_t>& widths) {
  std::vector<RouteChoice> out;
  c.expect("[");
  if (c.eat("]")) return out;
  do {
    size_t at = c.pos();
    int64_t first = c.integer_in(1, kMaxWidth, "route width");
    int64_t last = first;
    if (c.eat("..")) last = c.integer_in(1, kMaxWidth, "route width");
    c.expect(":");
    size_t route_at = c.pos();
    std::string route_text = c.word();
    auto route = parse_route(route_text);
    if (!route) c.fail_at(route_at, "unknown route '" + route_text + "' (expected one of " + join(route_names()) + ")");
    c.expect("(");
    std::string source = c.until(')');
    c.expect(")");
    if (first == last) {
      out.push_back({static_cast<int>(first), *route, source});
      continue;
    }
    bool ends_ok = std::find(widths.begin(), widths.end(), first) != widths.end() &&
                   std::find(widths.begin(), widths.end(), last) != widths.end() && first < last;
    if (!ends_ok) c.fail_at(at, "route range " + std::to_string(first) + ".." + std::to_string(last) +
                                    " must start and end at widths of the plan");
    for (int64_t w : widths)
      if (w >= first && w <= last) out.push_back({static_cast<int>(w), *route, source});
  } while (c.eat(","));
  c.expect("]");
  return out;
}

// Bytes of one sequence's part of a value of `t`, or nullopt past int64.
std::optional<int64_t> checked_seq_bytes(const ValueType& t) {
  std::optional<int64_t> bytes = 4;
  for (int64_t d : t.dims)
    if (d != kBatch && !(bytes = checked_mul(*bytes, d))) return std::nullopt;
  return bytes;
}

ValueType parse_type(Cursor& c) {
  size_t at = c.pos();
  std::string dtype_text = c.word();
  auto dtype = parse_dtype(dtype_text);
  if (!dtype) c.fail_at(at, "unknown element type '" + dtype_text + "' (expected f32 or i32)");
  ValueType t{*dtype, {}};
  c.expect("[");
  do {
    if (c.eat("N"))
      t.dims.push_back(kBatch);
    else
      t.dims.push_back(c.integer_in(1, std::numeric_limits<int64_t>::max(), "dimension"));
  } while (c.eat(","));
  c.expect("]");
  auto bytes = checked_seq_bytes(t);
  if (!bytes || *bytes > kMaxArenaBytes)
    c.fail_at(at, over_limit_text("value takes", bytes, " per sequence", kMaxArenaBytes));
  return t;
}

AttrValue parse_attr_value(Cursor& c, const AttrSchema& s, const std::vector<int64_t>& widths) {
  switch (s.kind) {
    case AttrKind::integer: return c.integer_in(s.min, s.max, s.key);
    case AttrKind::number: return c.number();
    case AttrKind::boolean: return c.boolean();
    case AttrKind::string: return c.string();
    case AttrKind::ident: return Ident{c.word()};
    case AttrKind::int_list: return c.int_list();
    case AttrKind::routes: return parse_routes(c, widths);
    case AttrKind::value: return Ident{"%" + c.name('%', "a value name")};
  }
  return int64_t{0};
}

std::vector<Attr> parse_op_attrs(Cursor& c, const OpSchema& s, const std::vector<int64_t>& widths) {
  std::vector<Attr> attrs;
  bool braces = c.eat("{");
  size_t next = 0;
  while (braces && !c.eat("}")) {
    if (!attrs.empty()) c.expect(",");
    c.skip_spaces();
    size_t at = c.pos();
    std::string key = c.word();
    size_t k = next;
    while (k < s.attrs.size() && s.attrs[k].key != key) {
      if (s.attrs[k].required) c.fail_at(at, "expected attribute '" + std::string(s.attrs[k].key) + "' (got '" + key + "')");
      ++k;
    }
    if (k == s.attrs.size()) c.fail_at(at, "'" + std::string(s.name) + "' takes no attribute '" + key + "' here");
    c.expect("=");
    attrs.push_back({key, parse_attr_value(c, s.attrs[k], widths)});
    next = k + 1;
  }
  for (size_t k = next; k < s.attrs.size(); ++k)
    if (s.attrs[k].required) c.fail("'" + std::string(s.name) + "' needs attribute '" + std::string(s.attrs[k].key) + "'");
  return attrs;
}

Op parse_op(Cursor& c, const std::vector<int64_t>& widths) {
  Op op;
  if (c.peek() == '%') {
    op.result = c.name('%', "a value name");
    c.expect("=");
  }
  size_t at = c.pos();
  std::string kind_text = c.word();
  auto kind = parse_op_kind(kind_text);
  if (!kind) {
    std::vector<std::string> names;
    for (int k = 0; k < kOpKindCount; ++k) names.emplace_back(schema(static_cast<OpKind>(k)).name);
    c.fail_at(at, "unknown op '" + kind_text + "'" + did_you_mean(kind_text, names));
  }
  op.kind = *kind;
  const OpSchema& s = schema(op.kind);
  if (s.result && op.result.empty()) c.fail_at(at, "'" + kind_text + "' produces a value: expected '%name = " + kind_text + "'");
  if (!s.result && !op.result.empty()) c.fail_at(at, "'" + kind_text + "' produces no value");
  // Operands: %values, then @weight; attention's last %operand is its cache.
  std::vector<std::string> values;
  bool first = true;
  while (c.peek() == '%' || c.peek() == '@' || (!first && c.peek() == ',')) {
    if (!first) c.expect(",");
    first = false;
    if (c.peek() == '@') {
      if (!op.weight.empty()) c.fail("'" + kind_text + "' takes one weight");
      op.weight = c.name('@', "a weight");
    } else {
      values.push_back(c.name('%', "a value"));
    }
  }
  if (op.kind == OpKind::attention && !values.empty()) {
    op.cache = values.back();
    values.pop_back();
  }
  if (c.eat("->")) op.cache = c.name('%', "a KV cache");
  const int count = static_cast<int>(values.size());
  if (s.first_operand_optional && count != s.operands && count != s.operands - 1)
    c.fail_at(at, "'" + kind_text + "' takes " + std::to_string(s.operands - 1) + " or " + std::to_string(s.operands) +
                      " value operands (got " + std::to_string(count) + ")");
  if (!s.first_operand_optional && count != s.operands)
    c.fail_at(at, "'" + kind_text + "' takes " + std::to_string(s.operands) + " value operand" +
                      (s.operands == 1 ? "" : "s") + " (got " + std::to_string(count) + ")");
  op.operands = std::move(values);
  if (s.weight == Presence::required && op.weight.empty()) c.fail_at(at, "'" + kind_text + "' needs a weight operand");
  if (s.weight == Presence::none && !op.weight.empty()) c.fail_at(at, "'" + kind_text + "' takes no weight");
  if (s.cache && op.cache.empty()) c.fail_at(at, "'" + kind_text + "' needs a KV cache operand");
  op.attrs = parse_op_attrs(c, s, widths);
  if (s.result) {
    c.expect(":");
    op.type = parse_type(c);
  }
  c.expect_end();
  return op;
}

enum class Section { none, header, weights, kv_caches, buffers, prologue, layer, epilogue, kernels };

int rank(Section s) { return static_cast<int>(s); }

class PlanParser {
 public:
  PlanParser(std::string_view text, const std::string& path, DiagnosticEngine& diag)
      : text_(text), file_(std::make_shared<const std::string>(path)), diag_(diag) {}

  std::optional<Plan> run() {
    // A UTF-8 byte-order mark and CRLF line ends (editors on Windows) are read as if absent.
    size_t start = text_.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    int line_no = 0;
    bool versioned = false;
    while (start < text_.size()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(start, end - start);
      if (line.ends_with('\r')) line.remove_suffix(1);
      ++line_no;
      start = end + 1;
      try {
        if (line.starts_with("// g4c plan v") && !versioned) {
          check_version(line);
          versioned = true;
          continue;
        }
        if (is_blank_or_comment(line)) continue;
        if (!versioned) throw ParseError{1, "expected the version line '// g4c plan v" + std::to_string(kPlanFormatVersion) + "' first"};
        line_ = line_no;
        if (line[0] == ' ')
          section_line(line);
        else
          section_header(line);
      } catch (const ParseError& e) {
        diag_.error(SourceLoc{file_, line_no, e.col}, e.message);
        return std::nullopt;
      }
    }
    if (!versioned) {  // where the version line should have been
      diag_.error(SourceLoc{file_, 1, 1}, "empty plan: expected the version line '// g4c plan v1'");
      return std::nullopt;
    }
    if (!finish(line_no)) return std::nullopt;
    return std::move(plan_);
  }

 private:
  static bool is_blank_or_comment(std::string_view line) {
    size_t i = line.find_first_not_of(' ');
    return i == std::string_view::npos || line.substr(i).starts_with("//");
  }

  SourceLoc here(int col) const { return SourceLoc{file_, line_, col}; }

  void check_version(std::string_view line) {
    std::string_view version = line.substr(std::string_view("// g4c plan v").size());
    while (!version.empty() && (version.back() == ' ' || version.back() == '\t')) version.remove_suffix(1);
    auto v = parse_int(version);
    if (!v || *v != kPlanFormatVersion)
      throw ParseError{14, "unsupported plan format version '" + std::string(version) + "' (expected " +
                               std::to_string(kPlanFormatVersion) + ")"};
  }

  void enter(Section s, Cursor& c) {
    bool repeat_ok = s == Section::layer;
    if (rank(s) < rank(section_) || (rank(s) == rank(section_) && !repeat_ok))
      c.fail_at(0, "section out of order: sections go plan, weights, kv_caches, buffers, prologue, layers, epilogue, kernels");
    if (section_ == Section::none && s != Section::header) c.fail_at(0, "expected the 'plan @name {...}' line first");
    section_ = s;
  }

  void section_header(std::string_view line) {
    Cursor c(line);
    std::string head = c.word();
    if (head == "plan") return parse_header(c);
    if (head == "weights") {
      enter(Section::weights, c);
      weights_line_ = line_;
      Fields f(c);
      declared_weights_ = f.key("count").integer();
      declared_weight_bytes_ = f.key("bytes").integer();
      f.close();
      return c.expect_end();
    }
    if (head == "kv_caches") {
      enter(Section::kv_caches, c);
      kv_caches_line_ = line_;
      plan_.caches.emplace();
      Fields f(c);
      declared_caches_ = f.key("count").integer();
      declared_kv_bytes_ = f.key("seq_bytes").integer();
      f.close();
      return c.expect_end();
    }
    if (head == "buffers") return parse_buffers_header(c);
    if (head == "prologue" || head == "epilogue") {
      enter(head == "prologue" ? Section::prologue : Section::epilogue, c);
      c.expect_end();
      plan_.blocks.push_back(Block{head == "prologue" ? BlockKind::prologue : BlockKind::epilogue, -1, {}, {}, here(1)});
      return;
    }
    if (head == "layer") return parse_layer_header(c);
    if (head == "kernels") {
      enter(Section::kernels, c);
      plan_.kernels.emplace();
      kernels_line_ = line_;
      Fields f(c);
      declared_kernels_ = f.key("count").integer();
      f.close();
      return c.expect_end();
    }
    static const std::vector<std::string> sections = {"plan",     "weights", "kv_caches", "buffers",
                                                      "prologue", "layer",   "epilogue",  "kernels"};
    c.fail_at(0, "unknown section '" + head + "'" + did_you_mean(head, sections));
  }

  void parse_header(Cursor& c) {
    enter(Section::header, c);
    PlanHeader& h = plan_.header;
    h.loc = here(1);
    h.name = c.name('@', "the plan name '@name'");
    Fields f(c);
    h.source = f.key("source").string();
    const size_t widths_at = f.key("widths").pos();
    h.widths = c.int_list(1, kMaxWidth, "width");
    if (static_cast<int64_t>(h.widths.size()) > kMaxWidths)
      c.fail_at(widths_at, "a plan serves at most " + std::to_string(kMaxWidths) + " widths (g4c's limit; got " +
                               std::to_string(h.widths.size()) + ")");
    const size_t target_at = f.key("target").pos();
    h.target = c.word();
    if (!is_gpu_arch(h.target))
      c.fail_at(target_at, "target '" + h.target + "' is not a GPU architecture (expected sm_ and a number, e.g. sm_90)");
    h.context = f.key("context").integer_in(1, kMaxDim, "context");
    h.vocab = f.key("vocab").integer_in(1, kMaxDim, "vocab");
    h.hidden = f.key("hidden").integer_in(1, kMaxDim, "hidden");
    h.layers = f.key("layers").integer_in(1, kMaxLayers, "layers");
    h.route_policy = f.key("route_policy").word();
    if (f.key("tuning").peek() == '"')
      h.tuning = c.string();
    else
      c.keyword("none", "expected a quoted path or none");
    f.key("route_overrides").expect("[");
    while (!c.eat("]")) {
      if (!h.route_overrides.empty()) c.expect(",");
      h.route_overrides.push_back(c.string());
    }
    parse_optional_header_keys(c, h);
    f.close();
    c.expect_end();
  }

  // `, fusions = [...]`, `, kv_storage = separate`, `, attention_split = S` and `, prefill_chunk =
  // N`, each printed only when it says something, in that order.
  void parse_optional_header_keys(Cursor& c, PlanHeader& h) {
    if (!c.eat(",")) return;
    if (c.next_word() == "fusions") {
      c.key("fusions");
      c.expect("[");
      do h.fusions.push_back(c.word());
      while (c.eat(","));
      c.expect("]");
      if (!c.eat(",")) return;
    }
    if (c.next_word() == "kv_storage") {
      c.key("kv_storage");
      size_t at = c.pos();
      std::string storage = c.word();
      if (storage != "separate")
        c.fail_at(at, "kv_storage is printed only when separate (v_only, the default, is left out; got '" + storage + "')");
      h.kv_storage = KvStorage::separate;
      if (!c.eat(",")) return;
    }
    if (c.next_word() == "attention_split") {
      c.key("attention_split");
      size_t at = c.pos();
      std::string split = c.word();
      std::optional<AttentionSplit> s = parse_attention_split(split);
      if (!s || *s == AttentionSplit::automatic)
        c.fail_at(at, "attention_split is printed only when cuda-cores or tensor-cores (auto, the default, is left out; got '" +
                          split + "')");
      h.attention_split = s.value_or(AttentionSplit::automatic);
      if (!c.eat(",")) return;
    }
    c.key("prefill_chunk");
    h.prefill_chunk = c.integer_in(1, kMaxWidth, "prefill_chunk");
  }

  void parse_buffers_header(Cursor& c) {
    enter(Section::buffers, c);
    plan_.buffers.emplace();
    BufferPlan& b = *plan_.buffers;
    b.loc = here(1);
    Fields f(c);
    b.seq_bytes = f.key("seq_bytes").integer_in(0, kMaxArenaBytes, "seq_bytes");
    b.unshared_seq_bytes = f.key("unshared_seq_bytes").integer();
    size_t at = f.key("alignment").pos();
    b.alignment = c.integer();
    if (b.alignment <= 0) c.fail_at(at, "alignment must be positive");
    f.close();
    c.expect_end();
  }

  void parse_layer_header(Cursor& c) {
    enter(Section::layer, c);
    size_t at = c.pos();
    int64_t index = c.integer();
    int expected = next_layer_++;
    if (expected >= kMaxLayers) c.fail_at(at, "a plan has at most " + std::to_string(kMaxLayers) + " layers");
    if (index != expected) c.fail_at(at, "expected layer " + std::to_string(expected) + " (got " + std::to_string(index) + ")");
    Fields f(c);
    const size_t kind_at = f.key("kind").pos();
    Block b{BlockKind::layer, static_cast<int>(index), c.word(), {}, here(1)};
    if (b.layer_kind != "sliding" && b.layer_kind != "global") c.fail_at(kind_at, "layer kind must be sliding or global");
    f.close();
    c.expect_end();
    plan_.blocks.push_back(std::move(b));
  }

  void section_line(std::string_view line) {
    Cursor c(line);
    switch (section_) {
      case Section::weights: return parse_weight(c);
      case Section::kv_caches: return parse_cache(c);
      case Section::buffers: return parse_buffer_line(c);
      case Section::prologue:
      case Section::layer:
      case Section::epilogue: {
        if (++ops_ > kMaxOps) c.fail_at(0, "a plan has at most " + std::to_string(kMaxOps) + " ops (g4c's limit)");
        Op op = parse_op(c, plan_.header.widths);
        op.loc = here(static_cast<int>(line.find_first_not_of(' ')) + 1);
        plan_.blocks.back().ops.push_back(std::move(op));
        return;
      }
      case Section::kernels: return parse_kernel(c);
      default: c.fail_at(0, "indented line outside a section");
    }
  }

  void parse_weight(Cursor& c) {
    c.keyword("weight", "expected 'weight @name {...}'");
    if (static_cast<int64_t>(plan_.weights.size()) >= kMaxWeights)
      c.fail_at(0, "a plan has at most " + std::to_string(kMaxWeights) + " weights (g4c's limit)");
    WeightDecl w;
    w.loc = here(3);
    w.name = c.name('@', "a weight name");
    Fields f(c);
    size_t at = f.key("type").pos();
    std::string type = c.word();
    auto t = parse_quant_type(type);
    if (!t) c.fail_at(at, "unknown weight type '" + type + "'" + did_you_mean(type, quant_type_names()));
    w.type = *t;
    at = f.key("shape").pos();
    std::vector<int64_t> shape = c.int_list();
    if (shape.size() != 2 || shape[0] <= 0 || shape[1] <= 0) c.fail_at(at, "shape must be [row length, rows], both positive");
    const QuantTypeInfo& blocks = info(w.type);
    if (shape[0] % blocks.block_elems != 0)
      c.fail_at(at, "rows of " + std::to_string(shape[0]) + " are not whole " + type + " blocks");
    auto bytes = checked_product({shape[0] / blocks.block_elems, blocks.block_bytes, shape[1]});
    if (!bytes || *bytes > kMaxWeightBytes) c.fail_at(at, over_limit_text("weight takes", bytes, "", kMaxWeightBytes));
    if (weight_bytes_) weight_bytes_ = checked_add(*weight_bytes_, *bytes);
    w.ne0 = shape[0];
    w.ne1 = shape[1];
    if (c.eat(",")) {  // printed only when not GGUF's
      c.key("layout");
      at = c.pos();
      std::string layout = c.word();
      auto l = parse_weight_layout(layout);
      if (!l) c.fail_at(at, "unknown weight layout '" + layout + "' (expected gguf or mma16)");
      w.layout = *l;
    }
    f.close();
    c.expect_end();
    plan_.weights.push_back(std::move(w));
  }

  void parse_cache(Cursor& c) {
    c.keyword("kv", "expected 'kv %name {...}'");
    if (static_cast<int64_t>(plan_.caches->size()) >= kMaxLayers)
      c.fail_at(0, "a plan has at most " + std::to_string(kMaxLayers) + " KV caches, one per layer (g4c's limit)");
    KvCache k;
    k.loc = here(3);
    k.name = c.name('%', "a KV cache name");
    Fields f(c);
    k.layer = static_cast<int>(f.key("layer").integer_in(0, kMaxLayers - 1, "layer"));
    size_t at = f.key("kind").pos();
    std::string kind = c.word();
    if (kind != "ring" && kind != "full") c.fail_at(at, "KV cache kind must be ring or full (got '" + kind + "')");
    k.kind = kind == "ring" ? KvKind::ring : KvKind::full;
    // Each factor in range keeps seq_bytes() under 2^55.
    k.slots = f.key("slots").integer_in(1, kMaxDim, "slots");
    k.kv_heads = static_cast<int>(f.key("kv_heads").integer_in(1, kMaxHeads, "kv_heads"));
    k.head_dim = static_cast<int>(f.key("head_dim").integer_in(1, kMaxHeadDim, "head_dim"));
    at = f.key("dtype").pos();
    std::string dtype = c.word();
    auto t = parse_quant_type(dtype);
    if (!t || !info(*t).is_float) c.fail_at(at, "KV cache dtype must be F16, BF16 or F32 (got '" + dtype + "')");
    k.dtype = *t;
    if (f.next_is("storage")) parse_storage(f, c, k);
    at = f.key("seq_bytes").pos();
    if (c.integer() != k.seq_bytes())
      c.fail_at(at, "seq_bytes disagrees with slots x " + std::to_string(k.planes()) +
                        " x kv_heads x head_dim x dtype size (" + std::to_string(k.seq_bytes()) + ")");
    k.readers = f.key("readers").int_list();
    f.close();
    c.expect_end();
    if (kv_bytes_) kv_bytes_ = checked_add(*kv_bytes_, k.seq_bytes());
    plan_.caches->push_back(std::move(k));
  }

  // `, storage = v_only, k_from_v = {norm = @w, head_dim = D, rotated_pairs = R, theta = T}`: a
  // cache that stores V alone and how attention rebuilds K from it (separate caches print neither).
  void parse_storage(Fields& f, Cursor& c, KvCache& k) {
    size_t at = f.key("storage").pos();
    std::string storage = c.word();
    if (storage != "v_only")
      c.fail_at(at, "KV cache storage is printed only when v_only (a separate cache leaves it out; got '" + storage + "')");
    k.storage = KvStorage::v_only;
    Fields rebuild(f.key("k_from_v"));
    KFromV& r = k.k_from_v;
    r.norm = rebuild.key("norm").name('@', "the K-norm weight '@name'");
    r.head_dim = rebuild.key("head_dim").integer_in(2, kMaxHeadDim, "head_dim");
    r.rotated_pairs = rebuild.key("rotated_pairs").integer_in(0, kMaxHeadDim / 2, "rotated_pairs");
    r.theta = rebuild.key("theta").number();
    rebuild.close();
  }

  void parse_buffer_line(Cursor& c) {
    size_t at = c.pos();
    std::string head = c.word();
    BufferPlan& b = *plan_.buffers;
    if (head == "arena") {
      Fields f(c);
      size_t width_at = f.key("width").pos();
      int64_t width = c.integer();
      size_t bytes_at = f.key("bytes").pos();
      int64_t bytes = c.integer();
      f.close();
      c.expect_end();
      const auto& widths = plan_.header.widths;
      if (arenas_ >= widths.size() || widths[arenas_] != width)
        c.fail_at(width_at, "arena widths must list the plan's widths in order");
      if (bytes != width * b.seq_bytes)  // width <= kMaxWidth and seq_bytes <= kMaxArenaBytes: no overflow
        c.fail_at(bytes_at, "arena bytes must be width x seq_bytes (" + std::to_string(width * b.seq_bytes) + ")");
      // The GPU executor allocates every width's arena at once. Each is under 2^52 and the sum
      // stops at the first past the limit, so it cannot overflow.
      arena_bytes_ += bytes;
      if (arena_bytes_ > kMaxArenaBytes)
        c.fail_at(bytes_at, over_limit_text("arenas take", arena_bytes_,
                                            " for widths up to " + std::to_string(width) + " together", kMaxArenaBytes));
      ++arenas_;
      return;
    }
    if (head != "buf") c.fail_at(at, "expected 'arena {...}' or 'buf %name {...}'");
    if (static_cast<int64_t>(b.buffers.size()) >= 2 * kMaxOps)
      c.fail_at(0, "a plan has at most " + std::to_string(2 * kMaxOps) + " buffers (g4c's limit)");
    Buffer buf;
    buf.loc = here(static_cast<int>(at) + 5);
    buf.value = c.name('%', "a value name");
    Fields f(c);
    buf.seq_offset = f.key("seq_offset").integer_in(0, kMaxArenaBytes, "seq_offset");
    buf.seq_bytes = f.key("seq_bytes").integer_in(0, kMaxArenaBytes, "seq_bytes");
    f.close();
    c.expect_end();
    b.buffers.push_back(std::move(buf));
  }

  void parse_kernel(Cursor& c) {
    c.keyword("kernel", "expected 'kernel FAMILY {...} uses N'");
    if (static_cast<int64_t>(plan_.kernels->size()) >= kMaxKernels)
      c.fail_at(0, "a plan has at most " + std::to_string(kMaxKernels) + " kernel instances (g4c's limit)");
    KernelInstance k;
    k.loc = here(3);
    k.family = c.word();
    if (c.eat("{")) {
      do {
        std::string key = c.word();
        c.expect("=");
        k.constants.push_back({key, parse_kernel_constant(c)});
      } while (c.eat(","));
      c.expect("}");
    }
    c.keyword("uses", "expected 'uses N'");
    k.uses = c.integer();
    c.expect_end();
    plan_.kernels->push_back(std::move(k));
  }

  static AttrValue parse_kernel_constant(Cursor& c) {
    char ch = c.peek();
    if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '-') return c.integer();
    std::string w = c.word();
    if (w == "true" || w == "false") return w == "true";
    return Ident{w};
  }

  // Checks that need the whole file; reported at the line that made the promise.
  bool finish(int last_line) {
    if (plan_.header.name.empty()) {
      diag_.error(SourceLoc{file_, last_line, 1}, "expected the 'plan @name {...}' line");
      return false;
    }
    if (declared_weights_ >= 0 && declared_weights_ != static_cast<int64_t>(plan_.weights.size())) {
      diag_.error(SourceLoc{file_, weights_line_, 1}, "weights section declares count = " +
                                                          std::to_string(declared_weights_) + " but lists " +
                                                          std::to_string(plan_.weights.size()));
      return false;
    }
    if (plan_.buffers && arenas_ != plan_.header.widths.size()) {
      diag_.error(plan_.buffers->loc, "buffers section must list one arena per width");
      return false;
    }
    if (next_layer_ != plan_.header.layers && !plan_.blocks.empty()) {
      diag_.error(plan_.header.loc, "the header says layers = " + std::to_string(plan_.header.layers) + " but the plan has " +
                                        std::to_string(next_layer_) + " layer sections");
      return false;
    }
    return check_totals() && check_section_counts();
  }

  // The counts a section header states must be what the section holds.
  bool check_section_counts() {
    auto mismatch = [&](int line, const std::string& what, int64_t declared, int64_t actual) {
      diag_.error(SourceLoc{file_, line, 1}, what + " = " + std::to_string(declared) + " but the section holds " +
                                                 std::to_string(actual));
      return false;
    };
    if (declared_weights_ >= 0 && declared_weight_bytes_ != *weight_bytes_)
      return mismatch(weights_line_, "weights section declares bytes", declared_weight_bytes_, *weight_bytes_);
    if (plan_.caches && declared_caches_ != static_cast<int64_t>(plan_.caches->size()))
      return mismatch(kv_caches_line_, "kv_caches section declares count", declared_caches_,
                      static_cast<int64_t>(plan_.caches->size()));
    if (plan_.caches && declared_kv_bytes_ != *kv_bytes_)
      return mismatch(kv_caches_line_, "kv_caches section declares seq_bytes", declared_kv_bytes_, *kv_bytes_);
    if (plan_.kernels && declared_kernels_ != static_cast<int64_t>(plan_.kernels->size()))
      return mismatch(kernels_line_, "kernels section declares count", declared_kernels_,
                      static_cast<int64_t>(plan_.kernels->size()));
    return true;
  }

  // The totals of sizes that were each within their own limit.
  bool check_totals() {
    if (!weight_bytes_ || *weight_bytes_ > kMaxWeightBytes) {
      diag_.error(SourceLoc{file_, weights_line_, 1},
                  over_limit_text("weights take", weight_bytes_, " in all", kMaxWeightBytes));
      return false;
    }
    if (!kv_bytes_ || *kv_bytes_ > kMaxKvBytesPerSequence) {
      diag_.error(SourceLoc{file_, kv_caches_line_, 1},
                  over_limit_text("KV caches take", kv_bytes_, " per sequence", kMaxKvBytesPerSequence));
      return false;
    }
    return true;
  }

  std::string_view text_;
  std::shared_ptr<const std::string> file_;
  DiagnosticEngine& diag_;
  Plan plan_;
  Section section_ = Section::none;
  int line_ = 0;
  int next_layer_ = 0;
  int64_t ops_ = 0;
  int64_t declared_weights_ = -1;
  int64_t declared_weight_bytes_ = 0;
  int64_t declared_caches_ = 0;
  int64_t declared_kv_bytes_ = 0;
  int64_t declared_kernels_ = 0;
  int weights_line_ = 0;
  int kv_caches_line_ = 0;
  int kernels_line_ = 0;
  size_t arenas_ = 0;
  // Running totals; nullopt once a sum overflowed int64.
  std::optional<int64_t> weight_bytes_ = 0;
  std::optional<int64_t> kv_bytes_ = 0;
  int64_t arena_bytes_ = 0;
};

}  // namespace

std::optional<Plan> parse_plan(std::string_view text, const std::string& path, DiagnosticEngine& diag) {
  return PlanParser(text, path, diag).run();
}

}  // namespace g4c::plan
