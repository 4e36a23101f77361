#include <algorithm>
#include <cctype>

#include "g4c/runtime/kernel_family.h"

namespace g4c {

const KernelFamily* find_kernel_family(std::string_view family) {
  for (auto group : {matmul_kernel_families(), op_kernel_families()})
    for (const KernelFamily& f : group)
      if (f.family == family) return &f;
  return nullptr;
}

std::string block_type_name(std::string_view quant_type) {
  std::string lower(quant_type);
  // Block struct names keep the K of the K-quants upper case: block_q4_K, block_q8_0, block_bf16.
  for (size_t i = 0; i < lower.size(); ++i)
    if (lower[i] != 'K') lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i])));
  return "g4c::block_" + lower;
}

static const plan::Attr* find_constant(const plan::KernelInstance& k, std::string_view key) {
  auto it = std::find_if(k.constants.begin(), k.constants.end(), [&](const plan::Attr& a) { return a.key == key; });
  return it == k.constants.end() ? nullptr : &*it;
}

int64_t instance_int(const plan::KernelInstance& k, std::string_view key) {
  const plan::Attr* a = find_constant(k, key);
  return a && std::holds_alternative<int64_t>(a->value) ? std::get<int64_t>(a->value) : 0;
}

std::string instance_ident(const plan::KernelInstance& k, std::string_view key) {
  const plan::Attr* a = find_constant(k, key);
  return a && std::holds_alternative<plan::Ident>(a->value) ? std::get<plan::Ident>(a->value).text : std::string();
}

bool instance_bool(const plan::KernelInstance& k, std::string_view key) {
  const plan::Attr* a = find_constant(k, key);
  return a && std::holds_alternative<bool>(a->value) && std::get<bool>(a->value);
}

std::string instance_quantize_format(const plan::KernelInstance& k) {
  const std::string format = instance_ident(k, "quantize");
  return format == "mma16"    ? "g4c::matmul::kActivationsMma16"
         : format == "mma16h" ? "g4c::matmul::kActivationsMma16h"
         : format == "q8_1"   ? "g4c::matmul::kActivationsQ81"
                              : "g4c::matmul::kActivationsNone";
}

}  // namespace g4c
