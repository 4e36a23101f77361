// Decode attention (attention.partial + attention.combine, through launch_attention) against
// g4c::cpu::attention, at the 12B sliding (GQA 16:8, ring of 1024, and of 1031 as chunked-prefill
// plans keep it) and global (MQA 16:1, head 512, contexts to 40000 so all 128 splits engage)
// shapes, E4B's 8:2, and the tiny fixtures; rows of one launch sit at different positions, and
// padding rows must come out as exact zeros. Every shape runs cut into 8, 32, 64 and 128 splits.
//
// Caches hold random values only at the positions a row may read; every other element keeps its
// 0xFF poison (NaN in F16, BF16 and F32), so a read outside a row's window shows as NaN. The
// scratch starts poisoned too (empty splits must never be read).
//
// V-only caches (a k_eq_v layer's, plan kv-storage): no K array exists at all (a read of K would
// fault), and the kernel rebuilds each key from V with the K-norm weight and the rope table; the
// CPU op rebuilds the same floats (KvCacheView::load_key), and the double reference takes its keys
// from there. Swapping rope pairs in the kernel (an injected bug) therefore shows here.
//
// Tolerance: 1e-4 of the largest |reference| against the same math in double. The float CPU op
// sums scores and outputs sequentially, and over 40000 keys that alone drifts by up to ~1e-4 of
// the output (measured), so the GPU is held to the double reference and to the CPU op within
// 1e-4 plus the CPU op's own drift; all three distances are printed. The one-launch form
// (combine = last_block) is held to the two kernels' bits.
//
// The tensor-core split (split = mma; up to 16 query heads a KV head over F16) is held to
// the same references at the 12B's and E4B's shapes, over K and V and over V alone
// (AttentionMmaTest).
#include <cstring>

#include "g4c/kernels/op_args.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/runtime/cpu_ops.h"
#include "g4c/runtime/gpu/launch_ops.h"
#include "gpu_support.h"

namespace g4c {
namespace {

using plan::Ident;
using plan::KernelInstance;
using plan::KvKind;

constexpr double kAttentionTolerance = 1e-4;

constexpr double kRebuildTheta = 1e6;  // the rope base of a V-only shape's keys

struct Shape {
  KvKind kind;
  int64_t head_dim, q_heads, kv_heads, window, slots;
  QuantType dtype;
  int64_t rotated_pairs = -1;  // a V-only cache's keys rotate this many pairs; -1: K and V stored

  bool v_only() const { return rotated_pairs >= 0; }
  int64_t element_bytes() const { return dtype == QuantType::F32 ? 4 : 2; }
  int64_t row_elems() const { return kv_heads * head_dim; }
  int64_t first_key(int64_t pos) const { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }
  Shape storing_v_only(int64_t pairs) const {
    Shape s = *this;
    s.rotated_pairs = pairs;
    return s;
  }

