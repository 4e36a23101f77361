// g4c: the model compiler driver.
//
//   g4c check FILE...              validate declarations; prints nothing when they are valid
//   g4c compile FILE [options]     lower a declaration to a decode plan (or print another stage)
//   g4c verify FILE|-              check a plan's text form; prints nothing when it is valid
//   g4c opt PLAN --pass=P[,P]      run compiler passes on a plan and print the plan they leave
//   g4c import FILE.gguf [-o FILE] derive a declaration (TOML) from a gemma4 GGUF file
//
// Exit status: 0 on success, 1 when an input has errors, 2 on a command-line mistake.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "g4c/compiler/lower.h"
#include "g4c/compiler/passes.h"
#include "g4c/gguf/import.h"
#include "g4c/plan/dot.h"
#include "g4c/plan/kernels.h"
#include "g4c/spec/limits.h"
#include "g4c/plan/parser.h"
#include "g4c/plan/printer.h"
#include "g4c/plan/verifier.h"
#include "g4c/spec/describe.h"
#include "g4c/spec/load.h"
#include "g4c/support/cli.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace {

constexpr std::string_view kTool = "g4c";
constexpr int kInputError = 1;
constexpr int kUsageError = 2;

const std::vector<std::string> kStages = {"plan", "spec", "graph", "buffers", "kernels", "dot"};

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const g4c::PassInfo& p : g4c::pass_pipeline()) names.emplace_back(p.name);
  return names;
}

const std::vector<g4c::OptionSpec> kCompileOptions = {
    {"emit", true, false, "stage", "what to print: plan (default), spec, graph, buffers, kernels, dot (Graphviz)"},
    {"layer", true, false, "n", "with --emit=dot: only layer n's ops (and what they read from outside it)"},
    {"batch", true, false, "widths", "batch widths the plan serves, e.g. 1,2,4,8 (default 1,2,4,8,16,32)"},
    {"context", true, false, "tokens", "longest sequence the plan serves (default: the model's context)"},
    {"prefill-chunk", true, false, "n", "most prompt tokens of one sequence per step (default 1; rings grow by n - 1 slots)"},
    {"target", true, false, "arch", "GPU architecture the plan is routed for (default sm_90)"},
    {"route-policy", true, false, "policy", "default, ws-only, no-mmq, no-mma16, all-cublas or no-mma16h"},
    {"route", true, true, "rule", "override routes: PATTERN=ROUTE[@N<op>K], e.g. ffn_down=mmq@N>=5 (repeatable)"},
    {"tuning", true, false, "file", "measured routes (written by g4run tune) that replace the default rules"},
    {"fuse", true, false, "fusions", "fusion passes to run: all (default), none, or a comma list, e.g. residual-norm"},
    {"kv-storage", true, false, "storage", "v_only (default: k_eq_v caches keep V alone) or separate (K and V everywhere)"},
    {"attention-split", true, false, "split",
     "auto (default: GQA groups of 8+ heads on the tensor cores), cuda-cores or tensor-cores (every group it serves)"},
    {"print-after", true, true, "pass", "print the plan after this pass to stderr (repeatable)"},
    {"print-after-all", false, false, "", "print the plan after every pass to stderr"},
    {"o", true, false, "file", "write the output to <file> instead of standard output"},
    {"help", false, false, "", "show this help"},
};

const std::vector<g4c::OptionSpec> kVerifyOptions = {
    {"print", false, false, "", "print the plan as read, after verifying it (a round trip)"},
    {"help", false, false, "", "show this help"},
};

const std::vector<g4c::OptionSpec> kOptOptions = {
    {"pass", true, true, "passes", "passes to run, in this order: names separated by commas (repeatable)"},
    {"print-after-all", false, false, "", "print the plan after every pass to stderr"},
    {"o", true, false, "file", "write the plan to <file> instead of standard output"},
    {"help", false, false, "", "show this help"},
};

