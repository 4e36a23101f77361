// The hardware primitives of the matmul kernels, each a thin wrapper over one PTX instruction or
// intrinsic: async copies into shared memory, ldmatrix, the int8 and fp16 tensor-core mma, and
// half-precision conversions. Kept apart from the kernels' logic so that the logic reads as C++
// and every use of inline PTX is in one place.
#pragma once

namespace g4c::mm {

inline constexpr unsigned kFullMask = 0xffffffffu;

// Dynamic shared memory of the running kernel (16-byte aligned).
__device__ __forceinline__ unsigned char* dynamic_shared_memory() {
  extern __shared__ __align__(16) unsigned char g4c_matmul_shared[];
  return g4c_matmul_shared;
}

// The bytes of dynamic shared memory the kernel was launched with.
__device__ __forceinline__ unsigned dynamic_shared_bytes() {
  unsigned bytes;
  asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(bytes));
  return bytes;
}

// The shared-state-space address of a generic pointer into shared memory.
__device__ __forceinline__ unsigned shared_address(const void* p) {
  unsigned address;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(p));
  return address;
}

//===----------------------------------------------------------------------===//
// Asynchronous copies (cp.async, sm_80+): global → shared without passing through registers
//===----------------------------------------------------------------------===//

// Copies 16 bytes; both addresses 16-byte aligned. Bypasses L1: weights are read once.
__device__ __forceinline__ void cp_async_16(unsigned shared_dst, const void* global_src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(shared_dst), "l"(global_src) : "memory");
}

// As cp_async_16, but writes 16 zero bytes (reading nothing) where `valid` is false.
__device__ __forceinline__ void cp_async_16_or_zero(unsigned shared_dst, const void* global_src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(shared_dst), "l"(global_src), "r"(valid ? 16 : 0)
               : "memory");
}

// Copies 8 bytes through L1 (both addresses 8-byte aligned), or writes 8 zero bytes where `valid`
// is false.
__device__ __forceinline__ void cp_async_8_or_zero(unsigned shared_dst, const void* global_src, bool valid) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(shared_dst), "l"(global_src), "r"(valid ? 8 : 0)
               : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

// Waits until at most kPending of this thread's committed copy groups are still in flight.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(kPending) : "memory");
}

// cp_async_wait for a count known at run time (1 .. 3).
__device__ __forceinline__ void cp_async_wait_pending(int pending) {
  switch (pending) {
    case 1: cp_async_wait<1>(); break;
    case 2: cp_async_wait<2>(); break;
    default: cp_async_wait<3>(); break;
  }
}

//===----------------------------------------------------------------------===//
// Bulk copies (cp.async.bulk, sm_90): one thread moves a contiguous run of global memory into
// shared memory, and an mbarrier counts its bytes in. Addresses are shared-state-space ones.
//===----------------------------------------------------------------------===//

__device__ __forceinline__ void mbarrier_init(unsigned barrier, unsigned arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(barrier), "r"(arrivals) : "memory");
}

// Makes initialized mbarriers visible to the copy engine before the first copy names them.
__device__ __forceinline__ void fence_mbarrier_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }

// Orders this thread's earlier shared-memory accesses before later bulk copies into it.
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }

// Arrives once on the barrier and tells it to wait for `bytes` more bytes in the current phase.
__device__ __forceinline__ void mbarrier_expect_bytes(unsigned barrier, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(barrier), "r"(bytes) : "memory");
}

// Waits until the barrier's phase of parity `parity` has completed.
__device__ __forceinline__ void mbarrier_wait(unsigned barrier, unsigned parity) {
  unsigned done;
  do {
    asm volatile(
        "{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
        : "=r"(done)
        : "r"(barrier), "r"(parity)
        : "memory");
  } while (!done);
}