  // `fused`: the instance that merges its splits in its last block (combine = last_block); `mma`:
  // the tensor-core split's (split = mma).
  bool tensor_cores_serve() const {
    return attention_mma_serves(int(q_heads / kv_heads), int(head_dim), dtype == QuantType::F16);
  }
  KernelInstance partial(bool fused = false, bool mma = false) const {
    std::vector<plan::Attr> k = {{"kind", Ident{std::string(plan::name(kind))}},
                                 {"head_dim", head_dim},
                                 {"q_heads", q_heads},
                                 {"kv_heads", kv_heads},
                                 {"dtype", Ident{std::string(name(dtype))}},
                                 {"window", window}};
    if (v_only()) k.insert(k.end(), {{"storage", Ident{"v_only"}}, {"rotated_pairs", rotated_pairs}});
    if (mma) k.push_back({"split", Ident{"mma"}});
    if (fused) k.push_back({"combine", Ident{"last_block"}});
    return plan::kernel_instance("attention.partial", std::move(k));
  }
  // `quantize` (quantize-in-producer): the combine also writes the O projection's activations.
  KernelInstance combine(const char* quantize = nullptr) const {
    KernelInstance k{"attention.combine", {{"head_dim", head_dim}, {"q_heads", q_heads}}, 0, {}};
    if (quantize) k.constants.push_back({"quantize", Ident{quantize}});
    return k;
  }
  KernelInstance writer() const {
    std::vector<plan::Attr> k = {{"kind", Ident{std::string(plan::name(kind))}},
                                 {"head_dim", head_dim},
                                 {"kv_heads", kv_heads},
                                 {"dtype", Ident{std::string(name(dtype))}}};
    if (v_only()) k.push_back({"storage", Ident{"v_only"}});
    return plan::kernel_instance("kv_write", std::move(k));
  }
  std::string describe() const {
    return std::string(plan::name(kind)) + " hd " + std::to_string(head_dim) + " " + std::to_string(q_heads) + ":" +
           std::to_string(kv_heads) + " window " + std::to_string(window) + " " + std::string(name(dtype)) +
           (v_only() ? " V-only rotating " + std::to_string(rotated_pairs) + " pairs" : "");
  }
};

struct Row {
  int32_t pos, seq;  // seq −1: padding
};

// Host K and V caches with poisoned bytes and a view the CPU op reads; a V-only cache has no K,
// and a K-norm weight of values around 1 that rebuilds it.
struct HostCache {
  std::vector<uint8_t> k, v;
  std::vector<float> k_norm;
  cpu::KvCacheView view;

  HostCache(const Shape& s, int64_t sequences)
      : k(s.v_only() ? 0 : size_t(sequences * s.slots * s.row_elems() * s.element_bytes()), 0xFF),
        v(size_t(sequences * s.slots * s.row_elems() * s.element_bytes()), 0xFF) {
    view = {s.v_only() ? nullptr : k.data(), v.data(), s.dtype, s.kind, s.slots, s.kv_heads, s.head_dim};
    if (!s.v_only()) return;
    k_norm = testing::random_floats(s.head_dim, uint32_t(s.head_dim + 5), 0.5f);
    for (float& w : k_norm) w += 1.0f;
    view.k_norm = k_norm.data();
    view.rotated_pairs = s.rotated_pairs;
    view.theta = kRebuildTheta;
  }

  // Random K and V (V alone when V-only) at the positions the row reads.
  void fill_window(const Shape& s, const Row& r, std::mt19937& rng) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (int64_t p = s.first_key(r.pos); p <= r.pos; ++p) {
      const int64_t base = view.element_index(r.seq, p);
      for (int64_t i = 0; i < s.row_elems(); ++i) {
        if (!s.v_only()) view.store(k.data(), base + i, dist(rng));
        view.store(v.data(), base + i, dist(rng));
      }
    }
  }
};

// What rebuilds a V-only cache's keys on the device, for positions below `positions`.
struct DeviceRebuild {
  gpu::DeviceBuffer k_norm, rope_table;
  int64_t rope_positions = 0;
};

// g4c::cpu::attention's definition evaluated in double, from the same stored K and V.
std::vector<float> attention_in_double(const std::vector<float>& q, const std::vector<Row>& rows,
                                       const cpu::KvCacheView& view, int64_t q_heads, int64_t window) {
  const int64_t d = view.head_dim, group = q_heads / view.kv_heads;
  std::vector<float> out(rows.size() * q_heads * d, 0.0f);
  std::vector<double> weights, o(d);
  std::vector<float> key(d);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].seq < 0) continue;
    const int64_t first = window > 0 ? std::max<int64_t>(0, rows[r].pos - window + 1) : 0;
    for (int64_t h = 0; h < q_heads; ++h) {
      const float* qh = q.data() + (r * q_heads + h) * d;
      auto row = [&](int64_t p) { return view.element_index(rows[r].seq, p) + h / group * d; };
      weights.assign(rows[r].pos - first + 1, 0.0);
      for (int64_t p = first; p <= rows[r].pos; ++p) {
        view.load_key(rows[r].seq, p, h / group, key.data());  // as stored, or rebuilt from V
        for (int64_t i = 0; i < d; ++i) weights[p - first] += double(qh[i]) * key[i];
      }
      const double max = *std::max_element(weights.begin(), weights.end());
      double total = 0;
      for (double& w : weights) total += (w = std::exp(w - max));
      std::fill(o.begin(), o.end(), 0.0);
      for (int64_t p = first; p <= rows[r].pos; ++p)
        for (int64_t i = 0; i < d; ++i) o[i] += weights[p - first] / total * view.load(view.v, row(p) + i);
      for (int64_t i = 0; i < d; ++i) out[(r * q_heads + h) * d + i] = static_cast<float>(o[i]);
    }
  }
  return out;
}

