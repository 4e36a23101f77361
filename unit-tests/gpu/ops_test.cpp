// The non-matmul, non-attention kernels against their CPU ops (runtime/cpu/ops.cpp), through the
// launchers the executor calls (runtime/gpu/launch_ops.h), at the 12B and E4B shapes and at odd
// ones. Inputs are random (never zero), outputs start poisoned (NaN / 0xFF) so anything a kernel
// fails to write shows. Tolerances: bit-exact where the kernel performs the CPU's exact operations
// (gathers, adds, scales, cache stores, argmax, random weights); 1e-5 of the largest |reference|
// for float reductions and transcendental functions, whose order or last bit may differ.
#include <algorithm>
#include <cstring>

#include "g4c/kernels/matmul_args.h"
#include "g4c/kernels/quant_host.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/runtime/cpu_ops.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "g4c/runtime/load_weights.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/gpu/cuda.h"
#include "gpu_support.h"

namespace g4c {
namespace {

using plan::Attr;
using plan::Ident;
using plan::KernelInstance;

using plan::kernel_instance;

constexpr double kReductionTolerance = 1e-5;

void expect_close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, double tol) {
  const testing::Deviation d = testing::deviation(got, want);
  std::cout << "  " << what << ": " << d.describe() << ", relative " << d.relative() << " (tolerance " << tol << ")\n";
  EXPECT_LE(d.relative(), tol) << what << ": " << d.describe();
}

// Bit-identical floats; the first difference (index, both values) when not.
void expect_same_bits(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], 4) != 0) {
      ADD_FAILURE() << what << ": first difference at " << i << ": " << got[i] << " vs " << want[i] << " ("
                    << std::count_if(got.begin(), got.end(), [&, j = size_t{0}](const float& g) mutable {
                         return std::memcmp(&g, &want[j++], 4) != 0;
                       })
                    << " of " << got.size() << " differ)";
      return;
    }
}

class OpsTest : public testing::GpuTest {};

TEST_F(OpsTest, RmsNormMatchesCpuInPlaceAndOut) {
  const int64_t groups[] = {3840, 2560, 256, 512, 128, 32, 48};
  std::vector<KernelInstance> instances;
  for (int64_t g : groups)
    for (bool weighted : {false, true}) instances.push_back(kernel_instance("rms_norm", {{"group", g}, {"weighted", weighted}}));
  gpu::KernelLibrary lib = load(instances);
  size_t k = 0;
  for (int64_t group : groups)
    for (bool weighted : {false, true}) {
      cudaKernel_t kernel = lib.find(instances[k++]);
      for (int64_t rows : {1, 7, 32})
        for (bool in_place : {false, true}) {
          // Per-head norms see rows of 16 heads; hidden norms one group per row.
          int64_t total = rows * (group <= 512 ? 16 * group : group);
          auto x = testing::random_floats(total, uint32_t(group + rows), 3.0f);
          auto w = testing::random_floats(group, 5);
          std::vector<float> want(total);
          cpu::rms_norm(x.data(), weighted ? w.data() : nullptr, want.data(), total, group, 1e-6f);
          gpu::DeviceBuffer dx = upload(x), dw = upload(w), dy = poisoned(total * 4);
          float* y = in_place ? dx.as<float>() : dy.as<float>();
          ASSERT_EQ(gpu::launch_rms_norm(kernel, {dx.as<float>(), weighted ? dw.as<float>() : nullptr, y, total, group, 1e-6f},
                                         nullptr),
                    cudaSuccess);
          sync();
          expect_close("rms_norm group " + std::to_string(group) + (weighted ? " weighted" : "") + " rows " +
                           std::to_string(rows) + (in_place ? " in place" : ""),
                       download<float>(in_place ? dx : dy, total), want, kReductionTolerance);
        }
    }
}

TEST_F(OpsTest, PleCombineWritesLayerMajorRowsOnly) {
  struct Shape {
    int64_t layers, width, rows, out_rows;
  };
  for (Shape s : {Shape{42, 256, 3, 4}, Shape{42, 256, 32, 32}, Shape{8, 16, 1, 4}}) {
    gpu::KernelLibrary lib = load({kernel_instance("ple_combine", {{"width", s.width}})});
    const int64_t in = s.rows * s.layers * s.width, out = s.layers * s.out_rows * s.width;
    auto proj = testing::random_floats(in, 1, 4.0f), rows = testing::random_floats(in, 2),
         norm = testing::random_floats(s.width, 3);
    std::vector<float> want(out, std::nanf(""));
    const float proj_scale = 0.0197642f, eps = 1e-6f, out_scale = 0.70710678f;
    cpu::ple_combine(proj.data(), rows.data(), norm.data(), want.data(), s.rows, s.out_rows, s.layers, s.width,
                     proj_scale, eps, out_scale);
    gpu::DeviceBuffer dp = upload(proj), dr = upload(rows), dn = upload(norm), dout = poisoned(out * 4);
    gpu::PleCombineCall call{dp.as<float>(), dr.as<float>(), dn.as<float>(), dout.as<float>(), s.rows, s.out_rows,
                             s.layers, s.width, proj_scale, eps, out_scale};
    ASSERT_EQ(gpu::launch_ple_combine(lib.find(kernel_instance("ple_combine", {{"width", s.width}})), call, nullptr),
              cudaSuccess);
    sync();
    std::vector<float> got = download<float>(dout, out), got_rows, want_rows;
    for (int64_t i = 0; i < out; ++i) {
      bool written = (i / s.width) % s.out_rows < s.rows;
      if (written) got_rows.push_back(got[i]), want_rows.push_back(want[i]);
      else EXPECT_TRUE(std::isnan(got[i])) << "ple_combine wrote past its rows at " << i;
    }
    expect_close("ple_combine " + std::to_string(s.layers) + " x " + std::to_string(s.width) + ", " +
                     std::to_string(s.rows) + " of " + std::to_string(s.out_rows) + " rows",
                 got_rows, want_rows, kReductionTolerance);
  }
}

