// The CUDA runtime pieces the GPU backend is built on: finding a device, loading NVRTC cubins
// through the runtime's library API (cudaLibraryLoadData — never the driver library), launching a
// kernel with one argument struct, and device memory that frees itself.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "g4c/plan/kernels.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/jit.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gpu {

struct DeviceInfo {
  int id = 0;
  std::string name;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
  size_t free_bytes = 0, total_bytes = 0;
  std::string arch() const { return "sm_" + std::to_string(cc_major * 10 + cc_minor); }
};

// The first CUDA device, or nullopt with `why` saying why there is none (no driver, no device).
std::optional<DeviceInfo> find_device(std::string& why);

// "file.cpp:42: cudaMalloc: out of memory" for a failed call; empty for success.
std::string cuda_error(cudaError_t e, const char* call, const char* file, int line);
#define G4C_CUDA_TRY(call) ::g4c::gpu::cuda_error((call), #call, __FILE__, __LINE__)

// What launch geometry depends on: the SMs a grid spreads over and the dynamic shared memory a
// block may opt into. A zero field: the current device's (device_limits fills it in).
struct DeviceLimits {
  int sm_count = 0;
  int max_shared_bytes = 0;
};
DeviceLimits device_limits(DeviceLimits given = {});

struct LaunchDims {
  dim3 grid;
  dim3 block;
  unsigned shared_bytes = 0;
};

// An op's kernels by role (plan::kernel_role); null where it has none.
struct OpKernels {
  cudaKernel_t weight_at_load = nullptr, activations = nullptr, main = nullptr, combine = nullptr;
  cudaKernel_t& operator[](plan::KernelRole role);
};

// The cubins of a set of kernel instances, loaded into the current device's context.
class KernelLibrary {
 public:
  static std::optional<KernelLibrary> load(const std::vector<CompiledProgram>& programs, DiagnosticEngine& diag);
  KernelLibrary(KernelLibrary&&) noexcept;
  KernelLibrary& operator=(KernelLibrary&&) noexcept;
  KernelLibrary(const KernelLibrary&) = delete;
  ~KernelLibrary();

  // The kernel of an instance; nullptr when the library was built without it.
  cudaKernel_t find(const std::string& instance_key) const;
  cudaKernel_t find(const plan::KernelInstance& k) const { return find(k.key()); }
  // The kernels of an op's instances (plan::kernels_for), each in its role; null where missing.
  OpKernels by_role(const std::vector<plan::KernelInstance>& instances) const;

 private:
  KernelLibrary() = default;
  std::vector<cudaLibrary_t> libraries_;
  std::map<std::string, cudaKernel_t> kernels_;
};

// Whether launches let a kernel be scheduled while the one before it finishes (programmatic
// dependent launch, kernels/launch_order.cuh). On by default where the device has it (sm_90 and
// later, set by find_device); off for A/B timing (`g4run bench --no-launch-overlap`).
void set_launch_overlap(bool on);
bool launch_overlap();

// Records each warp of the mma16 and mma16h kernels keeps in flight as bulk copies into shared
// memory (Mma16Args::stages): kDefaultWeightStages on sm_90 and later unless a caller set another
// count (find_device) — two measured faster than the register path and than 4 or 8 on nearly
// every 12B shape at N = 1, 8 and 32 (docs/perf.md, "Weight staging"); 0 streams the weights
// through registers, the only way before sm_90; 1..8 for A/B timing (`g4run bench --weight-stages N`).
inline constexpr int kDefaultWeightStages = 2;
inline constexpr int kMaxWeightStages = 8;
void set_weight_stages(int stages);
int weight_stages();

// How much shared memory each warp's weight stages take: matmul::kMma16StageBytes whatever the
// count (full, the default: the layout measured in docs/perf.md) or sized by the count
// (matmul::mma16_warp_stage_bytes: the rest of the SM's 256 KB stays L1; `--stage-memory=sized`,
// opt-in: within 0.6% in docs/perf.md, no GPU oracle has run it yet).
enum class StageMemory { sized, full };
void set_stage_memory(StageMemory memory);
StageMemory stage_memory();

// Shared-memory stages of attention's tensor-core split (AttentionPartialArgs::mma_stages): three
// unless a caller set 2 or 4 for A/B timing (`g4run bench --attention-stages N`: more tiles in
// flight, fewer blocks an SM). A launch that cannot hold the count's shared memory takes two.
void set_attention_stages(int stages);
int attention_stages();

// Launches `kernel` with its parameters (launch_record.h launches with one argument struct).
cudaError_t launch_kernel_args(cudaKernel_t kernel, const LaunchDims& dims, void** params, cudaStream_t stream);

// Device memory for `bytes` bytes, freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* get() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }
  bool ok() const { return ptr_ != nullptr || bytes_ == 0; }

  void upload(const void* host, size_t bytes, size_t offset = 0);
  void download(void* host, size_t bytes, size_t offset = 0) const;
  void fill(unsigned char byte);  // e.g. 0xFF: every float a NaN, so unwritten outputs show

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace g4c::gpu
