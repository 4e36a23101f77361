// The quant recipe of an imported model: the fewest [quant] keys and rules that reproduce every
// tensor's type in the file.
#include <algorithm>

#include "g4c/gguf/import.h"
#include "g4c/support/text.h"

namespace g4c::gguf {

namespace {

using TypeCounts = std::map<QuantType, int>;

// The most common type; ties go to `preferred` when it is among them, else to the first type.
QuantType most_common(const TypeCounts& counts, std::optional<QuantType> preferred) {
  int best = 0;
  for (const auto& [type, n] : counts) best = std::max(best, n);
  if (preferred && counts.count(*preferred) && counts.at(*preferred) == best) return *preferred;
  for (const auto& [type, n] : counts)
    if (n == best) return type;
  return QuantType::F32;
}

struct ClassTensors {
  TensorClass cls;
  std::vector<const TensorSpec*> tensors;  // in the spec's order, which is use_more_bits' ordinal order
  std::vector<QuantType> types;
};

// The class's tensors split as `base` plus use_more_bits → `more`, if that is what the file has.
std::optional<std::pair<QuantType, QuantType>> use_more_bits_split(const ClassTensors& c) {
  TypeCounts counts;
  for (QuantType t : c.types) ++counts[t];
  if (counts.size() != 2) return std::nullopt;
  QuantType a = counts.begin()->first, b = std::next(counts.begin())->first;
  int n = static_cast<int>(c.types.size());
  for (auto [base, more] : {std::pair{a, b}, std::pair{b, a}}) {
    bool matches = true;
    for (int i = 0; i < n && matches; ++i) matches = (c.types[i] == more) == use_more_bits(i, n);
    if (matches) return std::pair{base, more};
  }
  return std::nullopt;
}

void add_rule(QuantRecipe& recipe, TensorClass cls, bool use_more_bits, std::vector<int> layers, QuantType type) {
  for (QuantRecipe::Rule& r : recipe.rules)
    if (r.use_more_bits == use_more_bits && r.layers == layers && r.type == type) {
      r.classes.push_back(cls);
      return;
    }
  recipe.rules.push_back({{cls}, use_more_bits, std::move(layers), type});
}

void infer_per_layer_class(const ClassTensors& c, QuantRecipe& recipe) {
  QuantType base;
  if (auto split = use_more_bits_split(c)) {
    base = split->first;
    add_rule(recipe, c.cls, true, {}, split->second);
  } else {
    TypeCounts counts;
    for (QuantType t : c.types) ++counts[t];
    base = most_common(counts, recipe.default_type);
    std::map<QuantType, std::vector<int>> departures;
    for (size_t i = 0; i < c.tensors.size(); ++i)
      if (c.types[i] != base) departures[c.types[i]].push_back(c.tensors[i]->layer);
    for (auto& [type, layers] : departures) add_rule(recipe, c.cls, false, std::move(layers), type);
  }
  if (base != recipe.default_type) recipe.class_types[c.cls] = base;
}

bool infer_norms(const std::vector<std::pair<const TensorSpec*, QuantType>>& vectors, QuantRecipe& recipe,
                 const SourceLoc& loc, DiagnosticEngine& diag) {
  if (vectors.empty()) return true;
  TypeCounts counts;
  for (const auto& [t, type] : vectors) ++counts[type];
  QuantType base = most_common(counts, QuantType::F32);
  for (const auto& [t, type] : vectors) {
    if (!info(type).is_float) {
      diag.error(loc, keyed_message(t->name, "vectors (norms, scales, rope_freqs) must be stored unquantized",
                                    std::string(name(type)), "F32, F16 or BF16"));
      return false;
    }
    if (type != base) {
      diag.error(loc, keyed_message(t->name, "every vector must have one type (quant.norms), but this one differs",
                                    std::string(name(type)), std::string(name(base)) + ", as the other vectors"));
      return false;
    }
  }
  if (base != QuantType::F32) recipe.class_types[TensorClass::norms] = base;
  return true;
}

std::string type_string(QuantType t) { return quote(name(t)); }

}  // namespace

std::optional<QuantRecipe> infer_quant_recipe(const ModelSpec& spec, const TensorTypes& types, const SourceLoc& loc,
                                              DiagnosticEngine& diag) {
  std::vector<ClassTensors> per_layer;
  std::vector<std::pair<const TensorSpec*, QuantType>> model_wide, vectors;
  TypeCounts matrix_counts;
  for (const TensorSpec& t : spec.tensors) {
    auto it = types.find(t.name);
    if (it == types.end()) {
      diag.error(loc, keyed_message(t.name, "no type given for the tensor"));
      return std::nullopt;
    }
    QuantType type = it->second;
    if (t.cls == TensorClass::norms) {
      vectors.emplace_back(&t, type);
    } else if (!is_per_layer_class(t.cls)) {
      model_wide.emplace_back(&t, type);
    } else {
      auto c = std::find_if(per_layer.begin(), per_layer.end(), [&](const ClassTensors& x) { return x.cls == t.cls; });
      if (c == per_layer.end()) c = per_layer.insert(per_layer.end(), ClassTensors{t.cls, {}, {}});
      c->tensors.push_back(&t);
      c->types.push_back(type);
      ++matrix_counts[type];
    }
  }
  QuantRecipe recipe;
  recipe.default_type = most_common(matrix_counts, std::nullopt);
  std::sort(per_layer.begin(), per_layer.end(), [](const auto& a, const auto& b) { return a.cls < b.cls; });
  for (const ClassTensors& c : per_layer) infer_per_layer_class(c, recipe);
  for (const auto& [t, type] : model_wide) {
    // Without its own key, `output` takes token_embd's type when that class has a key.
    QuantType inherited = recipe.default_type;
    if (t->cls == TensorClass::output && recipe.class_types.count(TensorClass::token_embd))
      inherited = recipe.class_types.at(TensorClass::token_embd);
    if (type != inherited) recipe.class_types[t->cls] = type;
  }
  if (!infer_norms(vectors, recipe, loc, diag)) return std::nullopt;
  return recipe;
}

std::string QuantRecipe::to_toml() const {
  std::string out = "[quant]\ndefault = " + type_string(default_type) + "\n";
  for (const auto& [cls, type] : class_types) out += std::string(name(cls)) + " = " + type_string(type) + "\n";
  for (const Rule& r : rules) {
    std::vector<std::string> classes, layers;
    for (TensorClass c : r.classes) classes.push_back(quote(name(c)));
    for (int l : r.layers) layers.push_back(std::to_string(l));
    out += "\n[[quant.rule]]\ntensors = [" + join(classes) + "]\n";
    out += r.use_more_bits ? "select = \"use_more_bits\"\n" : "layers = [" + join(layers) + "]\n";
    out += "type = " + type_string(r.type) + "\n";
  }
  return out;
}

}  // namespace g4c::gguf
