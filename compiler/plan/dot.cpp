#include "g4c/plan/dot.h"

#include <map>
#include <set>
#include <string>

#include "g4c/plan/printer.h"
#include "g4c/plan/storage.h"

namespace g4c::plan {

std::string_view route_color(Route r) {
  switch (r) {
    case Route::ws: return "#fdae6b";
    case Route::mmq: return "#74c476";
    case Route::gemm_n: return "#9e9ac8";
    case Route::cublas: return "#6baed6";
    case Route::mma16: return "#fb6a4a";
    case Route::mma16h: return "#cb181d";
  }
  return "#ffffff";
}

std::string_view kind_color(OpKind k) {
  switch (k) {
    case OpKind::input:
    case OpKind::sample:
    case OpKind::output: return "#e0e0e0";
    case OpKind::embed_gather:
    case OpKind::ple_combine: return "#c6dbef";
    case OpKind::rms_norm:
    case OpKind::add_rms_norm:
    case OpKind::rms_norm_rope: return "#fff2ae";
    case OpKind::rope: return "#fdd0a2";
    case OpKind::kv_write:
    case OpKind::attention: return "#fbb4ae";
    case OpKind::geglu:
    case OpKind::add:
    case OpKind::scale_by:
    case OpKind::softcap: return "#ccebc5";
    case OpKind::matmul:
    case OpKind::slice:
    case OpKind::alias: return "#ffffff";  // matmuls take their routes' colours; views are edges
  }
  return "#ffffff";
}

namespace {

// A Graphviz string: line breaks become its \n.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_view(OpKind k) { return k == OpKind::alias || k == OpKind::slice; }

// "mmq N=1..8, cublas N=16..32": a matmul's routes grouped over consecutive widths.
std::string route_summary(const std::vector<RouteChoice>& routes) {
  std::string out;
  for (size_t i = 0; i < routes.size();) {
    size_t j = i;
    while (j + 1 < routes.size() && routes[j + 1].route == routes[i].route) ++j;
    if (!out.empty()) out += ", ";
    out += std::string(name(routes[i].route)) + " N=" + std::to_string(routes[i].width);
    if (j > i) out += ".." + std::to_string(routes[j].width);
    i = j + 1;
  }
  return out;
}

// The distinct routes of a matmul in width order, as Graphviz's fill colours ("a:b" stripes).
std::string route_fill(const std::vector<RouteChoice>& routes) {
  std::string out;
  std::set<Route> seen;
  for (const RouteChoice& c : routes)
    if (seen.insert(c.route).second) out += (out.empty() ? "" : ":") + std::string(route_color(c.route));
  return out;
}

class DotWriter {
 public:
  DotWriter(const Plan& plan, std::ostream& os, std::optional<int> layer)
      : plan_(plan), os_(os), layer_(layer), storage_(analyze_storage(plan)) {}

  void write() {
    os_ << "digraph " << quoted(plan_.header.name) << " {\n"
        << "  rankdir=TB;\n"
        << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n"
        << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
    int index = 0;
    for (const Block& block : plan_.blocks) {
      cluster_ = "cluster_" + cluster_label(block);
      const bool shown = !layer_ || (block.kind == BlockKind::layer && block.layer == *layer_);
      if (shown) write_block(block, index);
      for (const Op& op : block.ops) define(op, index++, shown);
    }
    for (const std::string& line : edges_) os_ << line;
    write_legend();
    os_ << "}\n";
  }

 private:
  struct Source {
    std::string node;  // the op (or outside value) that wrote the bytes
    std::string view;  // "alias %x (k_eq_v)" when read through views, else empty
  };

  static std::string cluster_label(const Block& block) {
    if (block.kind == BlockKind::prologue) return "prologue";
    if (block.kind == BlockKind::epilogue) return "epilogue";
    return "layer " + std::to_string(block.layer) + " (" + block.layer_kind + ")";
  }

  static std::string op_node(const Op& op, int index) {
    return op.result.empty() ? "op" + std::to_string(index) : "%" + op.result;
  }

  void write_block(const Block& block, int first) {
    os_ << "  subgraph " << quoted(cluster_) << " {\n    label=" << quoted(cluster_label(block)) << ";\n";
    int index = first;
    for (const Op& op : block.ops) {
      if (!is_view(op.kind)) os_ << "    " << quoted(op_node(op, index)) << " [" << node_attrs(op) << "];\n";
      ++index;
    }
    os_ << "  }\n";
  }

  std::string node_attrs(const Op& op) const {
    std::string label = (op.result.empty() ? "" : "%" + op.result + " = ") + std::string(schema(op.kind).name);
    if (!op.weight.empty()) {
      label += "\n@" + op.weight;
      if (const WeightDecl* w = plan_.find_weight(op.weight))
        label += " " + std::string(g4c::name(w->type)) + " [" + std::to_string(w->ne0) +
                 (w->ne1 > 1 ? ", " + std::to_string(w->ne1) : "") + "]";
    }
    if (const Attr* role = op.find("role")) label += " " + format_attr_value(role->value, plan_.header.widths);
    if (op.kind == OpKind::attention && op.get_int("window") > 0)
      label += "\nwindow " + std::to_string(op.get_int("window"));
    const std::vector<RouteChoice>* routes = op.kind == OpKind::matmul ? op.routes() : nullptr;
    if (!routes || routes->empty())
      return "label=" + quoted(label) + ", fillcolor=" + quoted(kind_color(op.kind));
    label += "\n" + route_summary(*routes);
    const std::string fill = route_fill(*routes);
    const bool striped = fill.find(':') != std::string::npos;
    return "label=" + quoted(label) + ", fillcolor=" + quoted(fill) +
           (striped ? ", shape=box, style=\"filled,striped\"" : "");
  }