TEST_F(OpsTest, RopeMatchesTheDoubleAngleCpuOp) {
  struct Shape {
    int64_t head_dim, pairs, heads;
    double theta;
  };
  const std::vector<int32_t> positions = {0, 1, 1023, 1024, 2051, 40000, 262143};
  for (Shape s : {Shape{256, 128, 16, 1e4}, Shape{512, 64, 16, 1e6}, Shape{32, 16, 4, 1e4}, Shape{64, 8, 2, 1e6}})
    for (bool in_place : {true, false}) {
      KernelInstance k = kernel_instance("rope", {{"head_dim", s.head_dim}, {"rotated_pairs", s.pairs}});
      gpu::KernelLibrary lib = load({k});
      const int64_t rows = static_cast<int64_t>(positions.size()), row_elems = s.heads * s.head_dim;
      auto x = testing::random_floats(rows * row_elems, uint32_t(s.head_dim), 2.0f);
      std::vector<float> want(x.size());
      cpu::rope(x.data(), positions.data(), want.data(), rows, row_elems, s.head_dim, s.pairs, s.theta);
      gpu::DeviceBuffer dx = upload(x), dpos = upload(positions), dy = poisoned(x.size() * 4);
      gpu::DeviceBuffer& out = in_place ? dx : dy;
      ASSERT_EQ(gpu::launch_rope(lib.find(k), {dx.as<float>(), out.as<float>(), dpos.as<int32_t>(), rows, row_elems,
                                               s.head_dim, s.theta},
                                 nullptr),
                cudaSuccess);
      sync();
      expect_close("rope " + std::to_string(s.head_dim) + "/" + std::to_string(s.pairs) + (in_place ? " in place" : ""),
                   download<float>(out, x.size()), want, 1e-5);
    }
}

// The last `count` floats of a device buffer of count + shift, from `shift` on.
std::vector<float> shifted(const std::vector<float>& all, int64_t shift, int64_t count) {
  return std::vector<float>(all.begin() + shift, all.begin() + shift + count);
}

// add_rms_norm against cpu::add_rms_norm (rms_norm, then add): written elsewhere, over the
// residual (the plan's in-place add) and over x; with 16-byte aligned pointers (float4 access) and
// shifted by one float (the scalar path). Nothing is written outside the result. Rows of whole
// super-blocks take eight floats a thread (3840 … 1536); a row of other sizes past 1024 (1100) or
// of more than 32 super-blocks (10752) takes 256 threads.
TEST_F(OpsTest, AddRmsNormMatchesCpuOverEitherInputAndOut) {
  const int64_t groups[] = {3840, 2560, 5376, 1536, 1100, 10752, 256, 48, 6};
  std::vector<KernelInstance> instances;
  for (int64_t g : groups)
    for (bool weighted : {false, true})
      instances.push_back(kernel_instance("add_rms_norm", {{"group", g}, {"weighted", weighted}}));
  gpu::KernelLibrary lib = load(instances);
  enum class Target { out, residual, x };
  size_t k = 0;
  for (int64_t group : groups)
    for (bool weighted : {false, true}) {
      cudaKernel_t kernel = lib.find(instances[k++]);
      for (int64_t rows : {1, 7, 32})
        for (Target target : {Target::out, Target::residual, Target::x})
          for (int64_t shift : {0, 1}) {
            const int64_t total = rows * group;
            auto residual = testing::random_floats(total + 1, uint32_t(group + rows), 4.0f);
            auto x = testing::random_floats(total + 1, uint32_t(3 * group + rows), 3.0f);
            auto w = testing::random_floats(group + 1, 7);
            std::vector<float> want(total);
            cpu::add_rms_norm(residual.data() + shift, x.data() + shift, weighted ? w.data() + shift : nullptr,
                              want.data(), total, group, 1e-6f);
            gpu::DeviceBuffer dr = upload(residual), dx = upload(x), dw = upload(w), dy = poisoned((total + 1) * 4);
            gpu::DeviceBuffer& out = target == Target::residual ? dr : target == Target::x ? dx : dy;
            const gpu::AddRmsNormCall call{dr.as<float>() + shift, dx.as<float>() + shift,
                                           weighted ? dw.as<float>() + shift : nullptr, out.as<float>() + shift,
                                           total, group, 1e-6f};
            ASSERT_EQ(gpu::launch_add_rms_norm(kernel, call, nullptr), cudaSuccess);
            sync();
            std::vector<float> all = download<float>(out, total + 1);
            if (target == Target::out) {
              EXPECT_TRUE(std::isnan(all[shift ? 0 : total])) << "add_rms_norm wrote outside its result";
            }
            expect_close("add_rms_norm group " + std::to_string(group) + (weighted ? " weighted" : "") + " rows " +
                             std::to_string(rows) +
                             (target == Target::residual ? " over the residual" : target == Target::x ? " over x" : "") +
                             (shift ? " unaligned" : ""),
                         shifted(all, shift, total), want, kReductionTolerance);
          }
    }
}