// Copies `bytes` (a multiple of 16; both addresses 16-byte aligned) from global to shared memory
// under an L2 policy, completing them on `barrier`.
__device__ __forceinline__ void bulk_copy_to_shared(unsigned shared_dst, const void* global_src, unsigned bytes,
                                                    unsigned barrier, unsigned long long policy) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;" ::"r"(
          shared_dst),
      "l"(global_src), "r"(bytes), "r"(barrier), "l"(policy)
      : "memory");
}

// 16 and 2 bytes of shared memory.
__device__ __forceinline__ uint4 load_shared_16(unsigned address) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(address));
  return v;
}
__device__ __forceinline__ unsigned short load_shared_2(unsigned address) {
  unsigned short v;
  asm volatile("ld.shared.u16 %0, [%1];" : "=h"(v) : "r"(address));
  return v;
}

//===----------------------------------------------------------------------===//
// Tensor cores (mma.sync, sm_80+). Fragments follow the PTX ISA: lane = 4·g + t holds rows g and
// g + 8 of A, column g of B, and C[g][2t, 2t+1], C[g+8][2t, 2t+1].
//===----------------------------------------------------------------------===//

// Four 8×8 b16 matrices from shared memory: lanes 8i..8i+7 give the row addresses of matrix i,
// and each lane receives bytes 4t..4t+3 of row g of every matrix.
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_src));
}

// As ldmatrix_x4 with every matrix transposed: each lane receives elements g of rows 2t and
// 2t + 1 (the B fragment of a matrix stored K-major).
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned shared_src) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_src));
}

// D = A·B + C for int8 A (16×32, a[0]: row g k 4t.., a[1]: row g+8, a[2]/a[3]: k 16+4t..) and B
// (32×8, b0: k 4t.. of column g, b1: k 16+4t..), every element of C equal to `c`.
__device__ __forceinline__ void mma_s8_k32(int (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1, int c) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %10, %10, %10};"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "r"(c));
}

// D = A·B + C with A unsigned int8 codes (16×32, fragments as mma_s8_k32) and B signed.
__device__ __forceinline__ void mma_u8s8_k32(int (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1, int c) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %10, %10, %10};"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "r"(c));
}

// As mma_s8_k32 with K = 16: a0 (row g, k 4t..), a1 (row g+8), b0 (k 4t.. of column g).
__device__ __forceinline__ void mma_s8_k16(int (&d)[4], unsigned a0, unsigned a1, unsigned b0, int c) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%7, %7, %7, %7};"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a0), "r"(a1), "r"(b0), "r"(c));
}

// acc += A·B for fp16 A (16×16: a[0] = row g k 2t..2t+1, a[1] row g+8, a[2]/a[3] k 2t+8..) and B
// (16×8: b0 = k 2t..2t+1 of column g, b1 = k 2t+8..), f32 accumulators.
__device__ __forceinline__ void mma_f16_k16(float (&acc)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

//===----------------------------------------------------------------------===//
// Half precision
//===----------------------------------------------------------------------===//

// The low 16 bits of `bits` as an IEEE half, widened exactly.
__device__ __forceinline__ float half_to_float(unsigned bits) {
  float f;
  asm("{ .reg .b16 h; cvt.u16.u32 h, %1; cvt.f32.f16 %0, h; }" : "=f"(f) : "r"(bits));
  return f;
}

// Two floats rounded to nearest-even halves, `lo` in the low 16 bits.
__device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
  unsigned packed;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
  return packed;
}

// x and y as high halves and the halves of what they leave (x ≈ hi + lo to ~22 bits): an fp16
// operand pair that keeps a float's precision through two mmas.
struct HalfPairs {
  unsigned hi, lo;
};
__device__ __forceinline__ HalfPairs split_halves(float x, float y) {
  const unsigned hi = pack_half2(x, y);
  return {hi, pack_half2(x - half_to_float(hi), y - half_to_float(hi >> 16))};
}

// A float rounded to the nearest-even half.
__device__ __forceinline__ unsigned float_to_half_bits(float f) {
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

}  // namespace g4c::mm
