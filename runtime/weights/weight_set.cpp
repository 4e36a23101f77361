#include <stdexcept>

#include "g4c/kernels/quant_host.h"
#include "g4c/runtime/weights.h"

namespace g4c {

const HostTensor* WeightSet::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const HostTensor& WeightSet::at(std::string_view name) const {
  const HostTensor* t = find(name);
  if (!t) throw std::out_of_range("weight set has no tensor " + std::string(name));
  return *t;
}

void WeightSet::add_owned(TensorShape shape, std::vector<uint8_t> bytes) {
  auto storage = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  owned_.push_back(storage);
  add_borrowed(std::move(shape), *storage);
}

void WeightSet::add_borrowed(TensorShape shape, std::span<const uint8_t> bytes) {
  index_[shape.name] = tensors_.size();
  tensors_.push_back({std::move(shape.name), shape.type, shape.ne0, shape.ne1, bytes});
}

void dequantize_tensor_row(const HostTensor& t, int64_t r, float* out) {
  dequantize_row(t.type, t.row(r), out, t.ne0);
}

std::vector<float> dequantize_tensor(const HostTensor& t) {
  std::vector<float> out(static_cast<size_t>(t.ne0 * t.ne1));
  for (int64_t r = 0; r < t.ne1; ++r) dequantize_tensor_row(t, r, out.data() + r * t.ne0);
  return out;
}

}  // namespace g4c
