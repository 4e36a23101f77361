// The CPU ops' second line of defence: an index outside its table (a token id past the embedding
// table, a sequence slot past the caches, a position past a full cache) throws cpu::IndexError
// instead of reading or writing out of bounds, and the interpreter turns that into an error. The
// first line — every step's rows checked against the plan, and the verifier making ops index only
// with those rows — keeps g4run from ever reaching it.
#include <gtest/gtest.h>

#include <vector>

#include "g4c/runtime/cpu_ops.h"

namespace g4c::cpu {
namespace {

TEST(CpuOpBounds, EmbedGatherRefusesTokenIdsOutsideTheTable) {
  std::vector<float> table(4 * 3, 1.0f);
  HostTensor t{"token_embd.weight", QuantType::F32, 4, 3,
               {reinterpret_cast<const uint8_t*>(table.data()), table.size() * sizeof(float)}};
  std::vector<float> out(4 * 2);
  const int32_t ok[] = {0, 2}, past[] = {0, 3}, negative[] = {-1, 0};
  EXPECT_NO_THROW(embed_gather(t, ok, 1.0f, out.data(), 2));
  EXPECT_THROW(embed_gather(t, past, 1.0f, out.data(), 2), IndexError);
  EXPECT_THROW(embed_gather(t, negative, 1.0f, out.data(), 2), IndexError);
}

struct Cache {
  std::vector<float> k, v;
  KvCacheView view;
  Cache(plan::KvKind kind, int64_t sequences, int64_t slots)
      : k(static_cast<size_t>(sequences * slots * 4)), v(k.size()) {
    view = {k.data(), v.data(), QuantType::F32, kind, slots, 1, 4, sequences};
  }
};

TEST(CpuOpBounds, KvWriteRefusesSlotsAndPositionsOutsideTheCache) {
  Cache full(plan::KvKind::full, 2, 8);
  std::vector<float> row(4, 1.0f);
  const int32_t pos_ok[] = {7}, pos_past[] = {8}, pos_negative[] = {-1}, seq_ok[] = {1}, seq_past[] = {2};
  EXPECT_NO_THROW(kv_write(row.data(), row.data(), pos_ok, seq_ok, 1, full.view));
  EXPECT_THROW(kv_write(row.data(), row.data(), pos_past, seq_ok, 1, full.view), IndexError);
  EXPECT_THROW(kv_write(row.data(), row.data(), pos_negative, seq_ok, 1, full.view), IndexError);
  EXPECT_THROW(kv_write(row.data(), row.data(), pos_ok, seq_past, 1, full.view), IndexError);
  Cache ring(plan::KvKind::ring, 2, 3);  // positions wrap: any position >= 0 has a slot
  EXPECT_NO_THROW(kv_write(row.data(), row.data(), pos_past, seq_ok, 1, ring.view));
  const int32_t padding[] = {-1};  // padding rows store nothing
  EXPECT_NO_THROW(kv_write(row.data(), row.data(), pos_past, padding, 1, full.view));
}

TEST(CpuOpBounds, AttentionRefusesSlotsAndPositionsOutsideTheCache) {
  Cache full(plan::KvKind::full, 1, 4);
  std::vector<float> q(4, 1.0f), out(4);
  const int32_t pos_ok[] = {3}, pos_past[] = {4}, seq_ok[] = {0}, seq_past[] = {1};
  EXPECT_NO_THROW(attention(q.data(), pos_ok, seq_ok, 1, full.view, 1, 0, 1.0f, out.data()));
  EXPECT_THROW(attention(q.data(), pos_past, seq_ok, 1, full.view, 1, 0, 1.0f, out.data()), IndexError);
  EXPECT_THROW(attention(q.data(), pos_ok, seq_past, 1, full.view, 1, 0, 1.0f, out.data()), IndexError);
}

}  // namespace
}  // namespace g4c::cpu