const std::vector<g4c::OptionSpec> kImportOptions = {
    {"o", true, false, "file", "write the declaration to <file> instead of standard output"},
    {"help", false, false, "", "show this help"},
};

void print_usage(std::ostream& os) {
  os << "usage: g4c check FILE...\n"
        "       g4c compile FILE [options]\n"
        "       g4c verify FILE|- [--print]\n"
        "       g4c opt PLAN|- --pass=PASS[,PASS] [--print-after-all] [-o FILE]\n"
        "       g4c import FILE.gguf [-o FILE]\n"
        "\n"
        "Compiles Gemma 4 model declarations (TOML) into batched-decode plans.\n"
        "\n"
        "commands:\n"
        "  check     validate declarations; silent when they are valid\n"
        "  compile   lower a declaration to a decode plan, or print another stage\n"
        "  verify    check a plan file (or standard input); silent when it is valid\n"
        "  opt       run passes on a plan file and print the plan they leave (verified)\n"
        "  import    print the declaration (TOML) of a gemma4 GGUF file's model\n"
        "\n"
        "compile options:\n"
     << g4c::format_options_help(kCompileOptions) << "\nverify options:\n"
     << g4c::format_options_help(kVerifyOptions) << "\nopt options:\n"
     << g4c::format_options_help(kOptOptions) << "\nimport options:\n"
     << g4c::format_options_help(kImportOptions) << "\npasses, in order:\n";
  for (const g4c::PassInfo& p : g4c::pass_pipeline())
    os << "  " << p.name << ": " << p.summary << (p.opt_in ? " (a fusion, off unless --fuse names it)" : p.fusion ? " (a fusion: --fuse)" : "") << "\n";
}

int usage_error(const std::string& message) {
  std::cerr << kTool << ": error: " << g4c::clipped_message(message) << "\n"
            << "run 'g4c --help' for usage\n";
  return kUsageError;
}

// Standard output, or the -o file written whole or not at all (g4c/support/file_io.h).
bool write_output(const std::string& text, const std::optional<std::string>& path) {
  if (!path || *path == "-") {
    std::cout << text;
    return true;
  }
  std::string why;
  if (g4c::write_output_file(*path, text, why)) return true;
  std::cerr << kTool << ": error: cannot write " << g4c::quote(*path) << ": " << why << "\n";
  return false;
}

// The usage error of an -o that names one of the command's inputs; empty when it names none.
std::string output_conflict(const g4c::ParsedArgs& args, const std::vector<std::string>& inputs) {
  auto out = args.value("o");
  return out ? g4c::output_input_conflict("-o", *out, inputs) : std::string();
}

std::optional<std::vector<int64_t>> parse_widths(const std::string& text, std::string& error) {
  std::vector<int64_t> widths;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto w = g4c::parse_int(item);
    if (!w || *w < 1 || *w > 4096) {
      error = "--batch: " + g4c::quote(item) + " is not a width in 1..4096";
      return std::nullopt;
    }
    widths.push_back(*w);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  if (static_cast<int64_t>(widths.size()) > g4c::plan::kMaxWidths) {
    error = "--batch: " + std::to_string(widths.size()) + " widths; a plan serves at most " +
            std::to_string(g4c::plan::kMaxWidths);
    return std::nullopt;
  }
  if (widths.empty()) error = "--batch: expected widths such as 1,2,4,8";
  if (widths.empty()) return std::nullopt;
  return widths;
}

// `--fuse`: all, none, or fusion pass names separated by commas (run in pipeline order).
std::optional<g4c::FusionOptions> parse_fusions(const std::string& text, std::string& error) {
  if (text == "all") return g4c::FusionOptions::all();
  if (text == "none") return g4c::FusionOptions::none();
  const std::vector<std::string> known = g4c::FusionOptions::known().enabled;
  std::vector<std::string> wanted;
  for (const std::string& item : g4c::split(text, ',')) {
    if (std::find(known.begin(), known.end(), item) == known.end()) {
      error = "--fuse: " + g4c::quote(item) + " is not a fusion" + g4c::did_you_mean(item, known) +
              " (expected all, none, or fusion names separated by commas: " + g4c::join(known) + ")";
      return std::nullopt;
    }
    wanted.push_back(item);
  }
  g4c::FusionOptions fusions;
  for (const std::string& name : known)
    if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) fusions.enabled.push_back(name);
  return fusions;
}