  // Records where op's result comes from, and (when shown) the edges of what it reads.
  void define(const Op& op, int index, bool shown) {
    if (is_view(op.kind)) {
      auto it = sources_.find(op.operands.at(0));
      const Source from = it != sources_.end() ? it->second : Source{"%" + op.operands[0], ""};
      const std::string what = op.kind == OpKind::alias
                                   ? "alias %" + op.operands[0] + " (" + op.get_ident("reason") + ")"
                                   : "slice %" + op.operands[0] + " [" + std::to_string(op.get_int("index")) + "]";
      sources_[op.result] = {from.node, "%" + op.result + " = " + what};
      return;
    }
    const std::string node = op_node(op, index);
    if (!op.result.empty()) sources_[op.result] = {node, ""};
    if (op.kind == OpKind::input) inputs_.insert(node);
    if (!shown) return;
    shown_nodes_.insert(node);
    for (size_t i = 0; i < op.operands.size(); ++i) read(node, op.operands[i], i == 0 && op.in_place());
    if (op.kind == OpKind::kv_write)
      edges_.push_back("  " + quoted(node) + " -> " + cache(op.cache) + " [style=bold];\n");
    if (op.kind == OpKind::attention) edges_.push_back("  " + cache(op.cache) + " -> " + quoted(node) + ";\n");
  }

  void read(const std::string& node, const std::string& value, bool in_place) {
    Source from = source(value);
    if (!layer_ && inputs_.count(from.node) && cluster_ != "cluster_prologue") from.node = local_input(from.node);
    std::string label = from.view.empty() ? "%" + value : from.view;
    if (auto s = storage_.values.find(value); s != storage_.values.end() && s->second.root != value)
      label += "\nin %" + s->second.root;
    std::string style = from.view.empty() ? "" : ", style=dashed";
    if (in_place) style += ", color=red, fontcolor=red", label += "\n(in place)";
    edges_.push_back("  " + quoted(from.node) + " -> " + quoted(node) + " [label=" + quoted(label) + style + "];\n");
  }

  // The step's inputs (positions, sequence slots) feed every layer: each block reads its own copy
  // of the input's node, so that no edge pulls a layer up beside the prologue.
  std::string local_input(const std::string& input) {
    const std::string node = input + " in " + cluster_;
    if (local_inputs_.insert(node).second)
      os_ << "  subgraph " << quoted(cluster_) << " { " << quoted(node) << " [shape=ellipse, style=solid, label="
          << quoted(input) << "]; }\n";
    return node;
  }

  // Where a value's bytes come from; a value defined before the shown layer is drawn once as a
  // plain node named for it.
  Source source(const std::string& value) {
    auto it = sources_.find(value);
    if (it == sources_.end()) return {"%" + value, ""};
    if (!layer_ || shown_nodes_.count(it->second.node)) return it->second;
    const std::string node = "%" + value;
    if (outside_.insert(node).second)
      os_ << "  " << quoted(node) << " [shape=ellipse, style=solid, label=" << quoted(node) << "];\n";
    return {node, ""};
  }

  std::string cache(const std::string& name) {
    const std::string node = "%" + name;
    if (caches_.insert(name).second) {
      std::string label = node;
      if (const KvCache* c = plan_.find_cache(name))
        label += "\n" + std::string(plan::name(c->kind)) + " " + std::to_string(c->slots) + " slots, " +
                 std::string(g4c::name(c->dtype)) + (c->v_only() ? ", V only" : ", K and V");
      // In the cluster of the layer that writes it (or first reads it).
      os_ << "  subgraph " << quoted(cluster_) << " { " << quoted(node)
          << " [shape=cylinder, style=filled, fillcolor=\"#fbb4ae\", label=" << quoted(label) << "]; }\n";
    }
    return quoted(node);
  }

  void write_legend() {
    std::set<Route> used;
    for (const Op* op : plan_.ops())
      if (const std::vector<RouteChoice>* routes = op->kind == OpKind::matmul ? op->routes() : nullptr)
        for (const RouteChoice& c : *routes) used.insert(c.route);
    if (used.empty()) return;
    os_ << "  subgraph \"cluster_routes\" {\n    label=\"matmul routes\";\n";
    for (Route r : used)
      os_ << "    " << quoted("route " + std::string(name(r))) << " [label=" << quoted(name(r))
          << ", fillcolor=" << quoted(route_color(r)) << "];\n";
    os_ << "  }\n";
  }

  const Plan& plan_;
  std::ostream& os_;
  std::optional<int> layer_;
  StorageAnalysis storage_;
  std::map<std::string, Source> sources_;
  std::set<std::string> shown_nodes_, outside_, caches_, inputs_, local_inputs_;
  std::string cluster_;  // of the block being read
  std::vector<std::string> edges_;
};

}  // namespace

void print_dot(const Plan& plan, std::ostream& os, std::optional<int> layer) { DotWriter(plan, os, layer).write(); }

}  // namespace g4c::plan
