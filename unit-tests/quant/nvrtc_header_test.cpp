// quant_blocks.h must compile as device code under NVRTC, exactly as the runtime will hand it over:
// as an in-memory header next to a kernel that uses every function. NVRTC needs no GPU.
#include <gtest/gtest.h>
#include <nvrtc.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace g4c {
namespace {

constexpr char kHeaderName[] = "g4c/kernels/quant_blocks.h";

std::string read_header() {
  std::ifstream file(std::string(G4C_SOURCE_DIR) + "/kernels/include/" + kHeaderName);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A kernel touching every block type through both the per-element accessor and the whole-block
// function, the float conversions, the scale unpack, and constexpr evaluation in device code.
constexpr char kKernelSource[] = R"(
#include "g4c/kernels/quant_blocks.h"

static_assert(g4c::float_to_fp16(65520.0f) == 0x7c00, "fp16 overflow rounds to inf");
static_assert(g4c::fp16_to_float(0x0001) == 0x1p-24f, "smallest fp16 subnormal");
static_assert(g4c::float_to_bf16(1.0f) == 0x3f80, "bf16 one");

template <class Block>
__device__ void dequantize_rows(const void* weights, long long count, float* out) {
  const Block* row = static_cast<const Block*>(weights);
  const long long index = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (index < count) out[index] = g4c::dequantize_element(row, index);
  if (index < count / Block::kElems)
    g4c::dequantize_block(row[index], out + count + index * Block::kElems);
}

extern "C" __global__ void exercise_quant_blocks(const void* const* weights, long long count,
                                                 float* const* outs) {
  dequantize_rows<g4c::block_q4_0>(weights[0], count, outs[0]);
  dequantize_rows<g4c::block_q4_K>(weights[1], count, outs[1]);
  dequantize_rows<g4c::block_q5_K>(weights[2], count, outs[2]);
  dequantize_rows<g4c::block_q6_K>(weights[3], count, outs[3]);
  dequantize_rows<g4c::block_q8_0>(weights[4], count, outs[4]);
  dequantize_rows<g4c::block_f16>(weights[5], count, outs[5]);
  dequantize_rows<g4c::block_bf16>(weights[6], count, outs[6]);
  dequantize_rows<g4c::block_f32>(weights[7], count, outs[7]);
  if (threadIdx.x == 0) {
    float* scratch = outs[8];
    scratch[0] = g4c::fp16_to_float(g4c::float_to_fp16(scratch[1]));
    scratch[2] = g4c::bf16_to_float(g4c::float_to_bf16(scratch[3]));
    const g4c::KScaleMin unpacked =
        g4c::get_scale_min_k4(5, static_cast<const g4c::block_q4_K*>(weights[1])->scales);
    scratch[4] = unpacked.scale + unpacked.min;
  }
}
)";

struct CompileResult {
  nvrtcResult status = NVRTC_ERROR_INTERNAL_ERROR;
  std::string log;
  size_t code_bytes = 0;  // cubin for sm_XX targets, PTX for compute_XX targets
};

CompileResult compile(const std::string& source, const std::vector<const char*>& options) {
  const std::string header = read_header();
  const char* headers[] = {header.c_str()};
  const char* include_names[] = {kHeaderName};
  nvrtcProgram program = nullptr;
  CompileResult result;
  result.status = nvrtcCreateProgram(&program, source.c_str(), "quant_blocks_probe.cu", 1, headers,
                                     include_names);
  if (result.status != NVRTC_SUCCESS) return result;
  result.status = nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(program, &log_size);
  result.log.resize(log_size);
  nvrtcGetProgramLog(program, result.log.data());
  result.log.resize(result.log.find('\0') == std::string::npos ? log_size : result.log.find('\0'));
  if (result.status == NVRTC_SUCCESS) {
    bool wants_cubin = false;
    for (const char* option : options)
      wants_cubin |= std::string(option).find("sm_") != std::string::npos;
    if (wants_cubin)
      nvrtcGetCUBINSize(program, &result.code_bytes);
    else
      nvrtcGetPTXSize(program, &result.code_bytes);
  }
  nvrtcDestroyProgram(&program);
  return result;
}

TEST(NvrtcHeader, HeaderIncludesNothing) {
  // NVRTC has no standard library to include; the header must stand alone.
  const std::string header = read_header();
  ASSERT_FALSE(header.empty()) << "cannot read " << kHeaderName;
  EXPECT_EQ(header.find("#include"), std::string::npos);
}

class NvrtcOptions : public testing::TestWithParam<std::vector<const char*>> {};

TEST_P(NvrtcOptions, KernelUsingEveryFunctionCompilesWithoutWarnings) {
  const CompileResult result = compile(kKernelSource, GetParam());
  ASSERT_EQ(result.status, NVRTC_SUCCESS) << nvrtcGetErrorString(result.status) << "\n"
                                          << result.log;
  EXPECT_EQ(result.log, "");
  EXPECT_GT(result.code_bytes, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, NvrtcOptions,
    testing::Values(std::vector<const char*>{"--gpu-architecture=sm_90", "-std=c++17"},
                    std::vector<const char*>{"--gpu-architecture=sm_90", "-std=c++20"},
                    std::vector<const char*>{"--gpu-architecture=compute_90", "-std=c++20"},
                    std::vector<const char*>{"-arch=sm_90", "--use_fast_math"}));

TEST(NvrtcHeader, CompileErrorsAreReported) {
  // Guards the harness itself: a broken use of the header must fail with a log.
  const CompileResult result = compile(
      "#include \"g4c/kernels/quant_blocks.h\"\n"
      "static_assert(sizeof(g4c::block_q4_K) == 145, \"wrong size\");\n",
      {"--gpu-architecture=sm_90"});
  EXPECT_EQ(result.status, NVRTC_ERROR_COMPILATION);
  EXPECT_NE(result.log.find("wrong size"), std::string::npos) << result.log;
}

}  // namespace
}  // namespace g4c