int64_t sequences_of(const std::vector<Row>& rows) {
  int64_t n = 1;
  for (const Row& r : rows) n = std::max<int64_t>(n, r.seq + 1);
  return n;
}

class AttentionTest : public testing::GpuTest {
 protected:
  // Launches over `rows` against a cache with random keys in each row's window, at each split
  // count. The one-launch form (combine = last_block) must give the same bits as the two kernels,
  // twice in a row on the same counters (as a graph replays it), and leave every counter at zero.
  void expect_matches_cpu(const Shape& s, const std::vector<Row>& rows) {
    gpu::KernelLibrary lib = load({partial(s), s.combine(), partial(s, true)});
    HostCache cache(s, sequences_of(rows));
    std::mt19937 rng(uint32_t(s.head_dim * 31 + s.q_heads));
    for (const Row& r : rows)
      if (r.seq >= 0) cache.fill_window(s, r, rng);
    gpu::DeviceBuffer dk = upload(cache.k), dv = upload(cache.v);
    int32_t last = 0;
    for (const Row& r : rows) last = std::max(last, r.pos);
    const DeviceRebuild rebuild = device_rebuild(s, cache, last + 1);
    const gpu::KvCacheRef ref = cache_ref(s, dk, dv, rebuild);
    const Reference want = reference(s, rows, cache.view);
    const int64_t tickets = static_cast<int64_t>(rows.size()) * gpu::attention_tickets(s.q_heads, s.kv_heads, mma_);
    gpu::DeviceBuffer counters = upload(std::vector<uint32_t>(static_cast<size_t>(tickets), 0));
    for (int64_t splits : {8, 32, 64, 128}) {
      const std::vector<float> got = run(lib, s, rows, ref, splits);
      check(s, rows, want, got, splits);
      for (int replay = 0; replay < 2; ++replay) {
        const std::vector<float> fused = run(lib, s, rows, ref, splits, counters.as<unsigned>());
        EXPECT_EQ(0, std::memcmp(fused.data(), got.data(), got.size() * sizeof(float)))
            << s.describe() << ", " << splits << " splits: combine = last_block differs from the combine kernel (launch "
            << replay << ")";
        for (uint32_t c : download<uint32_t>(counters, tickets)) ASSERT_EQ(c, 0u) << "a counter left set";
      }
      if (s.head_dim % matmul::kQ8SuperBlock == 0 && splits == 128) expect_combine_quantizes(s, rows, ref, got, splits);
    }
  }

  // quantize-in-producer: a combine with `quantize` writes the same output and, byte for byte, the
  // activations the route's own quantization kernel makes of it (both start poisoned), padding rows
  // included, in each format.
  void expect_combine_quantizes(const Shape& s, const std::vector<Row>& rows, const gpu::KvCacheRef& cache,
                                const std::vector<float>& got, int64_t splits) {
    const int64_t n = static_cast<int64_t>(rows.size()), cols = s.q_heads * s.head_dim;
    for (const char* format : {"q8_1", "mma16", "mma16h"}) {
      const KernelInstance own = plan::kernel_instance(std::string("quantize_") + format);
      gpu::KernelLibrary lib = load({partial(s), s.combine(format), own});
      const size_t bytes = n * plan::activation_seq_bytes(*plan::parse_activation_format(format), cols);
      gpu::DeviceBuffer x_q = poisoned(bytes), want_q = poisoned(bytes), d_got = upload(got);
      const std::vector<float> out = run(lib, s, rows, cache, splits, nullptr, s.combine(format), x_q.get());
      EXPECT_EQ(0, std::memcmp(out.data(), got.data(), got.size() * sizeof(float)))
          << s.describe() << ": the quantizing combine (" << format << ") changed the output";
      ASSERT_EQ(testing::launch_route_quantization(lib.find(own), d_got.as<float>(), want_q.get(), n, cols), cudaSuccess);
      sync();
      EXPECT_EQ(download<uint8_t>(x_q, bytes), download<uint8_t>(want_q, bytes))
          << s.describe() << ": the combine's " << format << " activations differ from " << own.family << "'s";
    }
  }