// rms_norm_rope against cpu::rms_norm_rope (rms_norm per head, then rope) at the 12B's and E4B's
// Q and K shapes (16 query heads, 8 or 1 KV heads), small and odd heads, and a 2048 head normed
// by a whole block; positions up to the longest context; in place and out, aligned and not.
TEST_F(OpsTest, RmsNormRopeMatchesTheCpuNormThenRope) {
  struct Shape {
    int64_t head_dim, pairs, heads;
    double theta;
  };
  const Shape shapes[] = {{256, 128, 16, 1e4}, {256, 128, 8, 1e4}, {512, 64, 16, 1e6}, {512, 64, 1, 1e6},
                          {128, 64, 4, 1e4},   {32, 16, 4, 1e4},   {64, 8, 2, 1e6},     {6, 3, 5, 1e4},
                          {2048, 256, 2, 1e6}, {256, 0, 2, 1e4}};
  const std::vector<int32_t> positions = {0, 1, 1023, 1024, 2051, 40000, 262143};
  std::vector<KernelInstance> instances;
  for (const Shape& s : shapes)
    for (bool weighted : {false, true})
      instances.push_back(kernel_instance(
          "rms_norm_rope", {{"head_dim", s.head_dim}, {"rotated_pairs", s.pairs}, {"weighted", weighted}}));
  gpu::KernelLibrary lib = load(instances);
  size_t k = 0;
  for (const Shape& s : shapes)
    for (bool weighted : {false, true}) {
      cudaKernel_t kernel = lib.find(instances[k++]);
      const int64_t rows = static_cast<int64_t>(positions.size()), row_elems = s.heads * s.head_dim;
      const int64_t total = rows * row_elems;
      for (bool in_place : {true, false})
        for (int64_t shift : {0, 1}) {
          auto x = testing::random_floats(total + 1, uint32_t(s.head_dim + s.heads), 3.0f);
          auto w = testing::random_floats(s.head_dim + 1, 11);
          std::vector<float> want(total);
          cpu::rms_norm_rope(x.data() + shift, weighted ? w.data() + shift : nullptr, positions.data(), want.data(),
                             rows, row_elems, 1e-6f, s.head_dim, s.pairs, s.theta);
          // The kernel looks row r's angles up at table row pos[r]: here row r holds the CPU's
          // (cos, sin) at positions[r], so the table stays small while the positions reach 262143.
          std::vector<cpu::CosSin> table;
          std::vector<int32_t> table_rows;
          for (int32_t p : positions) {
            table_rows.push_back(static_cast<int32_t>(table_rows.size()));
            for (int64_t pair = 0; pair < s.pairs; ++pair) table.push_back(cpu::rope_cos_sin(s.theta, s.head_dim, p, pair));
          }
          table.push_back({});  // never empty
          gpu::DeviceBuffer dx = upload(x), dw = upload(w), dpos = upload(table_rows), dy = poisoned((total + 1) * 4);
          gpu::DeviceBuffer dtable = upload(table);
          gpu::DeviceBuffer& out = in_place ? dx : dy;
          gpu::RmsNormRopeCall call{dx.as<float>() + shift, weighted ? dw.as<float>() + shift : nullptr,
                                    out.as<float>() + shift, dpos.as<int32_t>(), rows, row_elems,
                                    s.head_dim, 1e-6f, s.theta};
          call.table = dtable.as<float>();
          ASSERT_EQ(gpu::launch_rms_norm_rope(kernel, call, nullptr), cudaSuccess);
          sync();
          std::vector<float> all = download<float>(out, total + 1);
          if (!in_place) {
            EXPECT_TRUE(std::isnan(all[shift ? 0 : total])) << "rms_norm_rope wrote outside its result";
          }
          expect_close("rms_norm_rope " + std::to_string(s.head_dim) + "/" + std::to_string(s.pairs) + " x " +
                           std::to_string(s.heads) + (weighted ? " weighted" : "") + (in_place ? " in place" : "") +
                           (shift ? " unaligned" : ""),
                       shifted(all, shift, total), want, kReductionTolerance);
        }
    }
}

TEST_F(OpsTest, EmbedGatherDequantizesRowsBitForBit) {
  struct Table {
    QuantType type;
    int64_t ne0;
  };
  const Table tables[] = {{QuantType::Q6_K, 3840}, {QuantType::Q8_0, 2560}, {QuantType::Q8_0, 10752},
                          {QuantType::Q4_0, 2560}, {QuantType::Q4_K, 1536}, {QuantType::Q5_K, 768},
                          {QuantType::F16, 2560},  {QuantType::BF16, 3840}, {QuantType::F32, 1000}};
  for (Table t : tables) {
    KernelInstance k = kernel_instance("embed_gather", {{"type", Ident{std::string(name(t.type))}}});
    gpu::KernelLibrary lib = load({k});
    const int64_t ne1 = 97;
    auto values = testing::random_floats(t.ne0 * ne1, uint32_t(t.ne0));
    std::vector<uint8_t> bytes(row_bytes(t.type, t.ne0) * ne1);
    quantize_row(t.type, values.data(), bytes.data(), t.ne0 * ne1);
    HostTensor table{"table", t.type, t.ne0, ne1, bytes};
    const std::vector<int32_t> ids = {5, 0, 96, 5, 41, 17, 88};
    const float scale = t.ne0 == 10752 ? 16.0f : std::sqrt(float(t.ne0));
    std::vector<float> want(ids.size() * t.ne0);
    cpu::embed_gather(table, ids.data(), scale, want.data(), static_cast<int64_t>(ids.size()));
    gpu::DeviceBuffer dt = upload(bytes), dids = upload(ids), dout = poisoned(want.size() * 4);
    ASSERT_EQ(gpu::launch_embed_gather(lib.find(k), {dt.get(), dids.as<int32_t>(), dout.as<float>(), t.ne0,
                                                     static_cast<int64_t>(ids.size()), scale},
                                       nullptr),
              cudaSuccess);
    sync();
    expect_close("embed_gather " + std::string(name(t.type)) + " " + std::to_string(t.ne0),
                 download<float>(dout, want.size()), want, 0.0);
    if (!mma16_supports(t.type) || t.ne0 % 256 != 0) continue;
    // The same rows gathered from the table repacked for mma16 (a tied LM head on that route):
    // 97 rows leave the last 16-row tile part empty, and row 96 is in it.
    KernelInstance repacked_k = kernel_instance("embed_gather", {{"type", Ident{std::string(name(t.type))}},
                                                                 {"layout", Ident{"mma16"}}});
    gpu::KernelLibrary repacked_lib = load({repacked_k});
    gpu::DeviceBuffer drepacked = upload(repack_mma16(t.type, ne1, t.ne0, bytes.data())),
                      drepacked_out = poisoned(want.size() * 4);
    gpu::EmbedGatherCall call{drepacked.get(), dids.as<int32_t>(), drepacked_out.as<float>(), t.ne0,
                              static_cast<int64_t>(ids.size()), scale, ne1};
    call.mma16_layout = true;
    ASSERT_EQ(gpu::launch_embed_gather(repacked_lib.find(repacked_k), call, nullptr), cudaSuccess);
    sync();
    expect_close("embed_gather from mma16 " + std::string(name(t.type)) + " " + std::to_string(t.ne0),
                 download<float>(drepacked_out, want.size()), want, 0.0);
  }
}

