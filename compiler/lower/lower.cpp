#include "g4c/compiler/lower.h"

#include <cmath>

namespace g4c {

using namespace plan;

namespace {

ValueType batch(int64_t width, DType dtype = DType::f32) { return {dtype, {kBatch, width}}; }

class Lowering {
 public:
  Lowering(const ModelSpec& spec, const LowerOptions& options) : spec_(spec), options_(options) {}

  Plan run() {
    lower_header();
    for (const TensorSpec& t : spec_.tensors) plan_.weights.push_back({t.name, t.type, t.ne0, t.ne1, WeightLayout::gguf, {}});
    std::string h = lower_prologue();
    for (const LayerSpec& l : spec_.layers) h = lower_layer(l, h);
    lower_epilogue(h);
    return std::move(plan_);
  }

 private:
  // ---- emitting ----

  Block& begin(BlockKind kind, int layer = -1) {
    Block b;
    b.kind = kind;
    b.layer = layer;
    if (kind == BlockKind::layer) b.layer_kind = std::string(name(spec_.layers[layer].kind));
    plan_.blocks.push_back(std::move(b));
    return plan_.blocks.back();
  }

  std::string emit(OpKind kind, std::string result, std::vector<std::string> operands, ValueType type,
                   std::vector<Attr> attrs = {}, std::string weight = {}, std::string cache = {}) {
    Op op;
    op.kind = kind;
    op.result = std::move(result);
    op.operands = std::move(operands);
    op.weight = std::move(weight);
    op.cache = std::move(cache);
    for (Attr& a : attrs) op.set(std::move(a.key), std::move(a.value));
    op.type = std::move(type);
    plan_.blocks.back().ops.push_back(std::move(op));
    return plan_.blocks.back().ops.back().result;
  }

  const TensorSpec& tensor(const std::string& name) const { return *spec_.find_tensor(name); }

  std::string matmul(std::string result, const std::string& x, const std::string& weight) {
    const TensorSpec& w = tensor(weight);
    return emit(OpKind::matmul, std::move(result), {x}, batch(w.ne1),
                {{"type", Ident{std::string(name(w.type))}}, {"rows", w.ne1}, {"cols", w.ne0}}, weight);
  }

  std::string rms_norm(std::string result, const std::string& x, int64_t width, int64_t group,
                       const std::string& weight = {}) {
    return emit(OpKind::rms_norm, std::move(result), {x}, batch(width), {{"eps", spec_.rms_eps}, {"group", group}},
                weight);
  }

  std::string rope(std::string result, const std::string& x, const LayerSpec& l, int64_t width) {
    return emit(OpKind::rope, std::move(result), {x, "pos"}, batch(width),
                {{"head_dim", int64_t{l.head_dim}}, {"rotated_pairs", int64_t{l.rotated_pairs}}, {"theta", l.rope_theta}});
  }

  std::string add(std::string result, const std::string& a, const std::string& b) {
    return emit(OpKind::add, std::move(result), {a, b}, batch(spec_.hidden));
  }

  // ---- the step ----

  void lower_header() {
    PlanHeader& h = plan_.header;
    h.name = spec_.name;
    h.source = spec_.source_path;
    h.widths = options_.widths;
    h.target = options_.target;
    h.context = options_.context > 0 ? options_.context : spec_.context;
    h.prefill_chunk = options_.prefill_chunk;
    h.vocab = spec_.vocab;
    h.hidden = spec_.hidden;
    h.layers = spec_.num_layers;
  }

  // Inputs, the embedding, and the PLE pre-pass (§3.2) into a layer-major [L, N, P] value whose
  // slice l is layer l's per-layer input.
  std::string lower_prologue() {
    begin(BlockKind::prologue);
    emit(OpKind::input, "tok", {}, {DType::i32, {kBatch}}, {{"role", Ident{"tokens"}}});
    emit(OpKind::input, "pos", {}, {DType::i32, {kBatch}}, {{"role", Ident{"positions"}}});
    emit(OpKind::input, "seq", {}, {DType::i32, {kBatch}}, {{"role", Ident{"sequences"}}});
    std::string embed = emit(OpKind::embed_gather, "embed", {"tok"}, batch(spec_.hidden),
                             {{"scale", spec_.embedding_scale}}, "token_embd.weight");
    if (spec_.has_ple()) {
      int64_t all = int64_t{spec_.num_layers} * spec_.ple_width;
      emit(OpKind::embed_gather, "ple.rows", {"tok"}, batch(all), {{"scale", std::sqrt(double(spec_.ple_width))}},
           "per_layer_token_embd.weight");
      matmul("ple.proj", embed, "per_layer_model_proj.weight");
      emit(OpKind::ple_combine, "ple.inputs", {"ple.proj", "ple.rows"},
           {DType::f32, {int64_t{spec_.num_layers}, kBatch, int64_t{spec_.ple_width}}},
           {{"layers", int64_t{spec_.num_layers}},
            {"width", int64_t{spec_.ple_width}},
            {"proj_scale", 1.0 / std::sqrt(double(spec_.hidden))},
            {"eps", spec_.rms_eps},
            {"out_scale", 1.0 / std::sqrt(2.0)}},
           "per_layer_proj_norm.weight");
    }
    return embed;
  }