  // The device's view of a cache (K null when V-only).
  gpu::KvCacheRef cache_ref(const Shape& s, const gpu::DeviceBuffer& k, const gpu::DeviceBuffer& v,
                            const DeviceRebuild& rebuild) {
    gpu::KvCacheRef ref{s.v_only() ? nullptr : k.get(), v.get(), s.dtype, s.slots, s.kv_heads, s.head_dim};
    ref.k_norm = rebuild.k_norm.as<float>();
    ref.rope_table = rebuild.rope_table.as<float>();
    ref.rope_positions = rebuild.rope_positions;
    ref.rotated_pairs = s.v_only() ? s.rotated_pairs : 0;
    return ref;
  }

  // The K-norm weight and the (cos, sin) table of positions 0 .. positions − 1, as the executor
  // makes them; nothing for a cache that stores K.
  DeviceRebuild device_rebuild(const Shape& s, const HostCache& cache, int64_t positions) {
    if (!s.v_only()) return {};
    DeviceRebuild r{upload(cache.k_norm), {}, positions};
    if (s.rotated_pairs > 0) r.rope_table = upload(cpu::rope_table(kRebuildTheta, s.head_dim, s.rotated_pairs, positions));
    return r;
  }

  // The GPU attention of `rows` over device caches, each row's keys cut into `splits` (0: the
  // launcher's choice for this device).
  // `tickets` (zeroed counters): one launch of the combine = last_block instance; else the two kernels.
  // `combine` / `x_q`: a quantizing combine instance and the activations it writes.
  std::vector<float> run(const gpu::KernelLibrary& lib, const Shape& s, const std::vector<Row>& rows,
                         const gpu::KvCacheRef& cache, int64_t splits, unsigned* tickets = nullptr,
                         std::optional<KernelInstance> combine = std::nullopt, void* x_q = nullptr) {
    const int64_t n = static_cast<int64_t>(rows.size()), out_elems = n * s.q_heads * s.head_dim;
    query_ = queries(s, n);
    std::vector<int32_t> pos, seq;
    for (const Row& r : rows) pos.push_back(r.pos), seq.push_back(r.seq);
    gpu::DeviceBuffer dq = upload(query_), dpos = upload(pos), dseq = upload(seq);
    gpu::DeviceBuffer out = poisoned(out_elems * 4);
    gpu::DeviceBuffer scratch = poisoned(n * s.q_heads * plan::kAttentionMaxSplits * (s.head_dim + 2) * 4);
    gpu::AttentionCall call{dq.as<float>(),
                            dpos.as<int32_t>(),
                            dseq.as<int32_t>(),
                            cache,
                            s.q_heads,
                            out.as<float>(),
                            scratch.as<float>(),
                            n,
                            1.0f,
                            tickets};
    call.x_q = x_q;
    call.splits = splits;
    call.mma = mma_ && s.tensor_cores_serve();
    EXPECT_EQ(gpu::attention_runs_mma(call), call.mma) << s.describe();
    EXPECT_EQ(tickets ? gpu::launch_attention(lib.find(partial(s, true)), nullptr, call, nullptr)
                      : gpu::launch_attention(lib.find(partial(s)), lib.find(combine.value_or(s.combine())), call, nullptr),
              cudaSuccess);
    sync();
    return download<float>(out, out_elems);
  }