// A V-only cache (v_only = true) has no K array: kv_write gets no K and stores V alone.
TEST_F(OpsTest, KvWriteStoresTheCpuCacheBytes) {
  struct Cache {
    plan::KvKind kind;
    int64_t head_dim, kv_heads, slots;
    QuantType dtype;
    bool v_only = false;
  };
  const Cache caches[] = {{plan::KvKind::ring, 256, 8, 1024, QuantType::F16},
                          {plan::KvKind::full, 512, 1, 4096, QuantType::F16},
                          {plan::KvKind::full, 512, 2, 600, QuantType::BF16},
                          {plan::KvKind::ring, 32, 2, 4, QuantType::F32},
                          {plan::KvKind::full, 64, 2, 128, QuantType::BF16},
                          {plan::KvKind::full, 512, 1, 4096, QuantType::F16, true},
                          {plan::KvKind::ring, 32, 2, 4, QuantType::F32, true}};
  for (const Cache& c : caches) {
    std::vector<plan::Attr> constants = {{"kind", Ident{std::string(plan::name(c.kind))}},
                                         {"head_dim", c.head_dim},
                                         {"kv_heads", c.kv_heads},
                                         {"dtype", Ident{std::string(name(c.dtype))}}};
    if (c.v_only) constants.push_back({"storage", Ident{"v_only"}});
    KernelInstance k = kernel_instance("kv_write", std::move(constants));
    gpu::KernelLibrary lib = load({k});
    const int64_t sequences = 4, row_elems = c.kv_heads * c.head_dim;
    const size_t cache_bytes = size_t(sequences * c.slots * row_elems * (c.dtype == QuantType::F32 ? 4 : 2));
    std::vector<uint8_t> k_cache(cache_bytes, 0x5A), v_cache(cache_bytes, 0xA5);
    // Ring positions beyond the window wrap; a padding row (seq −1) must store nothing.
    const int32_t far = c.kind == plan::KvKind::ring ? int32_t(3 * c.slots + 2) : int32_t(c.slots - 1);
    const std::vector<int32_t> pos = {0, far, 7 % int32_t(c.slots), 2, int32_t(c.slots / 2)};
    const std::vector<int32_t> seq = {0, 3, -1, 1, 2};
    const int64_t rows = static_cast<int64_t>(pos.size());
    auto kv = testing::random_floats(rows * row_elems, 1, 3.0f), vv = testing::random_floats(rows * row_elems, 2, 3.0f);
    gpu::DeviceBuffer dk = upload(kv), dv = upload(vv), dpos = upload(pos), dseq = upload(seq);
    gpu::DeviceBuffer dkc = upload(k_cache), dvc = upload(v_cache);
    const std::vector<float> unit_norm(size_t(c.head_dim), 1.0f);  // marks the view V-only; kv_write ignores it
    cpu::KvCacheView view{c.v_only ? nullptr : k_cache.data(), v_cache.data(), c.dtype, c.kind, c.slots, c.kv_heads,
                          c.head_dim, 0, c.v_only ? unit_norm.data() : nullptr};
    cpu::kv_write(c.v_only ? nullptr : kv.data(), vv.data(), pos.data(), seq.data(), rows, view);
    gpu::KvWriteCall call{c.v_only ? nullptr : dk.as<float>(), dv.as<float>(), dpos.as<int32_t>(), dseq.as<int32_t>(),
                          {c.v_only ? nullptr : dkc.get(), dvc.get(), c.dtype, c.slots, c.kv_heads, c.head_dim}, rows};
    ASSERT_EQ(gpu::launch_kv_write(lib.find(k), call, nullptr), cudaSuccess);
    sync();
    std::string what = k.key();
    if (!c.v_only) EXPECT_TRUE(download<uint8_t>(dkc, cache_bytes) == k_cache) << what << ": K cache bytes differ";
    EXPECT_TRUE(download<uint8_t>(dvc, cache_bytes) == v_cache) << what << ": V cache bytes differ";
    std::cout << "  " << what << ": cache bytes compared\n";
  }
}

