// g4run tune: measures every legal route of a plan's matmul shapes and writes the tuning file.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "g4c/kernels/matmul_args.h"
#include "g4c/plan/parser.h"
#include "g4c/plan/tuning_file.h"
#include "g4c/runtime/gpu/bench.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/gpu/tune.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"
#include "g4run_common.h"
#include "text_io.h"

namespace g4run {

const std::vector<g4c::OptionSpec>& tune_options() {
  static const std::vector<g4c::OptionSpec> options = {
      {"o", true, false, "file", "the tuning file to write (default: standard output)"},
      {"batch", true, false, "list", "widths to tune, e.g. 1,8,32 (default: every compiled width up to 32)"},
      {"repeats", true, false, "n", "timed replays per route and width; the median is kept (default 15)"},
      {"check-rows", true, false, "n", "output rows per width compared against the CPU op (default 256)"},
      {"routes", true, false, "list", "routes to consider, e.g. ws,mmq,gemm_n (default: all; without cublas no fp16 weight copies)"},
      kWeightStagesOption,
      kStageMemoryOption,
      kCacheDirOption,
      kNoCacheOption,
      kHelpOption,
  };
  return options;
}

namespace {

// The widths `g4run tune` measures: --batch, else every compiled width of the plans the matmul
// routes run (1..32).
std::optional<std::vector<int64_t>> tune_widths(const g4c::ParsedArgs& args,
                                                const std::vector<g4c::plan::Plan>& plans, std::string& error) {
  std::vector<int64_t> widths;
  if (auto text = args.value("batch")) {
    auto ids = parse_ids(*text, error);
    if (!ids) {
      error = "--batch: expected widths such as 1,8,32";
      return std::nullopt;
    }
    widths.assign(ids->begin(), ids->end());
    for (int64_t w : widths)
      if (w < 1 || w > g4c::matmul::kMaxWidth) {
        error = "--batch: width " + std::to_string(w) + ": the matmul routes run widths 1.." +
                std::to_string(g4c::matmul::kMaxWidth);
        return std::nullopt;
      }
  } else {
    for (const g4c::plan::Plan& p : plans)
      for (int64_t w : p.header.widths)
        if (w <= g4c::matmul::kMaxWidth) widths.push_back(w);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  if (widths.empty()) error = "tune: the plans compile no width of 1..32 to tune (pass --batch)";
  if (widths.empty()) return std::nullopt;
  return widths;
}

}  // namespace

// Measures every legal route of every matmul shape of the plans and writes the tuning file.
int tune(int argc, char** argv) {
  int exit_code = 0;
  auto args = start_subcommand(argc, argv, "tune", tune_options(), exit_code, true);
  if (!args) return exit_code;
  if (args->has("no-kernel-cache") && args->has("kernel-cache-dir"))
    return usage_error("tune: --kernel-cache-dir and --no-kernel-cache contradict each other");
  std::string error;
  auto repeats = positive_option(*args, "repeats", 15, error);
  auto check_rows = repeats ? positive_option(*args, "check-rows", 256, error) : std::nullopt;
  if (!check_rows) return usage_error(error);
  std::vector<g4c::plan::Route> routes;
  if (auto text = args->value("routes")) {
    std::stringstream list(*text);
    for (std::string item; std::getline(list, item, ',');) {
      auto route = g4c::plan::parse_route(item);
      if (!route) {
        const std::vector<std::string> names = g4c::plan::route_names();
        return usage_error("--routes: unknown route " + g4c::quote(item) + g4c::did_you_mean(item, names) +
                           " (expected a list of " + g4c::join(names) + ")");
      }
      routes.push_back(*route);
    }
  }
  g4c::CommandDiagnostics diag(kTool);
  if (auto out = args->value("o")) {
    if (std::string conflict = g4c::output_input_conflict("-o", *out, args->positional); !conflict.empty())
      return usage_error(conflict);
  }
  std::vector<g4c::plan::Plan> plans;
  for (const std::string& path : args->positional)
    if (auto p = g4c::plan::load_plan_file(path, diag)) plans.push_back(std::move(*p));
  if (diag.has_errors()) return diag.finish(kInputError);
  auto widths = tune_widths(*args, plans, error);
  if (!widths) return usage_error(error);
  std::string why;
  auto device = g4c::gpu::find_device(why);
  if (!device) {
    diag.error({}, "tune: needs a CUDA device (none found)");
    return diag.finish(kInputError);
  }
  g4c::gpu::TuneOptions options;
  options.widths = *widths;
  options.repeats = static_cast<int>(*repeats);
  options.check_rows = *check_rows;
  options.routes = routes;
  options.jit.arch = device->arch();
  options.jit.cache_dir = kernel_cache_dir(*args);
  options.progress = [](const std::string& message) { std::cerr << "g4run: " << message << "\n"; };
  std::vector<const g4c::plan::Plan*> plan_pointers;
  std::string sources;
  for (const g4c::plan::Plan& p : plans) {
    plan_pointers.push_back(&p);
    sources += (sources.empty() ? "" : ", ") + p.header.source;
  }
  const std::vector<g4c::gpu::MatmulShape> shapes = g4c::gpu::matmul_shapes(plan_pointers);
  auto results = g4c::gpu::tune_matmuls(shapes, options, diag);
  if (!results) return diag.finish(kInputError);
  std::string width_list;
  for (int64_t w : *widths) width_list += (width_list.empty() ? "" : ",") + std::to_string(w);
  std::string route_list = "every legal route";
  if (!routes.empty()) {
    route_list = "the legal routes among";
    for (g4c::plan::Route r : routes) route_list += " " + std::string(g4c::plan::name(r));
  }
  const std::string comment =
      "Written by `g4run tune` on " + device->name + " (" + device->arch() + ") for the matmuls of " + sources +
      " at widths " + width_list + ".\nOf " + route_list + ", each is checked against the CPU op on " +
      std::to_string(*check_rows) + " output rows, then timed as the median of " + std::to_string(*repeats) +
      " CUDA-graph replays over\nweight copies larger than the L2 cache; the fastest wins, and routes within 2% of it "
      "tie, going to the first of ws, mmq, gemm_n, cublas, mma16, mma16h.\nA shape takes the mma16 layout (a repacked "
      "weight: mma16 or mma16h) at every width if that is faster over the widths together, else at none; a shape none of "
      "these routes can run has no entry (the rules keep it).";
  const std::string text =
      g4c::format_tuning_file(g4c::gpu::tuning_table(*results, device->arch(), device->name, comment));
  std::cerr << g4c::gpu::format_tune_report(*results, g4c::gpu::copy_bandwidth_gbps());
  if (auto path = args->value("o")) {
    std::string why;
    if (!g4c::write_output_file(*path, text, why)) {
      diag.error({}, "tune: cannot write " + g4c::quote(*path) + ": " + why);
      return diag.finish(kInputError);
    }
    std::cerr << "g4run: tune: wrote " << results->size() << " entries to " << *path << "\n";
  } else {
    std::cout << text;
  }
  return diag.finish(0);
}

}  // namespace g4run