// Reads every compile option that shapes the plan; nullopt after printing a usage error.
struct CompileSettings {
  std::string stage = "plan";
  g4c::LowerOptions lower;
  g4c::RouteOptions routes;
  g4c::FusionOptions fusions = g4c::FusionOptions::all();
  g4c::plan::KvStorage kv_storage = g4c::plan::KvStorage::v_only;
  g4c::plan::AttentionSplit attention_split = g4c::plan::AttentionSplit::automatic;
  std::vector<std::string> print_after;
  std::optional<int> layer;  // --emit=dot --layer
};

std::optional<CompileSettings> read_settings(const g4c::ParsedArgs& args, std::string& error) {
  CompileSettings s;
  if (auto stage = args.value("emit")) {
    if (std::find(kStages.begin(), kStages.end(), *stage) == kStages.end()) {
      error = "--emit: unknown stage " + g4c::quote(*stage) + g4c::did_you_mean(*stage, kStages) +
              " (expected one of " + g4c::join(kStages) + ")";
      return std::nullopt;
    }
    s.stage = *stage;
  }
  if (auto batch = args.value("batch")) {
    auto widths = parse_widths(*batch, error);
    if (!widths) return std::nullopt;
    s.lower.widths = *widths;
  }
  if (auto context = args.value("context")) {
    auto c = g4c::parse_int(*context);
    if (!c || *c < 1) {
      error = "--context: expected a positive number of tokens (got " + g4c::quote(*context) + ")";
      return std::nullopt;
    }
    s.lower.context = *c;
  }
  if (auto chunk = args.value("prefill-chunk")) {
    auto c = g4c::parse_int(*chunk);
    const int64_t widest = s.lower.widths.back();
    if (!c || *c < 1 || *c > widest) {
      error = "--prefill-chunk: expected 1.." + std::to_string(widest) + " (a chunk runs in one step of the widest width; got " +
              g4c::quote(*chunk) + ")";
      return std::nullopt;
    }
    s.lower.prefill_chunk = *c;
  }
  if (auto target = args.value("target")) {
    if (!g4c::plan::is_gpu_arch(*target)) {
      error = "--target: " + g4c::quote(*target) + " is not a GPU architecture (expected sm_ and a number, e.g. sm_90)";
      return std::nullopt;
    }
    s.lower.target = *target;
  }
  if (auto policy = args.value("route-policy")) {
    auto p = g4c::parse_route_policy(*policy);
    if (!p) {
      error = "--route-policy: unknown policy " + g4c::quote(*policy) + g4c::did_you_mean(*policy, g4c::route_policy_names()) +
              " (expected one of " + g4c::join(g4c::route_policy_names()) + ")";
      return std::nullopt;
    }
    s.routes.policy = *p;
  }
  if (auto it = args.values.find("route"); it != args.values.end())
    for (const std::string& text : it->second) {
      std::string why;
      auto o = g4c::parse_route_override(text, why);
      if (!o) {
        error = "--route " + text + ": " + why;
        return std::nullopt;
      }
      s.routes.overrides.push_back(*o);
    }
  if (auto fuse = args.value("fuse")) {
    auto fusions = parse_fusions(*fuse, error);
    if (!fusions) return std::nullopt;
    s.fusions = *fusions;
  }
  if (auto storage = args.value("kv-storage")) {
    auto k = g4c::plan::parse_kv_storage(*storage);
    if (!k) {
      error = "--kv-storage: unknown storage " + g4c::quote(*storage) + " (expected v_only or separate)";
      return std::nullopt;
    }
    s.kv_storage = *k;
  }
  if (auto split = args.value("attention-split")) {
    auto a = g4c::plan::parse_attention_split(*split);
    if (!a) {
      error = "--attention-split: unknown split " + g4c::quote(*split) + " (expected auto, cuda-cores or tensor-cores)";
      return std::nullopt;
    }
    s.attention_split = *a;
  }
  if (auto layer = args.value("layer")) {
    auto n = g4c::parse_int(*layer);
    if (s.stage != "dot") {
      error = "--layer: draws one layer of --emit=dot (got --emit=" + s.stage + ")";
      return std::nullopt;
    }
    if (!n || *n < 0 || *n >= g4c::kMaxLayers) {
      error = "--layer: expected a layer index (got " + g4c::quote(*layer) + ")";
      return std::nullopt;
    }
    s.layer = static_cast<int>(*n);
  }
  std::vector<std::string> passes = pass_names();
  if (auto it = args.values.find("print-after"); it != args.values.end())
    for (const std::string& p : it->second) {
      if (std::find(passes.begin(), passes.end(), p) == passes.end()) {
        error = "--print-after: unknown pass " + g4c::quote(p) + g4c::did_you_mean(p, passes) + " (passes: " +
                g4c::join(passes) + ")";
        return std::nullopt;
      }
      s.print_after.push_back(p);
    }
  return s;
}

