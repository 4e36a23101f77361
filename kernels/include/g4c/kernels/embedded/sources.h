// The kernel sources and shared headers as compiled into the binary (kernels/embed_sources.cmake).
#pragma once

#include <span>
#include <string_view>

namespace g4c {

struct EmbeddedSource {
  std::string_view name;  // "matmul_ws.cuh", or "g4c/kernels/quant_blocks.h" as kernels include it
  std::string_view text;
};

std::span<const EmbeddedSource> embedded_kernel_sources();

}  // namespace g4c
