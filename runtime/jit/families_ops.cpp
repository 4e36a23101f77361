// Kernel families of every op but matmul (kernels/*.cuh): how each plan instance (compiler/plan/
// kernels.cpp, kernels_for) names its template instance. random_weights never appears in plans;
// the runtime asks for it to draw `random:seed=N` weights on the device.
#include <array>

#include "g4c/runtime/kernel_family.h"

namespace g4c {

namespace {

std::string arg(int64_t v) { return std::to_string(v); }
std::string arg(bool v) { return v ? "true" : "false"; }

std::string instance_of(std::string_view kernel, std::initializer_list<std::string> args) {
  std::string s = "g4c::" + std::string(kernel);
  if (args.size() == 0) return s;
  s += "<";
  for (const std::string& a : args) s += (s.back() == '<' ? "" : ", ") + a;
  return s + ">";
}

bool is_ring(const plan::KernelInstance& k) { return instance_ident(k, "kind") == "ring"; }
// `storage = v_only` (kv_write, attention.partial): a cache that keeps V alone.
bool is_v_only(const plan::KernelInstance& k) { return instance_ident(k, "storage") == "v_only"; }

// `layout = mma16`: the table is repacked for the mma16 route (a tied LM head on it).
std::string embed_gather(const plan::KernelInstance& k) {
  const bool repacked = instance_ident(k, "layout") == "mma16";
  return instance_of(repacked ? "embed_gather_mma16" : "embed_gather", {block_type_name(instance_ident(k, "type"))});
}

std::string ple_combine(const plan::KernelInstance& k) {
  return instance_of("ple_combine", {arg(instance_int(k, "width"))});
}

std::string rms_norm(const plan::KernelInstance& k) {
  return instance_of("rms_norm", {arg(instance_int(k, "group")), arg(instance_bool(k, "weighted")), instance_quantize_format(k)});
}

// `scale`, `then_norm`, `quantize` (norm-chains): what the launch computes after the add and norm.
std::string add_rms_norm(const plan::KernelInstance& k) {
  return instance_of("add_rms_norm", {arg(instance_int(k, "group")), arg(instance_bool(k, "weighted")),
                                      arg(instance_bool(k, "scale")), arg(instance_bool(k, "then_norm")),
                                      instance_quantize_format(k)});
}

std::string rms_norm_rope(const plan::KernelInstance& k) {
  return instance_of("rms_norm_rope", {arg(instance_int(k, "head_dim")), arg(instance_int(k, "rotated_pairs")),
                                       arg(instance_bool(k, "weighted"))});
}

// attention-inputs: the cache's constants (as kv_write's) and the RoPE's rotated pairs.
std::string attention_inputs(const plan::KernelInstance& k) {
  return instance_of("attention_inputs", {arg(is_ring(k)), arg(instance_int(k, "head_dim")),
                                          arg(instance_int(k, "kv_heads")), block_type_name(instance_ident(k, "dtype")),
                                          arg(instance_int(k, "rotated_pairs")), arg(is_v_only(k))});
}

std::string rope(const plan::KernelInstance& k) {
  return instance_of("rope", {arg(instance_int(k, "head_dim")), arg(instance_int(k, "rotated_pairs"))});
}

std::string kv_write(const plan::KernelInstance& k) {
  return instance_of("kv_write", {arg(is_ring(k)), arg(instance_int(k, "head_dim")), arg(instance_int(k, "kv_heads")),
                                  block_type_name(instance_ident(k, "dtype")), arg(is_v_only(k))});
}

std::string attention_partial(const plan::KernelInstance& k) {
  return instance_of("attention_partial",
                     {arg(is_ring(k)), arg(instance_int(k, "head_dim")), arg(instance_int(k, "q_heads")),
                      arg(instance_int(k, "kv_heads")), block_type_name(instance_ident(k, "dtype")),
                      arg(instance_int(k, "window")), arg(is_v_only(k)),
                      arg(is_v_only(k) ? instance_int(k, "rotated_pairs") : int64_t{0}),
                      arg(instance_ident(k, "split") == "mma"), arg(instance_ident(k, "combine") == "last_block")});
}

// `quantize` (quantize-in-producer): the O projection's activations too.
std::string attention_combine(const plan::KernelInstance& k) {
  return instance_of("attention_combine",
                     {arg(instance_int(k, "head_dim")), arg(instance_int(k, "q_heads")), instance_quantize_format(k)});
}

std::string random_weights(const plan::KernelInstance& k) {
  return instance_of("random_weights", {block_type_name(instance_ident(k, "type"))});
}

std::string geglu(const plan::KernelInstance& k) {
  if (instance_ident(k, "quantize").empty()) return instance_of("geglu", {});
  return instance_of("geglu_quantize", {instance_quantize_format(k)});
}
std::string add(const plan::KernelInstance&) { return instance_of("add", {}); }
std::string scale_by(const plan::KernelInstance&) { return instance_of("scale_by", {}); }
std::string softcap(const plan::KernelInstance&) { return instance_of("softcap", {}); }
std::string sample(const plan::KernelInstance&) { return instance_of("sample", {}); }

const std::array kFamilies = {
    KernelFamily{"embed_gather", "embed.cuh", embed_gather},
    KernelFamily{"ple_combine", "ple.cuh", ple_combine},
    KernelFamily{"rms_norm", "norm.cuh", rms_norm},
    KernelFamily{"rope", "rope.cuh", rope},
    KernelFamily{"add_rms_norm", "fused_norm.cuh", add_rms_norm},
    KernelFamily{"rms_norm_rope", "fused_norm.cuh", rms_norm_rope},
    KernelFamily{"attention_inputs", "fused_norm.cuh", attention_inputs},
    KernelFamily{"kv_write", "kv_cache.cuh", kv_write},
    KernelFamily{"attention.partial", "attention.cuh", attention_partial},
    KernelFamily{"attention.combine", "attention.cuh", attention_combine},
    KernelFamily{"geglu", "elementwise.cuh", geglu},
    KernelFamily{"add", "elementwise.cuh", add},
    KernelFamily{"scale_by", "elementwise.cuh", scale_by},
    KernelFamily{"softcap", "elementwise.cuh", softcap},
    KernelFamily{"sample", "sample.cuh", sample},
    KernelFamily{"random_weights", "random.cuh", random_weights},
};

}  // namespace

std::span<const KernelFamily> op_kernel_families() { return kFamilies; }

}  // namespace g4c
