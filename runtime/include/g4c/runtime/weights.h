// Weights as the runtime holds them: every tensor's bytes in its declared type, named as the plan
// and the spec name them, read from a GGUF file (copied out of it, never mapped) or generated from
// a seed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "g4c/spec/quant_type.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

struct HostTensor {
  std::string name;
  QuantType type = QuantType::F32;
  int64_t ne0 = 0;  // row length
  int64_t ne1 = 1;  // rows
  std::span<const uint8_t> bytes;

  int64_t row_stride() const { return row_bytes(type, ne0); }
  const uint8_t* row(int64_t r) const { return bytes.data() + r * row_stride(); }
};

// What a weight set must hold: a tensor's name, type and shape.
struct TensorShape {
  std::string name;
  QuantType type = QuantType::F32;
  int64_t ne0 = 0;
  int64_t ne1 = 1;
};

class WeightSet {
 public:
  WeightSet() = default;
  WeightSet(WeightSet&&) = default;
  WeightSet& operator=(WeightSet&&) = default;

  const HostTensor* find(std::string_view name) const;
  const HostTensor& at(std::string_view name) const;  // throws std::out_of_range naming the tensor
  const std::vector<HostTensor>& tensors() const { return tensors_; }
  std::string description() const { return description_; }  // "random:seed=7", a file path

  // Builders: tensors with bytes the set owns, or bytes kept alive by `keep_alive`.
  void add_owned(TensorShape shape, std::vector<uint8_t> bytes);
  void add_borrowed(TensorShape shape, std::span<const uint8_t> bytes);
  void keep_alive(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }
  void set_description(std::string d) { description_ = std::move(d); }

 private:
  std::vector<HostTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::shared_ptr<std::vector<uint8_t>>> owned_;
  std::vector<std::shared_ptr<const void>> owners_;
  std::string description_;
};

// Dequantizes row `r` of a tensor into `out` (ne0 floats).
void dequantize_tensor_row(const HostTensor& t, int64_t r, float* out);
// The whole tensor as floats, row-major (for small tensors: norms, tiny models).
std::vector<float> dequantize_tensor(const HostTensor& t);

}  // namespace g4c