TEST_F(OpsTest, ElementwiseOpsMatchCpuAlignedAndNot) {
  std::vector<KernelInstance> k = {kernel_instance("geglu"), kernel_instance("add"), kernel_instance("scale_by"), kernel_instance("softcap")};
  gpu::KernelLibrary lib = load(k);
  for (int64_t count : {int64_t{5 * 3840}, int64_t{32 * 15360}, int64_t{1027}})
    for (int64_t offset : {0, 1}) {  // offset 1: not 16-byte aligned, the scalar path
      auto a = testing::random_floats(count + 1, 1, 6.0f), b = testing::random_floats(count + 1, 2, 6.0f);
      auto logits = testing::random_floats(count + 1, 3, 80.0f);
      const std::vector<float> factor = {0.6123f};
      gpu::DeviceBuffer da = upload(a), db = upload(b), dl = upload(logits), df = upload(factor);
      gpu::DeviceBuffer dy = poisoned((count + 1) * 4);
      const float *pa = da.as<float>() + offset, *pb = db.as<float>() + offset;
      float* py = dy.as<float>() + offset;
      std::string shape = " count " + std::to_string(count) + (offset ? " unaligned" : "");
      std::vector<float> want(count);
      auto result = [&] {
        sync();
        return download<float>(dy, count + 1);
      };
      auto tail = [&](std::vector<float> v) { return std::vector<float>(v.begin() + offset, v.begin() + offset + count); };

      cpu::geglu(a.data() + offset, b.data() + offset, want.data(), count);
      dy.fill(0xFF);
      ASSERT_EQ(gpu::launch_geglu(lib.find(k[0]), {pa, pb, nullptr, py, count}, nullptr), cudaSuccess);
      expect_close("geglu" + shape, tail(result()), want, kReductionTolerance);

      cpu::add(a.data() + offset, b.data() + offset, want.data(), count);
      dy.fill(0xFF);
      ASSERT_EQ(gpu::launch_add(lib.find(k[1]), {pa, pb, nullptr, py, count}, nullptr), cudaSuccess);
      expect_close("add" + shape, tail(result()), want, 0.0);

      cpu::scale(a.data() + offset, factor[0], want.data(), count);
      dy.fill(0xFF);
      ASSERT_EQ(gpu::launch_scale_by(lib.find(k[2]), {pa, nullptr, df.as<float>(), py, count}, nullptr), cudaSuccess);
      expect_close("scale_by" + shape, tail(result()), want, 0.0);

      // In place, as the plan runs it: y = x.
      cpu::softcap(logits.data() + offset, 30.0f, want.data(), count);
      float* pl = dl.as<float>() + offset;
      ASSERT_EQ(gpu::launch_softcap(lib.find(k[3]), {pl, nullptr, nullptr, pl, count, 30.0f}, nullptr), cudaSuccess);
      sync();
      expect_close("softcap in place" + shape, tail(download<float>(dl, count + 1)), want, kReductionTolerance);
    }
}

using testing::launch_route_quantization;

// quantize-in-producer: rms_norm {quantize} and geglu {quantize} write the f32 result the plain
// kernel writes and, byte for byte, the int8 activations the route's own kernel (quantize_q8_1,
// quantize_mma16) makes of it, for every row and super-block (the activations start poisoned);
// norms over whole rows of a warp (512) and of a block (3840), geglu out of place and in place.
TEST_F(OpsTest, NormAndGegluWriteTheActivationsTheRoutesKernelsMake) {
  for (const plan::ActivationFormat format : {plan::ActivationFormat::q8_1, plan::ActivationFormat::mma16}) {
    const Ident q{std::string(plan::name(format))};
    const char* own = format == plan::ActivationFormat::q8_1 ? "quantize_q8_1" : "quantize_mma16";
    std::vector<KernelInstance> k = {kernel_instance(own), kernel_instance("geglu"), kernel_instance("geglu", {{"quantize", q}})};
    for (int64_t group : {3840, 512})
      for (bool quantizing : {false, true}) {
        std::vector<Attr> attrs = {{"group", group}, {"weighted", true}};
        if (quantizing) attrs.push_back({"quantize", q});
        k.push_back(kernel_instance("rms_norm", attrs));
      }
    gpu::KernelLibrary lib = load(k);
    auto quantize_rows = [&](const float* x, void* x_q, int64_t rows, int64_t cols) {
      return launch_route_quantization(lib.find(k[0]), x, x_q, rows, cols);
    };
    auto expect_same = [&](const std::string& what, const gpu::DeviceBuffer& got, const gpu::DeviceBuffer& want,
                           size_t bytes) {
      sync();
      EXPECT_EQ(download<uint8_t>(got, bytes), download<uint8_t>(want, bytes)) << what << " " << q.text;
    };
    for (int64_t rows : {1, 5, 32}) {
      for (int64_t g = 0; g < 2; ++g) {
        const int64_t group = g == 0 ? 3840 : 512, total = rows * group;
        const size_t q_bytes = rows * plan::activation_seq_bytes(format, group);
        auto x = testing::random_floats(total, uint32_t(group + rows), 3.0f), w = testing::random_floats(group, 5);
        gpu::DeviceBuffer dx = upload(x), dw = upload(w), y_want = poisoned(total * 4), y_got = poisoned(total * 4);
        gpu::DeviceBuffer q_want = poisoned(q_bytes), q_got = poisoned(q_bytes);
        ASSERT_EQ(gpu::launch_rms_norm(lib.find(k[3 + 2 * g]), {dx.as<float>(), dw.as<float>(), y_want.as<float>(), total,
                                                                group, 1e-6f}, nullptr), cudaSuccess);
        ASSERT_EQ(quantize_rows(y_want.as<float>(), q_want.get(), rows, group), cudaSuccess);
        ASSERT_EQ(gpu::launch_rms_norm(lib.find(k[4 + 2 * g]), {dx.as<float>(), dw.as<float>(), y_got.as<float>(), total,
                                                                group, 1e-6f, q_got.get()}, nullptr), cudaSuccess);
        const std::string what = "rms_norm group " + std::to_string(group) + " rows " + std::to_string(rows);
        expect_same(what + " result", y_got, y_want, total * 4);
        expect_same(what + " activations", q_got, q_want, q_bytes);
      }
      for (int64_t cols : {int64_t{15360}, int64_t{512}})
        for (bool in_place : {false, true}) {
          const int64_t total = rows * cols;
          const size_t q_bytes = rows * plan::activation_seq_bytes(format, cols);
          auto gate = testing::random_floats(total, uint32_t(cols + rows), 4.0f), up = testing::random_floats(total, 9, 4.0f);
          gpu::DeviceBuffer d_gate = upload(gate), d_up = upload(up), y_want = poisoned(total * 4), y_got = poisoned(total * 4);
          gpu::DeviceBuffer q_want = poisoned(q_bytes), q_got = poisoned(q_bytes);
          ASSERT_EQ(gpu::launch_geglu(lib.find(k[1]), {d_gate.as<float>(), d_up.as<float>(), nullptr, y_want.as<float>(), total},
                                      nullptr), cudaSuccess);
          ASSERT_EQ(quantize_rows(y_want.as<float>(), q_want.get(), rows, cols), cudaSuccess);
          float* y = in_place ? d_gate.as<float>() : y_got.as<float>();
          ASSERT_EQ(gpu::launch_geglu_quantize(lib.find(k[2]), {d_gate.as<float>(), d_up.as<float>(), y, q_got.get(), rows, cols},
                                               nullptr), cudaSuccess);
          const std::string what = "geglu cols " + std::to_string(cols) + " rows " + std::to_string(rows) +
                                   (in_place ? " in place" : "");
          expect_same(what + " result", in_place ? d_gate : y_got, y_want, total * 4);
          expect_same(what + " activations", q_got, q_want, q_bytes);
        }
    }
  }
}

