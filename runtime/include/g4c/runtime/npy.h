// Writes float32 arrays as NumPy .npy files (format 1.0), so logits dumps load with numpy.load.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "g4c/support/diagnostics.h"

namespace g4c {

bool write_npy(const std::string& path, std::span<const int64_t> shape, std::span<const float> data,
               DiagnosticEngine& diag);

// Reads back what write_npy writes (little-endian float32, C order); for tests and tools.
bool read_npy(const std::string& path, std::vector<int64_t>& shape, std::vector<float>& data, DiagnosticEngine& diag);

}  // namespace g4c
