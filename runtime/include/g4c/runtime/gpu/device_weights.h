// A plan's weights on the device: every tensor in its declared type, plus the copies some ops
// need — F32 vectors for the ops that read norm weights and scales as floats, and the fp16 copy of
// a quantized matrix that the cublas route multiplies.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "g4c/plan/plan.h"
#include "g4c/runtime/gpu/cuda.h"
#include "g4c/runtime/weights.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gpu {

struct DeviceTensor {
  QuantType type = QuantType::F32;
  int64_t ne0 = 0, ne1 = 1;
  DeviceBuffer data;  // in the plan's layout: ne1 rows of row_bytes(type, ne0) (GGUF's), or repacked; padded
  DeviceBuffer f32;   // vectors read as floats, when `type` is not F32
  DeviceBuffer f16;   // the cublas route's copy of a quantized matrix
  const float* floats() const { return f32.get() ? f32.as<float>() : data.as<float>(); }
};

// Which copies the plan's ops need, and their sizes.
struct WeightCopies {
  std::set<std::string> f32;  // weights that need an F32 copy
  std::set<std::string> f16;  // weights that need an fp16 copy (cublas at some width)
  int64_t bytes = 0;
};
WeightCopies plan_weight_copies(const plan::Plan& plan);

// Bytes the device copy of a weight takes (its data in the plan's layout, padded for the kernels'
// aligned reads).
int64_t device_weight_bytes(const plan::WeightDecl& w);

using Progress = std::function<void(const std::string&)>;

class DeviceWeights {
 public:
  // Uploads host tensors (already checked against the plan).
  static std::optional<DeviceWeights> upload(const plan::Plan& plan, const WeightSet& host, DiagnosticEngine& diag,
                                             const Progress& progress);
  // Generates `random:seed=N` on the device with the random_weights kernels of `library`.
  static std::optional<DeviceWeights> generate(const plan::Plan& plan, uint64_t seed, const KernelLibrary& library,
                                               DiagnosticEngine& diag, const Progress& progress);

  // Repacks the weights the plan lays out for a route (repack), then makes the F32 and fp16 copies
  // it needs (fp16 through the plan's dequantize_f16 kernels).
  bool make_copies(const plan::Plan& plan, const KernelLibrary& library, DiagnosticEngine& diag);

  const DeviceTensor& at(const std::string& name) const { return tensors_.at(name); }
  int64_t bytes() const { return bytes_; }

 private:
  bool allocate(const plan::Plan& plan, DiagnosticEngine& diag);
  // Weights in another layout than GGUF's, through the plan's repack kernels (the GGUF copy freed).
  bool repack(const plan::Plan& plan, const KernelLibrary& library, DiagnosticEngine& diag);
  std::map<std::string, DeviceTensor> tensors_;
  int64_t bytes_ = 0;
};

}  // namespace g4c::gpu