  // The CPU op's output and the double evaluation of its definition, for the queries run() makes
  // for `rows`.
  struct Reference {
    std::vector<float> cpu, exact;
  };
  Reference reference(const Shape& s, const std::vector<Row>& rows, const cpu::KvCacheView& view) {
    std::vector<int32_t> pos, seq;
    for (const Row& r : rows) pos.push_back(r.pos), seq.push_back(r.seq);
    const int64_t n = static_cast<int64_t>(rows.size());
    query_ = queries(s, n);
    Reference r{std::vector<float>(n * s.q_heads * s.head_dim), attention_in_double(query_, rows, view, s.q_heads, s.window)};
    cpu::attention(query_.data(), pos.data(), seq.data(), n, view, s.q_heads, s.window, 1.0f, r.cpu.data());
    return r;
  }

  void check(const Shape& s, const std::vector<Row>& rows, const Reference& reference, const std::vector<float>& got,
             int64_t splits) {
    const int64_t n = static_cast<int64_t>(rows.size()), row_out = s.q_heads * s.head_dim;
    const std::vector<float>&want = reference.cpu, &exact = reference.exact;
    const testing::Deviation vs_exact = testing::deviation(got, exact), vs_cpu = testing::deviation(got, want),
                             cpu_drift = testing::deviation(want, exact);
    std::cout << "  attention " << s.describe() << ", " << (splits ? std::to_string(splits) : "the launcher's") << " splits, at";
    for (const Row& r : rows) r.seq < 0 ? std::cout << " pad" : std::cout << " " << r.pos;
    std::cout << ": relative to double " << vs_exact.relative() << " (max |diff| " << vs_exact.max_abs
              << "), to the CPU op " << vs_cpu.relative() << ", CPU op to double " << cpu_drift.relative()
              << " (tolerance " << kAttentionTolerance << ")\n";
    EXPECT_TRUE(vs_exact.comparable()) << s.describe() << ": " << vs_exact.describe()
                                       << " (unwritten, or a read outside a window)";
    EXPECT_LE(vs_exact.relative(), kAttentionTolerance) << s.describe() << ": " << vs_exact.describe();
    EXPECT_LE(vs_cpu.relative(), kAttentionTolerance + cpu_drift.relative()) << s.describe() << ": " << vs_cpu.describe();
    for (int64_t r = 0; r < n; ++r) {
      if (rows[r].seq >= 0) continue;
      for (int64_t i = 0; i < row_out; ++i) ASSERT_EQ(got[r * row_out + i], 0.0f) << "padding row " << r;
    }
  }

 private:
  static std::vector<float> queries(const Shape& s, int64_t rows) {
    return testing::random_floats(rows * s.q_heads * s.head_dim, uint32_t(rows * 7 + s.head_dim), 0.5f);
  }
  std::vector<float> query_;

 protected:
  // The instance the fixture runs: on the tensor cores (split = mma) where mma_ and the split serves.
  KernelInstance partial(const Shape& s, bool fused = false) const { return s.partial(fused, mma_ && s.tensor_cores_serve()); }
  bool mma_ = false;
};

// The same checks with the shapes the tensor-core split serves on it (split = mma).
class AttentionMmaTest : public AttentionTest {
 protected:
  AttentionMmaTest() { mma_ = true; }
};

const Shape k12bSliding{KvKind::ring, 256, 16, 8, 1024, 1024, QuantType::F16};
const Shape k12bGlobal{KvKind::full, 512, 16, 1, 0, 40000, QuantType::F16};

TEST_F(AttentionTest, Gemma12bSlidingGqaRingAroundTheWrap) {
  // W − 1 (the first full window), W (the first wrap), 2W + 3, far beyond, and short rows.
  expect_matches_cpu(k12bSliding, {{1023, 0}, {1024, 1}, {2051, 2}, {9000, 3}, {0, 4}, {0, -1}, {70, 5}, {64, 6}});
}

