#include "g4c/runtime/jit.h"

#include <nvrtc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "g4c/kernels/embedded/sources.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/kernel_family.h"
#include "g4c/support/file_io.h"
#include "g4c/support/text.h"

namespace g4c {

namespace fs = std::filesystem;

std::string nvrtc_version() {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string default_kernel_cache_dir() {
  if (const char* off = std::getenv("G4C_KERNEL_CACHE"); off && std::string(off) == "0") return {};
  if (const char* dir = std::getenv("G4C_KERNEL_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/g4c/kernels";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/g4c/kernels";
  return {};
}

std::vector<JitRequest> jit_requests(const plan::Plan& plan) {
  // The plan's own kernel list, which the verifier holds to exactly what its ops launch; each
  // instance named, for messages, by the first op that launches it.
  std::map<std::string, std::string> first_user;
  for (const plan::Op* op : plan.ops())
    for (int64_t width : plan.header.widths)
      for (const plan::KernelInstance& k : plan::kernels_for(plan, *op, width))
        first_user.emplace(k.key(), op->result.empty() ? std::string(plan::schema(op->kind).name) + " -> %" + op->cache
                                                       : "%" + op->result);
  std::vector<JitRequest> out;
  if (plan.kernels)
    for (const plan::KernelInstance& k : *plan.kernels) out.push_back({k, first_user[k.key()]});
  return out;
}

namespace {

const std::vector<std::string> kOptions = {"-std=c++20", "-default-device", "-lineinfo"};

// 128 bits from two differently seeded FNV-1a passes: enough to name cache files, since every
// entry also stores its full key and a hit must match it exactly.
std::string hash_hex(std::string_view text) {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : text) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b ^ (c + 0x9e)) * 0x100000001b3ull;
  }
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

const std::string& sources_digest() {
  static const std::string digest = [] {
    std::string all;
    for (const EmbeddedSource& s : embedded_kernel_sources()) all.append(s.name).append("\n").append(s.text);
    return hash_hex(all);
  }();
  return digest;
}

struct ProgramJob {
  std::string source;
  std::vector<std::string> keys, expressions, used_by;
  std::string cache_key;
};

// NVRTC's options but the architecture: the fixed ones, then the definitions.
std::vector<std::string> compile_options(const JitOptions& options) {
  std::vector<std::string> out = kOptions;
  for (const std::string& d : options.defines) out.push_back("-D" + d);
  return out;
}

std::string cache_key(const ProgramJob& job, const JitOptions& options) {
  std::string key = "g4c-kernel-cache v" + std::to_string(kKernelCacheVersion) + "\narch=" + options.arch +
                    "\nnvrtc=" + nvrtc_version() + "\noptions=" + join(compile_options(options), " ") +
                    "\nsource=" + job.source +
                    "\nsources=" + sources_digest() + "\n";
  for (const std::string& e : job.expressions) key += e + "\n";
  return key;
}

// ---- the disk cache: magic, key, lowered names, cubin, checksum ----

constexpr char kMagic[8] = {'G', '4', 'C', 'K', 'C', 'B', 'I', 'N'};

void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

bool get_bytes(std::string_view& in, std::string& out) {
  uint64_t n;
  if (!get_u64(in, n) || in.size() < n) return false;
  out.assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

// FNV-1a over an entry's bytes before its last 8: a damaged entry (a flipped bit, bytes of another
// file of the same length) is told from a good one and compiled again.
uint64_t checksum(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr uint64_t kMaxEntryBytes = uint64_t{1} << 30;

std::optional<CompiledProgram> read_cache(const std::string& path, const ProgramJob& job) {
  std::string why;
  auto text = read_file(path, why, kMaxEntryBytes);
  if (!text || text->size() < sizeof kMagic + 8) return std::nullopt;
  std::string_view in = *text;
  uint64_t stored;
  std::memcpy(&stored, in.data() + in.size() - 8, 8);
  in.remove_suffix(8);
  if (checksum(in) != stored) return std::nullopt;
  if (std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  in.remove_prefix(sizeof kMagic);
  std::string key, cubin;
  if (!get_bytes(in, key) || key != job.cache_key) return std::nullopt;  // a hash collision or another version
  CompiledProgram p{job.source, job.keys, {}, {}, true};
  for (size_t i = 0; i < job.keys.size(); ++i) {
    std::string name;
    if (!get_bytes(in, name)) return std::nullopt;
    p.lowered_names.push_back(std::move(name));
  }
  if (!get_bytes(in, cubin) || !in.empty()) return std::nullopt;
  p.cubin.assign(cubin.begin(), cubin.end());
  return p;
}

// Written to a private temporary file and renamed into place, so concurrent processes never see
// a partial entry.
void write_cache(const std::string& dir, const std::string& path, const ProgramJob& job, const CompiledProgram& p) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string data(kMagic, sizeof kMagic);
  put_u64(data, job.cache_key.size());
  data += job.cache_key;
  for (const std::string& n : p.lowered_names) {
    put_u64(data, n.size());
    data += n;
  }
  put_u64(data, p.cubin.size());
  data.append(p.cubin.data(), p.cubin.size());
  put_u64(data, checksum(data));
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return;  // a cache that cannot be written is only slower
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

// ---- NVRTC ----

std::string describe_instances(const ProgramJob& job) {
  std::string out;
  for (size_t i = 0; i < job.keys.size(); ++i) out += "\n  " + job.keys[i] + " (used by " + job.used_by[i] + ")";
  return out;
}

std::optional<CompiledProgram> compile(const ProgramJob& job, const JitOptions& options, std::string& error) {
  std::vector<const char*> header_texts, header_names;
  std::string program_text;
  for (const EmbeddedSource& s : embedded_kernel_sources()) {
    if (s.name == job.source) program_text = std::string(s.text);
    header_texts.push_back(s.text.data());
    header_names.push_back(s.name.data());
  }
  // Embedded texts are NUL-terminated string literals, so .data() is a C string.
  nvrtcProgram prog = nullptr;
  nvrtcResult r = nvrtcCreateProgram(&prog, program_text.c_str(), job.source.c_str(),
                                     static_cast<int>(header_texts.size()), header_texts.data(), header_names.data());
  if (r != NVRTC_SUCCESS) {
    error = "NVRTC could not create a program for " + job.source + ": " + nvrtcGetErrorString(r);
    return std::nullopt;
  }
  for (const std::string& e : job.expressions) nvrtcAddNameExpression(prog, e.c_str());
  std::vector<std::string> opts = compile_options(options);
  opts.push_back("--gpu-architecture=" + options.arch);
  std::vector<const char*> argv;
  for (const std::string& o : opts) argv.push_back(o.c_str());
  r = nvrtcCompileProgram(prog, static_cast<int>(argv.size()), argv.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(prog, &log_size);
  std::string log(log_size, '\0');
  nvrtcGetProgramLog(prog, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (r != NVRTC_SUCCESS) {
    error = "kernels/" + job.source + " failed to compile for " + options.arch + " (" + nvrtcGetErrorString(r) +
            "); instances:" + describe_instances(job) + "\nNVRTC log:\n" + log;
    nvrtcDestroyProgram(&prog);
    return std::nullopt;
  }
  CompiledProgram p{job.source, job.keys, {}, {}, false};
  for (const std::string& e : job.expressions) {
    const char* lowered = nullptr;
    nvrtcGetLoweredName(prog, e.c_str(), &lowered);
    p.lowered_names.emplace_back(lowered ? lowered : "");
  }
  size_t cubin_size = 0;
  if (nvrtcGetCUBINSize(prog, &cubin_size) != NVRTC_SUCCESS || cubin_size == 0) {
    error = "NVRTC produced no cubin for kernels/" + job.source + " (is " + options.arch + " a real GPU architecture such as sm_90?)";
    nvrtcDestroyProgram(&prog);
    return std::nullopt;
  }
  p.cubin.resize(cubin_size);
  nvrtcGetCUBIN(prog, p.cubin.data());
  nvrtcDestroyProgram(&prog);
  return p;
}

std::optional<std::vector<ProgramJob>> plan_jobs(std::span<const JitRequest> requests, const JitOptions& options,
                                                 DiagnosticEngine& diag) {
  std::map<std::string, ProgramJob> by_source;
  for (const JitRequest& r : requests) {
    const KernelFamily* family = find_kernel_family(r.instance.family);
    if (!family) {
      diag.error({}, "kernel instance '" + r.instance.key() + "' (used by " + r.used_by +
                         ") belongs to no kernel family this build knows");
      return std::nullopt;
    }
    ProgramJob& job = by_source[std::string(family->source)];
    job.source = family->source;
    job.keys.push_back(r.instance.key());
    job.expressions.push_back(family->name_expression(r.instance));
    job.used_by.push_back(r.used_by);
  }
  std::vector<ProgramJob> jobs;
  for (auto& [source, job] : by_source) {
    job.cache_key = cache_key(job, options);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace

std::optional<std::vector<CompiledProgram>> jit_compile(std::span<const JitRequest> requests,
                                                        const JitOptions& options, JitStats& stats,
                                                        DiagnosticEngine& diag) {
  auto start = std::chrono::steady_clock::now();
  auto jobs = plan_jobs(requests, options, diag);
  if (!jobs) return std::nullopt;
  std::vector<std::optional<CompiledProgram>> results(jobs->size());
  std::vector<std::string> errors(jobs->size());
  std::mutex mutex;
  size_t next = 0;
  auto worker = [&] {
    while (true) {
      size_t i;
      {
        std::lock_guard lock(mutex);
        if (next >= jobs->size()) return;
        i = next++;
      }
      const ProgramJob& job = (*jobs)[i];
      std::string path = options.cache_dir.empty() ? "" : options.cache_dir + "/" + hash_hex(job.cache_key) + ".g4ck";
      if (!path.empty()) results[i] = read_cache(path, job);
      if (results[i]) continue;
      results[i] = compile(job, options, errors[i]);
      if (results[i] && !path.empty()) write_cache(options.cache_dir, path, job, *results[i]);
    }
  };
  unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(jobs->size())));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  std::vector<CompiledProgram> out;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) {
      diag.error({}, errors[i]);
      return std::nullopt;
    }
    stats.cache_hits += results[i]->from_cache;
    out.push_back(std::move(*results[i]));
  }
  stats.instances = static_cast<int>(requests.size());
  stats.programs = static_cast<int>(out.size());
  stats.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace g4c
