// A declaration whose one global layer's cache takes exactly g4c's limit on one sequence's KV,
// 2^40 bytes (F16: 2^24 slots x K and V x 4 heads x 4096), for the tests of the declaration's size
// check (unit-tests/spec/load_test.cpp) and of the compiled plan's caches (compiler/passes_test.cpp).
#pragma once

namespace g4c::testing {

inline constexpr const char* kKvAtTheLimit = R"(
[model]
name = "kv-limit"
vocab = 256
hidden = 256
layers = 1
context = 16777216

[attention]
query_heads = 4
layer_pattern = { period = 1, global = [0] }

[attention.global]
head_dim = 4096
kv_heads = 4
rope_theta = 1000000.0

[ffn]
width = 512

[quant]
default = "F16"
)";

}  // namespace g4c::testing
