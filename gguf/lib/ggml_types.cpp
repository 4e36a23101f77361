#include "g4c/gguf/ggml_types.h"

#include <array>

namespace g4c::gguf {

namespace {

// Block geometry of every ggml type a GGUF file may carry (ggml-common.h block structs).
constexpr std::array<GgmlTypeInfo, 32> kTypes = {{
    {ggml::F32, "F32", 1, 4},
    {ggml::F16, "F16", 1, 2},
    {ggml::Q4_0, "Q4_0", 32, 18},
    {ggml::Q4_1, "Q4_1", 32, 20},
    {ggml::Q5_0, "Q5_0", 32, 22},
    {ggml::Q5_1, "Q5_1", 32, 24},
    {ggml::Q8_0, "Q8_0", 32, 34},
    {ggml::Q8_1, "Q8_1", 32, 36},
    {ggml::Q2_K, "Q2_K", 256, 84},
    {ggml::Q3_K, "Q3_K", 256, 110},
    {ggml::Q4_K, "Q4_K", 256, 144},
    {ggml::Q5_K, "Q5_K", 256, 176},
    {ggml::Q6_K, "Q6_K", 256, 210},
    {ggml::Q8_K, "Q8_K", 256, 292},
    {ggml::IQ2_XXS, "IQ2_XXS", 256, 66},
    {ggml::IQ2_XS, "IQ2_XS", 256, 74},
    {ggml::IQ3_XXS, "IQ3_XXS", 256, 98},
    {ggml::IQ1_S, "IQ1_S", 256, 50},
    {ggml::IQ4_NL, "IQ4_NL", 32, 18},
    {ggml::IQ3_S, "IQ3_S", 256, 110},
    {ggml::IQ2_S, "IQ2_S", 256, 82},
    {ggml::IQ4_XS, "IQ4_XS", 256, 136},
    {ggml::I8, "I8", 1, 1},
    {ggml::I16, "I16", 1, 2},
    {ggml::I32, "I32", 1, 4},
    {ggml::I64, "I64", 1, 8},
    {ggml::F64, "F64", 1, 8},
    {ggml::IQ1_M, "IQ1_M", 256, 56},
    {ggml::BF16, "BF16", 1, 2},
    {ggml::TQ1_0, "TQ1_0", 256, 54},
    {ggml::TQ2_0, "TQ2_0", 256, 66},
    {ggml::MXFP4, "MXFP4", 32, 17},
}};

constexpr std::array<std::pair<QuantType, uint32_t>, 8> kQuantToGgml = {{
    {QuantType::Q4_0, ggml::Q4_0},
    {QuantType::Q4_K, ggml::Q4_K},
    {QuantType::Q5_K, ggml::Q5_K},
    {QuantType::Q6_K, ggml::Q6_K},
    {QuantType::Q8_0, ggml::Q8_0},
    {QuantType::F16, ggml::F16},
    {QuantType::BF16, ggml::BF16},
    {QuantType::F32, ggml::F32},
}};

}  // namespace

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t ggml_type) {
  for (const GgmlTypeInfo& t : kTypes)
    if (t.id == ggml_type) return t;
  return std::nullopt;
}

std::string ggml_type_name(uint32_t ggml_type) {
  if (auto t = ggml_type_info(ggml_type)) return t->name;
  return "type " + std::to_string(ggml_type);
}

std::optional<QuantType> quant_type_from_ggml(uint32_t ggml_type) {
  for (const auto& [quant, id] : kQuantToGgml)
    if (id == ggml_type) return quant;
  return std::nullopt;
}

uint32_t ggml_type_of(QuantType t) {
  for (const auto& [quant, id] : kQuantToGgml)
    if (quant == t) return id;
  return ggml::F32;  // unreachable: every QuantType is in the table
}

std::optional<uint64_t> ggml_tensor_bytes(uint32_t ggml_type, const std::vector<int64_t>& dims) {
  auto type = ggml_type_info(ggml_type);
  if (!type) return std::nullopt;
  int64_t ne0 = dims.empty() ? 1 : dims[0];
  if (ne0 < 0 || ne0 % type->block_elems != 0) return std::nullopt;
  // Sizes stay below 2^63 so that they convert to int64 and add to file offsets safely.
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(ne0) / type->block_elems, uint64_t{type->block_bytes}, &bytes))
    return std::nullopt;
  int64_t elements = ne0;  // must fit too: readers count elements in int64
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] < 0) return std::nullopt;
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dims[i]), &bytes)) return std::nullopt;
    if (__builtin_mul_overflow(elements, dims[i], &elements)) return std::nullopt;
  }
  if (bytes >= kLimit) return std::nullopt;
  return bytes;
}

}  // namespace g4c::gguf