int run_check(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, {{"help", false, false, "", "show this help"}}, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.empty()) return usage_error("check: no input files");
  g4c::DiagnosticEngine diag;
  for (const std::string& path : args->positional) g4c::load_model_spec(path, diag);
  diag.print(std::cerr, kTool);
  return diag.has_errors() ? kInputError : 0;
}

std::string render(const g4c::plan::Plan& plan, const std::string& stage, std::optional<int> layer) {
  std::ostringstream text;
  if (stage == "dot") {
    g4c::plan::print_dot(plan, text, layer);
    return text.str();
  }
  g4c::plan::PrintOptions only_header{false, false, false, false, false};
  if (stage == "buffers") only_header.buffers = true;
  if (stage == "kernels") only_header.kernels = true;
  g4c::plan::print_plan(plan, text, stage == "buffers" || stage == "kernels" ? only_header : g4c::plan::PrintOptions{});
  if (stage == "kernels") {
    text << "\n// launches per step (kernels; a cuBLAS GEMM counts one):";
    for (int64_t width : plan.header.widths)
      text << " " << g4c::plan::launches_per_step(plan, width) << " at N = " << width << (width == plan.header.widths.back() ? "" : ",");
    text << "\n";
  }
  return text.str();
}

int run_compile(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kCompileOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("compile: expected exactly one input file");
  auto settings = read_settings(*args, error);
  if (!settings) return usage_error(error);
  std::vector<std::string> inputs = {args->positional[0]};
  if (auto tuning = args->value("tuning")) inputs.push_back(*tuning);
  if (std::string conflict = output_conflict(*args, inputs); !conflict.empty()) return usage_error(conflict);

  g4c::DiagnosticEngine diag;
  auto spec = g4c::load_model_spec(args->positional[0], diag);
  if (spec) {  // the files it extends, known once it is read
    if (std::string conflict = output_conflict(*args, spec->source_files); !conflict.empty()) {
      diag.print(std::cerr, kTool);
      return usage_error(conflict);
    }
  }
  if (spec && settings->lower.context > spec->context) {
    diag.error({}, "--context " + std::to_string(settings->lower.context) + " is longer than the model's context (" +
                       std::to_string(spec->context) + ")");
    spec.reset();
  }
  if (spec && args->value("tuning")) {
    settings->routes.tuning = g4c::load_tuning_file(*args->value("tuning"), diag);
    if (!settings->routes.tuning) {
      spec.reset();
    } else if (settings->routes.tuning->target != settings->lower.target) {
      // Routes measured on one architecture say nothing about another's kernels.
      diag.error({}, "--tuning: " + g4c::quote(*args->value("tuning")) + " was measured on " +
                         settings->routes.tuning->target + ", the plan targets " + settings->lower.target);
      spec.reset();
    }
  }
  if (!spec) {
    diag.print(std::cerr, kTool);
    return kInputError;
  }
  g4c::plan::Plan plan = g4c::lower_model(*spec, settings->lower);
  if (settings->stage != "graph") {
    g4c::PassContext ctx{*spec, settings->routes, diag, settings->fusions, settings->kv_storage, settings->attention_split};
    bool ok = g4c::run_pipeline(plan, ctx, settings->print_after, args->has("print-after-all"), std::cerr);
    if (ok && !g4c::plan::verify_plan(plan, diag))
      diag.error({}, "internal error: the compiled plan fails verification (please report this)");
    if (!ok || diag.has_errors()) {
      diag.print(std::cerr, kTool);
      return kInputError;
    }
  }
  diag.print(std::cerr, kTool);
  if (settings->stage == "spec") {  // its KV bytes are the compiled caches'
    std::ostringstream text;
    g4c::describe_model(*spec, g4c::plan::kv_footprint(plan), text);
    return write_output(text.str(), args->value("o")) ? 0 : kInputError;
  }
  if (settings->layer && *settings->layer >= plan.header.layers)
    return usage_error("--layer " + std::to_string(*settings->layer) + ": the plan's layers are 0.." +
                       std::to_string(plan.header.layers - 1));
  return write_output(render(plan, settings->stage, settings->layer), args->value("o")) ? 0 : kInputError;
}