// norm-chains: add_rms_norm {scale, then_norm, quantize} writes, bit for bit, what add_rms_norm,
// scale_by, rms_norm and the route's quantization write one after another (outputs poisoned):
// rows of a block (3840) and of a warp (512), with q8_1 and mma16 activations and without.
TEST_F(OpsTest, NormChainWritesWhatItsKernelsWriteApart) {
  const int64_t groups[] = {3840, 512};
  for (const char* format : {"", "q8_1", "mma16"}) {
    std::vector<KernelInstance> k = {kernel_instance("scale_by"),
                                     kernel_instance(std::string(format) == "q8_1" ? "quantize_q8_1" : "quantize_mma16")};
    for (int64_t group : groups) {
      k.push_back(kernel_instance("add_rms_norm", {{"group", group}, {"weighted", true}}));
      k.push_back(kernel_instance("rms_norm", {{"group", group}, {"weighted", true}}));
      std::vector<Attr> chain = {{"group", group}, {"weighted", true}, {"scale", true}, {"then_norm", true}};
      if (*format) chain.push_back({"quantize", Ident{format}});
      k.push_back(kernel_instance("add_rms_norm", chain));
    }
    gpu::KernelLibrary lib = load(k);
    for (size_t g = 0; g < 2; ++g)
      for (int64_t rows : {1, 5, 32}) {
        const int64_t group = groups[g], total = rows * group;
        const size_t q_bytes =
            *format ? rows * plan::activation_seq_bytes(*plan::parse_activation_format(format), group) : 0;
        auto residual = testing::random_floats(total, uint32_t(rows), 3.0f), x = testing::random_floats(total, 7, 3.0f);
        auto w = testing::random_floats(group, 5), then_w = testing::random_floats(group, 6);
        const std::vector<float> factor = {0.3717f};
        gpu::DeviceBuffer d_res = upload(residual), dx = upload(x), dw = upload(w), d_tw = upload(then_w), df = upload(factor);
        gpu::DeviceBuffer row_want = upload(residual), then_want = poisoned(total * 4), q_want = poisoned(q_bytes + 16);
        // Apart, in place over the residual as the plan runs them.
        float* r = row_want.as<float>();
        ASSERT_EQ(gpu::launch_add_rms_norm(lib.find(k[2 + 3 * g]), {r, dx.as<float>(), dw.as<float>(), r, total, group, 1e-6f},
                                           nullptr), cudaSuccess);
        ASSERT_EQ(gpu::launch_scale_by(lib.find(k[0]), {r, nullptr, df.as<float>(), r, total}, nullptr), cudaSuccess);
        ASSERT_EQ(gpu::launch_rms_norm(lib.find(k[3 + 3 * g]), {r, d_tw.as<float>(), then_want.as<float>(), total, group, 1e-6f},
                                       nullptr), cudaSuccess);
        if (*format)
          ASSERT_EQ(launch_route_quantization(lib.find(k[1]), then_want.as<float>(), q_want.get(), rows, group), cudaSuccess);
        // One launch.
        gpu::DeviceBuffer row_got = upload(residual), then_got = poisoned(total * 4), q_got = poisoned(q_bytes + 16);
        float* rg = row_got.as<float>();
        gpu::AddRmsNormCall c{rg, dx.as<float>(), dw.as<float>(), rg, total, group, 1e-6f};
        c.scale = df.as<float>();
        c.then_weight = d_tw.as<float>();
        c.then_y = then_got.as<float>();
        c.x_q = *format ? q_got.get() : nullptr;
        ASSERT_EQ(gpu::launch_add_rms_norm(lib.find(k[4 + 3 * g]), c, nullptr), cudaSuccess);
        sync();
        const std::string what = std::string("chain ") + (*format ? format : "f32") + " group " + std::to_string(group) +
                                 " rows " + std::to_string(rows);
        expect_same_bits(what + ": scaled row", download<float>(row_got, total), download<float>(row_want, total));
        expect_same_bits(what + ": next norm", download<float>(then_got, total), download<float>(then_want, total));
        EXPECT_EQ(download<uint8_t>(q_got, q_bytes + 16), download<uint8_t>(q_want, q_bytes + 16)) << what << ": activations";
      }
  }
}