// Chunked-prefill plans keep window + chunk − 1 slots (the 12B with chunks of 8: 1031): a row still
// reads only its window, and the spare slots hold NaN here, so a window taken from the ring's
// size shows.
TEST_F(AttentionTest, RingsWiderThanTheirWindow) {
  Shape wide = k12bSliding;
  wide.slots = 1031;
  expect_matches_cpu(wide, {{1023, 0}, {1024, 1}, {1030, 2}, {1031, 3}, {2061, 4}, {0, -1}, {9000, 5}, {5, 6}});
  expect_matches_cpu({KvKind::ring, 32, 4, 2, 4, 6, QuantType::F32}, {{3, 0}, {4, 1}, {5, 2}, {6, 3}, {13, 4}, {0, -1}});
}

TEST_F(AttentionTest, Gemma12bGlobalMqaLongContextsEngageAllSplits) {
  // With at least 32 keys a split (kAttentionMinKeysPerSplit): 40000 and 12345 keys, every split;
  // 32/33 keys, one or two; 64/65, two or three; 1024, exactly 32 splits of 32; 2048, 32 of 64
  // (64 of 32 when 64 or 128 splits are allowed); 4096, 128 of 32.
  expect_matches_cpu(k12bGlobal, {{39999, 0}, {12345, 1}, {63, 2}, {64, 3}, {0, -1}, {2047, 4}, {0, 5}, {2048, 6},
                                  {31, 7}, {32, 8}, {1023, 9}, {4095, 10}});
}

TEST_F(AttentionTest, Gemma12bGlobalBf16AndF32Caches) {
  for (QuantType dtype : {QuantType::BF16, QuantType::F32}) {
    Shape s = k12bGlobal;
    s.dtype = dtype;
    s.slots = 5000;
    expect_matches_cpu(s, {{4999, 0}, {100, 1}, {0, -1}, {777, 2}});
  }
}

TEST_F(AttentionTest, E4bGqa8To2SlidingAndGlobal) {
  expect_matches_cpu({KvKind::ring, 256, 8, 2, 512, 512, QuantType::F16}, {{511, 0}, {512, 1}, {1300, 2}, {3, 3}});
  expect_matches_cpu({KvKind::full, 512, 8, 2, 0, 3000, QuantType::F16}, {{2999, 0}, {700, 1}, {0, -1}, {1, 2}});
}

TEST_F(AttentionTest, TinyFixtureShapes) {
  expect_matches_cpu({KvKind::ring, 32, 4, 2, 4, 4, QuantType::F32}, {{0, 0}, {3, 1}, {4, 2}, {9, 3}, {0, -1}});
  expect_matches_cpu({KvKind::full, 64, 4, 2, 0, 128, QuantType::F32}, {{127, 0}, {5, 1}, {64, 2}});
  expect_matches_cpu({KvKind::full, 64, 4, 1, 0, 128, QuantType::F16}, {{0, 0}, {65, 1}, {0, -1}, {100, 2}});
}

// The 12B's global layers keep V alone: the kernel rebuilds K with the K-norm weight and RoPE of
// 64 pairs at each key's position, over contexts that engage all 128 splits.
TEST_F(AttentionTest, Gemma12bGlobalVOnlyRebuildsKeys) {
  expect_matches_cpu(k12bGlobal.storing_v_only(64),
                     {{39999, 0}, {12345, 1}, {63, 2}, {64, 3}, {0, -1}, {2047, 4}, {0, 5}, {2048, 6}});
}

// V-only caches in BF16 and F32, and a 12B-sized ring wider than its window.
TEST_F(AttentionTest, VOnlyCachesOfEveryDtype) {
  for (QuantType dtype : {QuantType::BF16, QuantType::F32}) {
    Shape s = k12bGlobal.storing_v_only(64);
    s.dtype = dtype;
    s.slots = 5000;
    expect_matches_cpu(s, {{4999, 0}, {100, 1}, {0, -1}, {777, 2}});
  }
  expect_matches_cpu(Shape{KvKind::ring, 256, 16, 8, 1024, 1031, QuantType::F16}.storing_v_only(128),
                     {{1023, 0}, {1031, 1}, {2061, 2}, {5, 3}});
}

