// What the host can give this process, checked before the runtime allocates weights, KV caches
// and arenas, so that a plan too large for the machine is refused with what it needs rather than
// aborting on bad_alloc or being killed: physical memory, and the address space left under the
// process's limit (ulimit -v, RLIMIT_AS).
#pragma once

#include <cstdint>
#include <string>

#include "g4c/support/diagnostics.h"

namespace g4c {

struct HostMemory {
  int64_t physical = 0;           // bytes of RAM; int64 max when unknown
  int64_t address_space_left = 0; // under RLIMIT_AS, beyond what the process maps now; int64 max when unlimited
};

HostMemory host_memory();

// One part of what is needed: "weights", "KV caches for 4 sequences", ...
struct MemoryNeed {
  std::string what;
  int64_t bytes = 0;
};

// Reports (naming every part) and returns false when the parts together do not fit `memory`.
// `purpose` says what needs them: "the CPU backend", "random weights".
bool check_host_memory(const std::string& purpose, std::initializer_list<MemoryNeed> parts, const HostMemory& memory,
                       DiagnosticEngine& diag);
inline bool check_host_memory(const std::string& purpose, std::initializer_list<MemoryNeed> parts,
                              DiagnosticEngine& diag) {
  return check_host_memory(purpose, parts, host_memory(), diag);
}

}  // namespace g4c