// attention-inputs: attention_inputs writes, bit for bit, what rms_norm_rope (Q, K), rms_norm (V)
// and kv_write write one after another, in place as the plan runs them: Q, K and V and both
// caches' bytes, on a sliding ring (positions that wrap), a v_only global cache (no K heads), BF16
// and F32 caches, with a padding row that stores nothing; with the RoPE table and without.
TEST_F(OpsTest, AttentionInputsWriteWhatTheirKernelsWriteApart) {
  struct Layer {
    plan::KvKind kind;
    int64_t head_dim, pairs, q_heads, kv_heads, slots;
    QuantType dtype;
    bool v_only;
  };
  const Layer layers[] = {{plan::KvKind::ring, 256, 128, 16, 8, 1024, QuantType::F16, false},
                          {plan::KvKind::full, 512, 64, 16, 1, 4096, QuantType::F16, true},
                          {plan::KvKind::full, 64, 8, 4, 2, 600, QuantType::BF16, false},
                          {plan::KvKind::ring, 32, 16, 4, 2, 4, QuantType::F32, false}};
  const double theta = 1e4;
  for (const Layer& c : layers) {
    std::vector<Attr> cache = {{"kind", Ident{std::string(plan::name(c.kind))}},
                               {"head_dim", c.head_dim},
                               {"kv_heads", c.kv_heads},
                               {"dtype", Ident{std::string(name(c.dtype))}}};
    std::vector<Attr> write = cache, fused = cache;
    fused.push_back({"rotated_pairs", c.pairs});
    if (c.v_only) write.push_back({"storage", Ident{"v_only"}}), fused.push_back({"storage", Ident{"v_only"}});
    const std::vector<KernelInstance> k = {
        kernel_instance("rms_norm_rope", {{"head_dim", c.head_dim}, {"rotated_pairs", c.pairs}, {"weighted", true}}),
        kernel_instance("rms_norm", {{"group", c.head_dim}, {"weighted", false}}), kernel_instance("kv_write", write),
        kernel_instance("attention_inputs", fused)};
    gpu::KernelLibrary lib = load(k);
    const int32_t far = c.kind == plan::KvKind::ring ? int32_t(3 * c.slots + 2) : int32_t(c.slots - 1);
    const std::vector<int32_t> pos = {0, far, 7 % int32_t(c.slots), 2, int32_t(c.slots / 2)};
    const std::vector<int32_t> seq = {0, 3, -1, 1, 2};
    const int64_t rows = static_cast<int64_t>(pos.size()), sequences = 4;
    const int64_t q_total = rows * c.q_heads * c.head_dim, kv_total = rows * c.kv_heads * c.head_dim;
    auto q = testing::random_floats(q_total, uint32_t(c.head_dim), 3.0f), key = testing::random_floats(kv_total, 2, 3.0f),
         value = testing::random_floats(kv_total, 3, 3.0f);
    auto q_w = testing::random_floats(c.head_dim, 4), k_w = testing::random_floats(c.head_dim, 5);
    std::vector<cpu::CosSin> table = cpu::rope_table(theta, c.head_dim, c.pairs, far + 1);
    table.push_back({});  // never empty
    const size_t cache_bytes = size_t(sequences * c.slots * c.kv_heads * c.head_dim * (c.dtype == QuantType::F32 ? 4 : 2));
    const std::vector<uint8_t> k_cache(cache_bytes, 0x5A), v_cache(cache_bytes, 0xA5);
    gpu::DeviceBuffer dpos = upload(pos), dseq = upload(seq), dqw = upload(q_w), dkw = upload(k_w), dtable = upload(table);
    struct Side {
      gpu::DeviceBuffer q, k, v, k_cache, v_cache;
    };
    auto side = [&] { return Side{upload(q), upload(key), upload(value), upload(k_cache), upload(v_cache)}; };
    for (bool tables : {true, false}) {
      const float* table_ptr = tables ? dtable.as<float>() : nullptr;
      Side apart = side(), one = side();
      const gpu::KvCacheRef apart_cache{c.v_only ? nullptr : apart.k_cache.get(), apart.v_cache.get(), c.dtype, c.slots,
                                        c.kv_heads, c.head_dim, sequences};
      gpu::RmsNormRopeCall q_call{apart.q.as<float>(), dqw.as<float>(), apart.q.as<float>(), dpos.as<int32_t>(), rows,
                                  c.q_heads * c.head_dim, c.head_dim, 1e-6f, theta, table_ptr};
      gpu::RmsNormRopeCall k_call = q_call;
      k_call.x = k_call.y = apart.k.as<float>(), k_call.weight = dkw.as<float>(), k_call.row_elems = c.kv_heads * c.head_dim;
      ASSERT_EQ(gpu::launch_rms_norm_rope(lib.find(k[0]), q_call, nullptr), cudaSuccess);
      if (!c.v_only) ASSERT_EQ(gpu::launch_rms_norm_rope(lib.find(k[0]), k_call, nullptr), cudaSuccess);
      ASSERT_EQ(gpu::launch_rms_norm(lib.find(k[1]), {apart.v.as<float>(), nullptr, apart.v.as<float>(), kv_total, c.head_dim, 1e-6f},
                                     nullptr), cudaSuccess);
      ASSERT_EQ(gpu::launch_kv_write(lib.find(k[2]), {c.v_only ? nullptr : apart.k.as<float>(), apart.v.as<float>(),
                                                      dpos.as<int32_t>(), dseq.as<int32_t>(), apart_cache, rows},
                                     nullptr), cudaSuccess);
      gpu::AttentionInputsCall call;
      call.q = {one.q.as<float>(), dqw.as<float>(), one.q.as<float>(), 1e-6f, c.q_heads};
      if (!c.v_only) call.k = {one.k.as<float>(), dkw.as<float>(), one.k.as<float>(), 1e-6f, c.kv_heads};
      call.v = {one.v.as<float>(), nullptr, one.v.as<float>(), 1e-6f, c.kv_heads};
      call.pos = dpos.as<int32_t>(), call.seq = dseq.as<int32_t>(), call.table = table_ptr, call.theta = theta;
      call.cache = {c.v_only ? nullptr : one.k_cache.get(), one.v_cache.get(), c.dtype, c.slots, c.kv_heads, c.head_dim, sequences};
      call.rows = rows;
      ASSERT_EQ(gpu::launch_attention_inputs(lib.find(k[3]), call, nullptr), cudaSuccess);
      sync();
      const std::string what = k[3].key() + (tables ? "" : " without tables");
      expect_same_bits(what + ": Q", download<float>(one.q, q_total), download<float>(apart.q, q_total));
      if (!c.v_only) expect_same_bits(what + ": K", download<float>(one.k, kv_total), download<float>(apart.k, kv_total));
      expect_same_bits(what + ": V", download<float>(one.v, kv_total), download<float>(apart.v, kv_total));
      EXPECT_TRUE(download<uint8_t>(one.k_cache, cache_bytes) == download<uint8_t>(apart.k_cache, cache_bytes))
          << what << ": K cache bytes differ";
      EXPECT_TRUE(download<uint8_t>(one.v_cache, cache_bytes) == download<uint8_t>(apart.v_cache, cache_bytes))
          << what << ": V cache bytes differ";
      // Not two untouched caches compared: the rows were stored.
      EXPECT_FALSE(download<uint8_t>(one.v_cache, cache_bytes) == v_cache) << what << ": nothing stored";
      std::cout << "  " << what << ": Q, K, V and cache bytes compared\n";
    }
  }
}