int run_verify(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kVerifyOptions, error);
  if (!args) return usage_error(error);
  if (args->positional.size() != 1) return usage_error("verify: expected one plan file, or - for standard input");
  g4c::DiagnosticEngine diag;
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  diag.print(std::cerr, kTool);
  if (!plan) return kInputError;
  if (args->has("print")) g4c::plan::print_plan(*plan, std::cout);
  return 0;
}

// `--pass` of g4c opt: the named passes in the order given; nullopt with a usage error for a name
// that is not a pass, or a pass that reads the model declaration.
std::optional<std::vector<const g4c::PassInfo*>> parse_opt_passes(const g4c::ParsedArgs& args, std::string& error) {
  std::vector<const g4c::PassInfo*> passes;
  if (auto it = args.values.find("pass"); it != args.values.end())
    for (const std::string& list : it->second)
      for (const std::string& name : g4c::split(list, ',')) {
        const g4c::PassInfo* pass = g4c::find_pass(name);
        if (!pass) {
          error = "--pass: unknown pass " + g4c::quote(name) + g4c::did_you_mean(name, pass_names()) + " (passes: " +
                  g4c::join(pass_names()) + ")";
          return std::nullopt;
        }
        if (pass->needs_declaration) {
          error = "--pass: " + g4c::quote(name) +
                  " reads the model declaration, which a plan does not carry; it runs only in g4c compile";
          return std::nullopt;
        }
        passes.push_back(pass);
      }
  if (passes.empty()) error = "opt: --pass: missing (the passes to run, e.g. --pass=alias,buffer-plan)";
  if (passes.empty()) return std::nullopt;
  return passes;
}

// The route options a plan was compiled with, as its header records them, for the routes pass.
std::optional<g4c::RouteOptions> recorded_routes(const g4c::plan::PlanHeader& header, g4c::DiagnosticEngine& diag) {
  g4c::RouteOptions routes;
  routes.policy = g4c::parse_route_policy(header.route_policy).value_or(g4c::RoutePolicy::default_rules);
  for (const std::string& text : header.route_overrides) {
    std::string why;
    auto o = g4c::parse_route_override(text, why);
    if (!o) {
      diag.error(header.loc, "route_overrides: " + g4c::quote(text) + ": " + why);
      return std::nullopt;
    }
    routes.overrides.push_back(*o);
  }
  if (!header.tuning.empty() && !(routes.tuning = g4c::load_tuning_file(header.tuning, diag))) {
    diag.error(header.loc, "tuning = " + g4c::quote(header.tuning) +
                               ": the routes pass reads the tuning file the plan was routed with (a path from the "
                               "working directory)");
    return std::nullopt;
  }
  return routes;
}