// Small V-only shapes (cheap enough for the mutation table): a ring that wrapped, wider than its
// window, with every pair rotating — keys rotate at their positions, not their slots; pair counts
// that end inside a 16-byte chunk, and none at all.
TEST_F(AttentionTest, VOnlyRingsAndPairCounts) {
  expect_matches_cpu(Shape{KvKind::ring, 32, 4, 2, 4, 6, QuantType::F32}.storing_v_only(16),
                     {{3, 0}, {4, 1}, {5, 2}, {6, 3}, {13, 4}, {0, -1}});
  expect_matches_cpu(Shape{KvKind::full, 64, 4, 1, 0, 128, QuantType::F16}.storing_v_only(3), {{127, 0}, {9, 1}, {0, -1}});
  expect_matches_cpu(Shape{KvKind::full, 512, 16, 1, 0, 300, QuantType::F16}.storing_v_only(0), {{299, 0}, {64, 1}});
}

// Decode steps as the executor runs them: kv_write of the step's K and V, then attention. The
// sequences join at different steps (padding rows until then), so one launch serves rows at
// different positions; the caches must equal the CPU's byte for byte after every step. A V-only
// cache's kv_write gets no K and stores V alone.
TEST_F(AttentionTest, CachesFilledByKvWriteAcrossSteps) {
  for (const Shape& s : {Shape{KvKind::ring, 32, 4, 2, 4, 4, QuantType::F32},
                         Shape{KvKind::ring, 32, 4, 2, 4, 7, QuantType::F32},  // a chunked plan's ring
                         Shape{KvKind::ring, 256, 16, 8, 16, 16, QuantType::F16},
                         Shape{KvKind::full, 512, 16, 1, 0, 200, QuantType::BF16},
                         k12bGlobal.storing_v_only(64), Shape{KvKind::full, 64, 4, 2, 0, 60, QuantType::F32}.storing_v_only(8)}) {
    gpu::KernelLibrary lib = load({partial(s), s.combine(), s.writer()});
    const std::vector<int32_t> joins = {0, 5, 13};  // sequence i decodes position 0 at step joins[i]
    const int64_t rows = static_cast<int64_t>(joins.size()) + 1, steps = 40, row_elems = s.row_elems();
    HostCache cache(s, rows - 1);
    gpu::DeviceBuffer dk = upload(cache.k), dv = upload(cache.v);
    const DeviceRebuild rebuild = device_rebuild(s, cache, steps);
    const gpu::KvCacheRef ref = cache_ref(s, dk, dv, rebuild);
    for (int32_t step = 0; step < steps; ++step) {
      std::vector<Row> batch;
      for (size_t i = 0; i < joins.size(); ++i)
        batch.push_back(step >= joins[i] ? Row{step - joins[i], int32_t(i)} : Row{0, -1});
      batch.push_back({0, -1});
      std::vector<int32_t> pos, seq;
      for (const Row& r : batch) pos.push_back(r.pos), seq.push_back(r.seq);
      auto k = testing::random_floats(rows * row_elems, 2 * step + 1), v = testing::random_floats(rows * row_elems, 2 * step + 2);
      cpu::kv_write(s.v_only() ? nullptr : k.data(), v.data(), pos.data(), seq.data(), rows, cache.view);
      gpu::DeviceBuffer dkr = upload(k), dvr = upload(v), dpos = upload(pos), dseq = upload(seq);
      gpu::KvWriteCall write{s.v_only() ? nullptr : dkr.as<float>(), dvr.as<float>(), dpos.as<int32_t>(),
                             dseq.as<int32_t>(), ref, rows};
      ASSERT_EQ(gpu::launch_kv_write(lib.find(s.writer()), write, nullptr), cudaSuccess);
      sync();
      if (!s.v_only())
        ASSERT_TRUE(download<uint8_t>(dk, cache.k.size()) == cache.k) << s.describe() << " K cache at step " << step;
      ASSERT_TRUE(download<uint8_t>(dv, cache.v.size()) == cache.v) << s.describe() << " V cache at step " << step;
      if (step % 13 == 0 || step == steps - 1) {
        const Reference want = reference(s, batch, cache.view);
        check(s, batch, want, run(lib, s, batch, ref, 0), 0);
      }
    }
  }
}