TEST_F(OpsTest, SampleTakesTheFirstLargestLogit) {
  KernelInstance k = kernel_instance("sample");
  gpu::KernelLibrary lib = load({k});
  for (int64_t vocab : {int64_t{262144}, int64_t{1001}}) {
    const int64_t rows = 6;
    auto logits = testing::random_floats(rows * vocab, 4, 20.0f);
    float* row = logits.data();
    row[vocab - 3] = 40, row[11] = 40;                    // row 0: a tie, the first wins
    row[vocab + vocab - 1] = 41;                          // row 1: the last element
    std::fill(row + 2 * vocab, row + 3 * vocab, -2.5f);  // row 2: all equal → 0
    row[3 * vocab + 0] = 45;                              // row 3: the first element
    for (int64_t i = 0; i < vocab; i += 7) row[4 * vocab + i] = 33;  // row 4: many ties
    gpu::DeviceBuffer dl = upload(logits), dt = poisoned(rows * 4);
    ASSERT_EQ(gpu::launch_sample(lib.find(k), {dl.as<float>(), dt.as<int32_t>(), rows, vocab}, nullptr), cudaSuccess);
    sync();
    std::vector<int32_t> got = download<int32_t>(dt, rows);
    for (int64_t r = 0; r < rows; ++r)
      EXPECT_EQ(got[r], cpu::argmax(logits.data() + r * vocab, vocab)) << "vocab " << vocab << " row " << r;
  }
}

TEST_F(OpsTest, RandomWeightsEqualTheCpuGeneratorBytes) {
  for (QuantType type : kAllQuantTypes) {
    KernelInstance k = kernel_instance("random_weights", {{"type", Ident{std::string(name(type))}}});
    gpu::KernelLibrary lib = load({k});
    const int64_t block = info(type).block_elems;
    // A matrix, a norm vector and a layer scale: the three value kinds, several seeds per type.
    const std::vector<TensorShape> shapes = {{"blk.3.ffn_up.weight", type, 4 * 256, 37},
                                             {"blk.3.attn_norm.weight", type, 2 * 256, 1},
                                             {"blk.3.layer_output_scale.weight", type, block, 1}};
    WeightSet want = random_weights(shapes, 11);
    for (const TensorShape& shape : shapes) {
      const HostTensor& t = want.at(shape.name);
      gpu::DeviceBuffer out = poisoned(t.bytes.size());
      gpu::RandomWeightsCall call{random_tensor_params(shape, 11, count_layers(shapes)), out.get(), t.ne0 * t.ne1 / block};
      ASSERT_EQ(gpu::launch_random_weights(lib.find(k), call, nullptr), cudaSuccess);
      sync();
      std::vector<uint8_t> got = download<uint8_t>(out, t.bytes.size());
      EXPECT_TRUE(std::equal(got.begin(), got.end(), t.bytes.begin())) << shape.name << " " << name(type);
    }
    std::cout << "  random_weights " << name(type) << ": bytes compared for " << shapes.size() << " tensors\n";
  }
}

}  // namespace
}  // namespace g4c