// Runs passes on a verified plan and prints what they leave, verified again: the plan text in, the
// plan text out, as mlir-opt does for MLIR.
int run_opt(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kOptOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("opt: expected one plan file, or - for standard input");
  auto passes = parse_opt_passes(*args, error);
  if (!passes) return usage_error(error);
  if (std::string conflict = output_conflict(*args, args->positional); !conflict.empty()) return usage_error(conflict);

  g4c::CommandDiagnostics diag(kTool);
  auto plan = g4c::plan::load_plan_file(args->positional[0], diag);
  if (!plan) return diag.finish(kInputError);
  const bool routes_run = std::any_of(passes->begin(), passes->end(), [](auto* p) { return p->name == "routes"; });
  auto routes = routes_run ? recorded_routes(plan->header, diag) : g4c::RouteOptions{};
  if (!routes) return diag.finish(kInputError);
  g4c::FusionOptions fusions;
  for (const g4c::PassInfo* pass : *passes)
    if (pass->fusion) fusions.enabled.emplace_back(pass->name);
  static const g4c::ModelSpec kNoDeclaration;  // no pass that runs here reads it
  g4c::PassContext ctx{kNoDeclaration, *routes, diag, fusions, plan->header.kv_storage, plan->header.attention_split};
  if (!g4c::run_passes(*plan, ctx, *passes, {}, args->has("print-after-all"), std::cerr)) return diag.finish(kInputError);
  std::string names;
  for (const g4c::PassInfo* pass : *passes) names += (names.empty() ? "" : ",") + std::string(pass->name);
  if (!g4c::plan::verify_plan(*plan, diag)) {
    diag.error({}, "the plan after --pass=" + names +
                       " fails verification: run the passes that recompute what these changed (the pipeline's "
                       "later passes, e.g. alias,buffer-plan,kernel-instances after a fusion)");
    return diag.finish(kInputError);
  }
  diag.print(std::cerr, kTool);
  std::ostringstream text;
  g4c::plan::print_plan(*plan, text);
  return write_output(text.str(), args->value("o")) ? 0 : kInputError;
}

int run_import(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kImportOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("import: expected exactly one GGUF file");
  if (std::string conflict = output_conflict(*args, args->positional); !conflict.empty()) return usage_error(conflict);
  g4c::DiagnosticEngine diag;
  std::optional<std::string> toml;
  if (auto file = g4c::gguf::File::open(args->positional[0], diag)) toml = g4c::gguf::import_model(*file, diag);
  diag.print(std::cerr, kTool);
  if (!toml) return kInputError;
  return write_output(*toml, args->value("o")) ? 0 : kInputError;
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (const std::optional<int> done = g4c::answer_without_command(argc, argv, print_usage, kUsageError)) return *done;
  std::string_view command = argv[1];
  if (command == "--version") {
    std::cout << "g4c 0.1.0 (plan format v" << g4c::plan::kPlanFormatVersion << ")\n";
    return 0;
  }
  if (command == "check") return run_check(argc, argv);
  if (command == "compile") return run_compile(argc, argv);
  if (command == "verify") return run_verify(argc, argv);
  if (command == "opt") return run_opt(argc, argv);
  if (command == "import") return run_import(argc, argv);
  static const std::vector<std::string> commands = {"check", "compile", "verify", "opt", "import"};
  return usage_error("unknown command " + g4c::quote(command) + g4c::did_you_mean(command, commands));
}

int main(int argc, char** argv) { return g4c::run_tool(kTool, dispatch, argc, argv); }
