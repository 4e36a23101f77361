#include "g4c/runtime/gpu/device_weights.h"

#include <algorithm>
#include <cstdio>

#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/kernels.h"
#include "g4c/runtime/gpu/launch_matmul.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "g4c/runtime/load_weights.h"

namespace g4c::gpu {

using namespace plan;

namespace {

bool is_quantized(QuantType t) { return !info(t).is_float; }

std::string gigabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", static_cast<double>(bytes) / 1e9);
  return text;
}

// Reports every `step` bytes done (and the end) through `progress`.
class ProgressMeter {
 public:
  ProgressMeter(const Progress& progress, std::string what, int64_t total)
      : progress_(progress), what_(std::move(what)), total_(total) {}
  void add(int64_t bytes) {
    done_ += bytes;
    if (!progress_ || (done_ < total_ && done_ < next_)) return;
    next_ = done_ + kStep;
    progress_(what_ + " " + gigabytes(done_) + "/" + gigabytes(total_) + " GB");
  }

 private:
  static constexpr int64_t kStep = int64_t{1} << 30;
  const Progress& progress_;
  std::string what_;
  int64_t total_, done_ = 0, next_ = kStep;
};

}  // namespace

int64_t device_weight_bytes(const WeightDecl& w) {
  const int64_t bytes =
      w.layout == WeightLayout::mma16 ? std::max<int64_t>(w.bytes(), mma16_bytes(w.type, w.ne1, w.ne0)) : w.bytes();
  return (bytes + 16 + 15) / 16 * 16;
}

WeightCopies plan_weight_copies(const Plan& plan) {
  WeightCopies copies;
  auto as_floats = [&](const WeightDecl& w) {
    if (w.type != QuantType::F32 && copies.f32.insert(w.name).second) copies.bytes += w.ne0 * w.ne1 * 4;
  };
  // Attention rebuilds a v_only cache's keys with its K-norm weight, read as floats.
  for (const KvCache& c : plan.caches ? *plan.caches : std::vector<KvCache>{})
    if (const WeightDecl* w = c.v_only() ? plan.find_weight(c.k_from_v.norm) : nullptr) as_floats(*w);
  for (const Op* op : plan.ops()) {
    if (op->weight.empty()) continue;
    const WeightDecl* w = plan.find_weight(op->weight);
    if (!w) continue;
    if (schema(op->kind).weight_as_floats) as_floats(*w);
    if (op->kind != OpKind::matmul || !is_quantized(w->type) || copies.f16.count(w->name)) continue;
    for (const RouteChoice& c : *op->routes())
      if (c.route == Route::cublas) {
        copies.f16.insert(w->name);
        copies.bytes += w->ne0 * w->ne1 * 2;
        break;
      }
  }
  return copies;
}

bool DeviceWeights::allocate(const Plan& plan, DiagnosticEngine& diag) {
  for (const WeightDecl& w : plan.weights) {
    DeviceTensor t{w.type, w.ne0, w.ne1, DeviceBuffer(static_cast<size_t>(device_weight_bytes(w))), {}, {}};
    if (!t.data.get()) {
      diag.error({}, "out of device memory allocating weight " + w.name + " (" + gigabytes(w.bytes()) + " GB)");
      return false;
    }
    bytes_ += static_cast<int64_t>(t.data.bytes());
    tensors_.emplace(w.name, std::move(t));
  }
  return true;
}

std::optional<DeviceWeights> DeviceWeights::upload(const Plan& plan, const WeightSet& host, DiagnosticEngine& diag,
                                                   const Progress& progress) {
  DeviceWeights out;
  if (!out.allocate(plan, diag)) return std::nullopt;
  ProgressMeter meter(progress, "uploading weights", plan.weight_bytes());
  for (const WeightDecl& w : plan.weights) {
    const HostTensor& t = host.at(w.name);
    if (cudaMemcpy(out.tensors_.at(w.name).data.get(), t.bytes.data(), t.bytes.size(), cudaMemcpyHostToDevice) !=
        cudaSuccess) {
      diag.error({}, "uploading weight " + w.name + " to the device failed");
      return std::nullopt;
    }
    meter.add(w.bytes());
  }
  return out;
}

