// Tuning files: TOML written by `g4run tune`, read by `g4c compile --tuning`.
#include <cmath>
#include <set>
#include <tuple>

#include "g4c/plan/tuning_file.h"
#include "g4c/plan/routes.h"
#include "g4c/support/config.h"
#include "g4c/support/config_reader.h"
#include "g4c/support/text.h"

namespace g4c {

const TuningEntry* TuningTable::find(QuantType type, int64_t rows, int64_t cols, int64_t width) const {
  for (const TuningEntry& e : entries)
    if (e.type == type && e.rows == rows && e.cols == cols && e.width == width) return &e;
  return nullptr;
}

std::string TuningTable::measured_elsewhere(const std::string& running_device) const {
  if (device.empty() || running_device.empty() || device == running_device) return {};
  return "the plan's routes were tuned on " + device + " (" + quote(path) + "), this is " + running_device +
         ": run g4run tune on this card and compile with its file for routes measured here";
}

namespace {

constexpr int64_t kMaxSize = int64_t{1} << 24;

std::optional<TuningEntry> read_entry(TableReader r, DiagnosticEngine& diag) {
  TuningEntry e;
  auto type = r.choice("type", quant_type_names(), true);
  auto rows = r.integer("rows", 1, kMaxSize, true);
  auto cols = r.integer("cols", 1, kMaxSize, true);
  auto width = r.integer("width", 1, 4096, true);
  std::vector<std::string> routes = plan::route_names();
  auto route = r.choice("route", routes, true);
  auto median_us = r.positive_number("median_us", false);
  r.finish();
  if (!type || !rows || !cols || !width || !route) return std::nullopt;
  e = {*parse_quant_type(*type), *rows, *cols, *width, *plan::parse_route(*route), r.node("route")->loc,
       median_us.value_or(0), {}};
  std::string why = plan::route_illegal_reason(e.route, e.type, e.rows, e.cols);
  if (!why.empty()) {
    diag.error(e.loc, keyed_message(r.key_path("route"), "not legal for this weight: " + why, quote(*route),
                                    "a route legal for " + std::string(name(e.type))));
    return std::nullopt;
  }
  return e;
}

}  // namespace

std::optional<TuningTable> load_tuning_file(const std::string& path, DiagnosticEngine& diag) {
  int errors_before = diag.error_count();
  auto root = load_config_file(path, diag);
  if (!root) return std::nullopt;
  KeyLocations locs;
  TableReader top(&*root, "", root->loc, locs, diag);
  TuningTable table;
  table.path = path;
  TableReader meta = top.table("tuning", true);
  meta.integer("version", 1, 1, true);
  table.target = meta.string("target", true).value_or("");
  table.device = meta.string("device", false).value_or("");
  meta.finish();
  std::set<std::tuple<QuantType, int64_t, int64_t, int64_t>> seen;
  if (const ConfigNode* entries = top.node("entry")) {
    if (entries->kind != ConfigNode::Kind::array) top.wrong_type(*entries, "entry", "an array of tables ([[entry]])");
    for (size_t i = 0; entries->kind == ConfigNode::Kind::array && i < entries->items.size(); ++i) {
      std::string key = "entry[" + std::to_string(i) + "]";
      const ConfigNode& item = entries->items[i];
      if (item.kind != ConfigNode::Kind::table) {
        top.wrong_type(item, key, "a table");
        continue;
      }
      auto e = read_entry(top.element(item, key), diag);
      if (!e) continue;
      if (!seen.insert({e->type, e->rows, e->cols, e->width}).second) {
        diag.error(item.loc, keyed_message(key, "repeats an earlier entry's type, rows, cols and width"));
        continue;
      }
      table.entries.push_back(*e);
    }
  }
  top.finish();
  if (diag.error_count() > errors_before) return std::nullopt;
  return table;
}

namespace {

void write_comment(std::string& out, const std::string& comment) {
  size_t start = 0;
  while (start < comment.size()) {
    size_t end = comment.find('\n', start);
    if (end == std::string::npos) end = comment.size();
    out += "# " + comment.substr(start, end - start) + "\n";
    start = end + 1;
  }
}

// Rounded to 0.01 (µs: finer than any timing is repeatable), always with a decimal point.
std::string toml_float(double v) {
  std::string s = format_double(std::round(v * 100) / 100);
  return s.find_first_of(".e") == std::string::npos ? s + ".0" : s;
}

}  // namespace

std::string format_tuning_file(const TuningTable& table) {
  std::string out;
  write_comment(out, table.comment);
  out += "[tuning]\nversion = 1\ntarget = " + quote(table.target) + "\n";
  if (!table.device.empty()) out += "device = " + quote(table.device) + "\n";
  for (const TuningEntry& e : table.entries) {
    out += "\n";
    write_comment(out, e.comment);
    out += "[[entry]]\ntype = \"" + std::string(name(e.type)) + "\"\nrows = " + std::to_string(e.rows) +
           "\ncols = " + std::to_string(e.cols) + "\nwidth = " + std::to_string(e.width) + "\nroute = \"" +
           std::string(plan::name(e.route)) + "\"\n";
    if (e.median_us > 0) out += "median_us = " + toml_float(e.median_us) + "\n";
  }
  return out;
}

}  // namespace g4c
