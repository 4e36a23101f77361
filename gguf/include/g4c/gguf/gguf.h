// The GGUF container: values, ggml types, the reader (File) and the writer.
#pragma once

#include "g4c/gguf/file.h"
#include "g4c/gguf/ggml_types.h"
#include "g4c/gguf/value.h"
#include "g4c/gguf/writer.h"