// The 12B's global layers on the tensor cores: K and V stored and V alone (keys rebuilt, 64 pairs
// rotating), over contexts that engage all 128 splits, splits that end inside a 16-key tile, one
// key, and padding; 256-value heads; a V-only cache whose keys do not rotate.
TEST_F(AttentionMmaTest, Gemma12bGlobalShapesOnTheTensorCores) {
  const std::vector<Row> rows = {{39999, 0}, {12345, 1}, {63, 2}, {64, 3}, {0, -1}, {2047, 4}, {0, 5}, {2048, 6},
                                 {31, 7}, {32, 8}, {1023, 9}, {4095, 10}, {47, 11}};
  expect_matches_cpu(k12bGlobal, rows);
  expect_matches_cpu(k12bGlobal.storing_v_only(64), rows);
  expect_matches_cpu(Shape{KvKind::full, 256, 32, 2, 0, 3000, QuantType::F16}, {{2999, 0}, {700, 1}, {0, -1}, {17, 2}});
  expect_matches_cpu(Shape{KvKind::full, 512, 16, 1, 0, 300, QuantType::F16}.storing_v_only(0), {{299, 0}, {64, 1}});
}

// Every stage count (`g4run --attention-stages 2|3|4`): the stage ring's prologue, its reuse of
// the stage the previous tile left, and the empty copy groups past a split's last tile, over V
// alone and K and V, on splits shorter than the ring and on a ring cache.
TEST_F(AttentionMmaTest, EveryStageCount) {
  struct RestoreStages {
    ~RestoreStages() { gpu::set_attention_stages(kAttentionMmaDefaultStages); }
  } restore;
  const std::vector<Row> rows = {{39999, 0}, {63, 1}, {64, 2}, {0, -1}, {2047, 3}, {31, 4}, {47, 5}, {15, 6}};
  for (int stages = kAttentionMmaMinStages; stages <= kAttentionMmaMaxStages; ++stages) {
    gpu::set_attention_stages(stages);
    std::cout << "  " << stages << " stages\n";
    expect_matches_cpu(k12bGlobal.storing_v_only(64), rows);
    expect_matches_cpu(k12bGlobal, rows);
    expect_matches_cpu(Shape{KvKind::ring, 512, 16, 1, 100, 107, QuantType::F16}.storing_v_only(64),
                       {{99, 0}, {106, 1}, {350, 2}, {5, 3}});
  }
}

// The 12B's sliding layers (2:1 over a ring, the tile's rows from 2 on zero) around the wrap and
// wider than their window; E4B's 4:1 groups; rings of 16:1 heads that wrapped.
TEST_F(AttentionMmaTest, SmallerGroupsAndRings) {
  expect_matches_cpu(k12bSliding, {{1023, 0}, {1024, 1}, {2051, 2}, {9000, 3}, {0, 4}, {0, -1}, {70, 5}, {64, 6}});
  expect_matches_cpu(Shape{KvKind::ring, 256, 16, 8, 1024, 1031, QuantType::F16}.storing_v_only(128),
                     {{1023, 0}, {1031, 1}, {2061, 2}, {5, 3}});
  expect_matches_cpu({KvKind::ring, 256, 8, 2, 512, 512, QuantType::F16}, {{511, 0}, {512, 1}, {1300, 2}, {3, 3}});
  expect_matches_cpu({KvKind::full, 512, 8, 2, 0, 3000, QuantType::F16}, {{2999, 0}, {700, 1}, {0, -1}, {1, 2}});
  expect_matches_cpu(Shape{KvKind::ring, 512, 16, 1, 100, 107, QuantType::F16}.storing_v_only(64),
                     {{99, 0}, {100, 1}, {106, 2}, {107, 3}, {350, 4}, {0, -1}, {5, 5}});
  expect_matches_cpu(Shape{KvKind::ring, 256, 16, 1, 64, 64, QuantType::F16}, {{63, 0}, {64, 1}, {200, 2}, {1, 3}});
}

}  // namespace
}  // namespace g4c
