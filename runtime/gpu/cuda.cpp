#include "g4c/runtime/gpu/cuda.h"

#include "g4c/kernels/op_args.h"

#include <utility>

namespace g4c::gpu {

std::string cuda_error(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return {};
  std::string where = std::string(file);
  where = where.substr(where.find_last_of('/') + 1);
  return where + ":" + std::to_string(line) + ": " + call + ": " + cudaGetErrorString(e);
}

namespace {
// Unset until a device is found or a caller decides; a process drives one device.
std::optional<bool> g_launch_overlap;
std::optional<int> g_weight_stages;
StageMemory g_stage_memory = StageMemory::full;  // sized: opt-in (cuda.h)
int g_attention_stages = kAttentionMmaDefaultStages;
}  // namespace

void set_launch_overlap(bool on) { g_launch_overlap = on; }
bool launch_overlap() { return g_launch_overlap.value_or(false); }
void set_weight_stages(int stages) { g_weight_stages = stages; }
int weight_stages() { return g_weight_stages.value_or(0); }
void set_stage_memory(StageMemory memory) { g_stage_memory = memory; }
StageMemory stage_memory() { return g_stage_memory; }
void set_attention_stages(int stages) { g_attention_stages = stages; }
int attention_stages() { return g_attention_stages; }

cudaError_t launch_kernel_args(cudaKernel_t kernel, const LaunchDims& dims, void** params, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dims.grid;
  config.blockDim = dims.block;
  config.dynamicSmemBytes = dims.shared_bytes;
  config.stream = stream;
  cudaLaunchAttribute overlap{};
  overlap.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  overlap.val.programmaticStreamSerializationAllowed = 1;
  if (launch_overlap()) config.attrs = &overlap, config.numAttrs = 1;
  return cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(kernel), params);
}

DeviceLimits device_limits(DeviceLimits given) {
  auto current = [](cudaDeviceAttr attribute) {
    int device = 0, value = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&value, attribute, device);
    return value;
  };
  if (given.sm_count == 0) given.sm_count = current(cudaDevAttrMultiProcessorCount);
  if (given.max_shared_bytes == 0) given.max_shared_bytes = current(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  return given;
}

std::optional<DeviceInfo> find_device(std::string& why) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    why = e != cudaSuccess ? std::string("no usable CUDA device (") + cudaGetErrorString(e) + ")" : "no CUDA device";
    cudaGetLastError();  // clear the sticky error a driverless machine leaves
    return std::nullopt;
  }
  DeviceInfo info;
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || cudaSetDevice(0) != cudaSuccess) {
    why = "cannot open CUDA device 0";
    return std::nullopt;
  }
  info.name = prop.name;
  info.sm_count = prop.multiProcessorCount;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  cudaMemGetInfo(&info.free_bytes, &info.total_bytes);
  if (!g_launch_overlap) g_launch_overlap = prop.major >= 9;  // sm_90 has griddepcontrol
  if (!g_weight_stages) g_weight_stages = prop.major >= 9 ? kDefaultWeightStages : 0;  // and cp.async.bulk
  return info;
}

std::optional<KernelLibrary> KernelLibrary::load(const std::vector<CompiledProgram>& programs, DiagnosticEngine& diag) {
  KernelLibrary lib;
  for (const CompiledProgram& p : programs) {
    cudaLibrary_t handle = nullptr;
    cudaError_t e = cudaLibraryLoadData(&handle, p.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
    if (e != cudaSuccess) {
      diag.error({}, "cannot load the cubin of kernels/" + p.source + ": " + cudaGetErrorString(e));
      return std::nullopt;
    }
    lib.libraries_.push_back(handle);
    for (size_t i = 0; i < p.keys.size(); ++i) {
      cudaKernel_t kernel = nullptr;
      e = cudaLibraryGetKernel(&kernel, handle, p.lowered_names[i].c_str());
      if (e != cudaSuccess) {
        diag.error({}, "kernels/" + p.source + " has no kernel " + p.lowered_names[i] + " for '" + p.keys[i] +
                           "': " + cudaGetErrorString(e));
        return std::nullopt;
      }
      lib.kernels_[p.keys[i]] = kernel;
    }
  }
  return lib;
}

KernelLibrary::KernelLibrary(KernelLibrary&& o) noexcept
    : libraries_(std::move(o.libraries_)), kernels_(std::move(o.kernels_)) {
  o.libraries_.clear();
}

KernelLibrary& KernelLibrary::operator=(KernelLibrary&& o) noexcept {
  std::swap(libraries_, o.libraries_);
  std::swap(kernels_, o.kernels_);
  return *this;
}

KernelLibrary::~KernelLibrary() {
  for (cudaLibrary_t l : libraries_) cudaLibraryUnload(l);
}

cudaKernel_t& OpKernels::operator[](plan::KernelRole role) {
  switch (role) {
    case plan::KernelRole::weight_at_load:
      return weight_at_load;
    case plan::KernelRole::activations:
      return activations;
    case plan::KernelRole::combine:
      return combine;
    case plan::KernelRole::main:
      break;
  }
  return main;
}

OpKernels KernelLibrary::by_role(const std::vector<plan::KernelInstance>& instances) const {
  OpKernels k;
  for (const plan::KernelInstance& instance : instances) k[plan::kernel_role(instance.family)] = find(instance);
  return k;
}

cudaKernel_t KernelLibrary::find(const std::string& key) const {
  auto it = kernels_.find(key);
  return it == kernels_.end() ? nullptr : it->second;
}

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes > 0 && cudaMalloc(&ptr_, bytes) != cudaSuccess) ptr_ = nullptr;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  std::swap(ptr_, o.ptr_);
  std::swap(bytes_, o.bytes_);
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

// Zero bytes touch nothing (an empty buffer has no pointer to pass CUDA).
void DeviceBuffer::upload(const void* host, size_t bytes, size_t offset) {
  if (bytes == 0) return;
  cudaMemcpy(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice);
}

void DeviceBuffer::download(void* host, size_t bytes, size_t offset) const {
  if (bytes == 0) return;
  cudaMemcpy(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost);
}

void DeviceBuffer::fill(unsigned char byte) {
  if (bytes_ > 0) cudaMemset(ptr_, byte, bytes_);
}

}  // namespace g4c::gpu