std::optional<DeviceWeights> DeviceWeights::generate(const Plan& plan, uint64_t seed, const KernelLibrary& library,
                                                     DiagnosticEngine& diag, const Progress& progress) {
  DeviceWeights out;
  if (!out.allocate(plan, diag)) return std::nullopt;
  const std::map<std::string, std::vector<float>> structural = structural_tensors(plan);
  ProgressMeter meter(progress, "generating weights", plan.weight_bytes());
  for (const WeightDecl& w : plan.weights) {
    DeviceTensor& t = out.tensors_.at(w.name);
    cudaError_t e = cudaSuccess;
    if (auto fixed = structural.find(w.name); fixed != structural.end()) {
      std::vector<uint8_t> bytes(static_cast<size_t>(w.bytes()));
      quantize_row(w.type, fixed->second.data(), bytes.data(), w.ne0 * w.ne1);
      e = cudaMemcpy(t.data.get(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice);
    } else {
      const TensorShape shape{w.name, w.type, w.ne0, w.ne1};
      const KernelInstance k = kernel_instance("random_weights", {{"type", Ident{std::string(name(w.type))}}});
      const RandomWeightsCall call{random_tensor_params(shape, seed, plan.header.layers), t.data.get(),
                                   w.ne0 * w.ne1 / info(w.type).block_elems};
      e = launch_random_weights(library.find(k), call, nullptr);
    }
    if (e != cudaSuccess) {
      diag.error({}, "generating weight " + w.name + " on the device failed: " + cudaGetErrorString(e));
      return std::nullopt;
    }
    meter.add(w.bytes());
  }
  if (cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
    diag.error({}, std::string("generating weights on the device failed: ") + cudaGetErrorString(e));
    return std::nullopt;
  }
  return out;
}

bool DeviceWeights::repack(const Plan& plan, const KernelLibrary& library, DiagnosticEngine& diag) {
  for (const WeightDecl& w : plan.weights) {
    if (w.layout == WeightLayout::gguf) continue;
    DeviceTensor& t = tensors_.at(w.name);
    DeviceBuffer repacked(static_cast<size_t>(device_weight_bytes(w)));
    const cudaKernel_t repack = library.by_role(matmul_route_kernels(Route::mma16, w.type, 1)).weight_at_load;
    cudaError_t e = repacked.get() ? prepare_mma16_weight(repack, t.data.get(), w.type, w.ne1, w.ne0,
                                                          repacked.get(), nullptr)
                                   : cudaErrorMemoryAllocation;
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
      diag.error({}, "repacking " + w.name + " into the " + std::string(plan::name(w.layout)) +
                         " layout failed: " + cudaGetErrorString(e));
      return false;
    }
    t.data = std::move(repacked);
  }
  return true;
}

bool DeviceWeights::make_copies(const Plan& plan, const KernelLibrary& library, DiagnosticEngine& diag) {
  if (!repack(plan, library, diag)) return false;
  const WeightCopies copies = plan_weight_copies(plan);
  for (const std::string& name : copies.f32) {
    DeviceTensor& t = tensors_.at(name);
    // Vectors: small, so read back and widened on the host.
    std::vector<uint8_t> bytes(static_cast<size_t>(row_bytes(t.type, t.ne0) * t.ne1));
    std::vector<float> floats(static_cast<size_t>(t.ne0 * t.ne1));
    t.data.download(bytes.data(), bytes.size());
    dequantize_row(t.type, bytes.data(), floats.data(), t.ne0 * t.ne1);
    t.f32 = DeviceBuffer(floats.size() * 4);
    t.f32.upload(floats.data(), floats.size() * 4);
    bytes_ += static_cast<int64_t>(t.f32.bytes());
  }
  for (const std::string& name : copies.f16) {
    DeviceTensor& t = tensors_.at(name);
    t.f16 = DeviceBuffer(static_cast<size_t>(t.ne0 * t.ne1 * 2));
    const cudaKernel_t dequantize = library.by_role(matmul_route_kernels(Route::cublas, t.type, 1)).weight_at_load;
    cudaError_t e = t.f16.get() ? prepare_cublas_weight(dequantize, t.data.get(), t.type, t.ne1, t.ne0,
                                                        t.f16.get(), nullptr)
                                : cudaErrorMemoryAllocation;
    if (e != cudaSuccess) {
      diag.error({}, "making the fp16 copy of " + name + " for the cublas route failed: " + cudaGetErrorString(e));
      return false;
    }
    bytes_ += static_cast<int64_t>(t.f16.bytes());
  }
  return cudaDeviceSynchronize() == cudaSuccess;
}

}  // namespace g4c::gpu