  std::string lower_layer(const LayerSpec& l, const std::string& h) {
    begin(BlockKind::layer, l.index);
    std::string p = "l" + std::to_string(l.index) + ".";
    std::string w = "blk." + std::to_string(l.index) + ".";
    int64_t hidden = spec_.hidden;
    int64_t q_width = int64_t{l.q_heads} * l.head_dim;

    std::string x = rms_norm(p + "x", h, hidden, hidden, w + "attn_norm.weight");
    std::string q = matmul(p + "q", x, w + "attn_q.weight");
    std::string q_normed = rms_norm(p + "q_normed", q, q_width, l.head_dim, w + "attn_q_norm.weight");
    std::string q_rope = rope(p + "q_rope", q_normed, l, q_width);
    if (l.owns_kv) lower_kv_write(l, x, p, w);
    std::string attn =
        emit(OpKind::attention, p + "attn", {q_rope, "pos", "seq"}, batch(q_width),
             {{"q_heads", int64_t{l.q_heads}},
              {"kv_heads", int64_t{l.kv_heads}},
              {"head_dim", int64_t{l.head_dim}},
              {"window", int64_t{l.window}},
              {"scale", 1.0}},
             {}, "kv.l" + std::to_string(l.kv_source));
    std::string o = matmul(p + "o", attn, w + "attn_output.weight");
    std::string o_normed = rms_norm(p + "o_normed", o, hidden, hidden, w + "post_attention_norm.weight");
    std::string out = add(p + "h_attn", h, o_normed);

    std::string ffn_x = rms_norm(p + "ffn_x", out, hidden, hidden, w + "ffn_norm.weight");
    std::string gate = matmul(p + "gate", ffn_x, w + "ffn_gate.weight");
    std::string up = matmul(p + "up", ffn_x, w + "ffn_up.weight");
    std::string act = emit(OpKind::geglu, p + "act", {gate, up}, batch(l.ffn_width));
    std::string down = matmul(p + "down", act, w + "ffn_down.weight");
    std::string down_normed = rms_norm(p + "down_normed", down, hidden, hidden, w + "post_ffw_norm.weight");
    out = add(p + "h_ffn", out, down_normed);

    if (spec_.has_ple()) out = lower_ple_injection(l, out, p, w);
    if (spec_.layer_output_scale)
      out = emit(OpKind::scale_by, p + "out", {out}, batch(hidden), {}, w + "layer_output_scale.weight");
    return out;
  }

  // K and V into the layer's cache (§8 step 3.3). On k_eq_v layers V is the raw K projection
  // itself: an alias, not a copy, so norm and RoPE of K must write elsewhere.
  void lower_kv_write(const LayerSpec& l, const std::string& x, const std::string& p, const std::string& w) {
    int64_t kv_width = int64_t{l.kv_heads} * l.head_dim;
    std::string k_raw = matmul(p + "k_raw", x, w + "attn_k.weight");
    std::string v_raw = l.has_v_proj ? matmul(p + "v_raw", x, w + "attn_v.weight")
                                     : emit(OpKind::alias, p + "v_raw", {k_raw}, batch(kv_width),
                                            {{"reason", Ident{"k_eq_v"}}});
    std::string k_normed = rms_norm(p + "k_normed", k_raw, kv_width, l.head_dim, w + "attn_k_norm.weight");
    std::string k = rope(p + "k", k_normed, l, kv_width);
    std::string v = rms_norm(p + "v", v_raw, kv_width, l.head_dim);
    Op write;
    write.kind = OpKind::kv_write;
    write.operands = {k, v, "pos", "seq"};
    write.cache = "kv.l" + std::to_string(l.index);
    plan_.blocks.back().ops.push_back(std::move(write));
  }

  // §3.3: h += RMS(W_proj · (gelu(W_gate · h) ⊙ pl_l); post_norm).
  std::string lower_ple_injection(const LayerSpec& l, const std::string& h, const std::string& p,
                                  const std::string& w) {
    int64_t width = spec_.ple_width;
    std::string in = emit(OpKind::slice, p + "ple_in", {"ple.inputs"}, batch(width), {{"index", int64_t{l.index}}});
    std::string gate = matmul(p + "ple_gate", h, w + "inp_gate.weight");
    std::string act = emit(OpKind::geglu, p + "ple_act", {gate, in}, batch(width));
    std::string proj = matmul(p + "ple_proj", act, w + "proj.weight");
    std::string normed = rms_norm(p + "ple_normed", proj, spec_.hidden, spec_.hidden, w + "post_norm.weight");
    return add(p + "h_ple", h, normed);
  }

  void lower_epilogue(const std::string& h) {
    begin(BlockKind::epilogue);
    std::string final_h = rms_norm("final", h, spec_.hidden, spec_.hidden, "output_norm.weight");
    std::string logits = matmul("logits", final_h, spec_.tied_embeddings ? "token_embd.weight" : "output.weight");
    if (spec_.final_softcap)
      logits = emit(OpKind::softcap, "logits.capped", {logits}, batch(spec_.vocab), {{"cap", *spec_.final_softcap}});
    emit(OpKind::sample, "next", {logits}, {DType::i32, {kBatch}});
    emit(OpKind::output, "", {logits}, {}, {{"role", Ident{"logits"}}});
    emit(OpKind::output, "", {"next"}, {}, {{"role", Ident{"tokens"}}});
  }

  const ModelSpec& spec_;
  const LowerOptions& options_;
  Plan plan_;
};

}  // namespace

Plan lower_model(const ModelSpec& spec, const LowerOptions& options) { return Lowering(spec, options).run(); }

}  // namespace g4c
