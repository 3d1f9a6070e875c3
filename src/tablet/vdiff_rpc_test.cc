// Reshard.RowHashes and Reshard.VDiff between in-process tablets over
// loopback gRPC on the memory topology (issue 10).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/query_result.h"
#include "tablet/shard_tablets_test.h"
#include "tablet/vdiff/row_hash.h"

namespace shale::tablet {
namespace {

// The whole of one RowHashes call.
struct HashesResult {
  grpc::Status status;
  std::vector<RowHashesResponse> responses;
};

HashesResult ReadHashes(TabletClient& c, const RowHashesRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = c.reshard().RowHashes(&ctx, req);
  HashesResult out;
  RowHashesResponse r;
  while (reader->Read(&r)) out.responses.push_back(r);
  out.status = reader->Finish();
  return out;
}

TableFilter Filter(const std::string& table, const std::string& column) {
  TableFilter f;
  f.set_table(table);
  f.set_column(column);
  f.set_column_type(topodata::UINT64);
  return f;
}

class RowHashesTest : public ShardTabletsTest {};

TEST_F(RowHashesTest, SnapshotFilteredInPkOrder) {
  auto primary = StartTablet(101, topodata::PRIMARY);
  ASSERT_NE(primary, nullptr);
  auto c = Client(*primary);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v)").ok());
  for (int i = 60; i >= 1; --i) {  // inserted out of order
    auto r = Exec(*c, absl::StrCat("INSERT INTO t VALUES (", i, ", 'n", i, "', ",
                                   i % 3 == 0 ? "NULL" : absl::StrCat(i * 1.5), ")"));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // The expected rows: ids in -80, ascending, with the hash of the row.
  const key::KeyRange range = *key::KeyRange::Parse("-80");
  auto all = primary->engine().ExecuteInternal("SELECT id, name, v FROM t ORDER BY id");
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::pair<int64_t, uint64_t>> want;
  for (const auto& row : all->rows) {
    if (range.Contains(key::HashInt64(row[0].int64()))) {
      want.emplace_back(row[0].int64(), vdiff::RowHash(row));
    }
  }
  ASSERT_GT(want.size(), 10u);
  ASSERT_LT(want.size(), 50u);

  RowHashesRequest req;
  *req.mutable_table() = Filter("t", "id");
  *req.mutable_key_range() = range.ToProto();
  req.set_batch_rows(7);

  // Open the call and read the position; writes after it are not seen.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = c->reshard().RowHashes(&ctx, req);
  RowHashesResponse first;
  ASSERT_TRUE(reader->Read(&first));
  ASSERT_TRUE(first.has_position());
  const LogPosition log = primary->replication().position().Get();
  EXPECT_EQ(first.position().seq(), log.seq());
  EXPECT_EQ(first.position().term(), log.term());
  EXPECT_EQ(first.position().row(), 0);
  ASSERT_TRUE(Exec(*c, "DELETE FROM t WHERE id < 30").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (1000, 'late', 1)").ok());

  std::vector<std::pair<int64_t, uint64_t>> got;
  for (const RowHash& h : first.rows()) got.emplace_back(h.pk(0).int64(), h.hash());
  RowHashesResponse r;
  int batches = 0;
  while (reader->Read(&r)) {
    ++batches;
    EXPECT_FALSE(r.has_position());
    EXPECT_LE(r.rows_size(), 7);
    for (const RowHash& h : r.rows()) {
      ASSERT_EQ(h.pk_size(), 1);
      got.emplace_back(h.pk(0).int64(), h.hash());
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(got, want);
  EXPECT_EQ(batches, static_cast<int>((want.size() + 6) / 7));
}

TEST_F(RowHashesTest, CompositeKeyReferenceTableAndErrors) {
  auto primary = StartTablet(101, topodata::PRIMARY);
  ASSERT_NE(primary, nullptr);
  auto c = Client(*primary);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE r (b TEXT, a INTEGER, x, PRIMARY KEY (a, b))").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO r VALUES ('z', 2, 1), ('a', 2, 2), ('q', 1, 3)").ok());

  RowHashesRequest req;
  req.mutable_table()->set_table("R");  // names are case-insensitive; no column: every row
  HashesResult res = ReadHashes(*c, req);
  ASSERT_TRUE(res.status.ok()) << res.status.error_message();
  std::vector<std::string> keys;
  for (const auto& resp : res.responses) {
    for (const RowHash& h : resp.rows()) {
      keys.push_back(absl::StrCat(h.pk(0).int64(), h.pk(1).text()));
    }
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"1q", "2a", "2z"}));

  req.mutable_table()->set_table("nope");
  EXPECT_EQ(ReadHashes(*c, req).status.error_code(), grpc::StatusCode::NOT_FOUND);
  req.mutable_table()->set_table("_shale_log");
  EXPECT_EQ(ReadHashes(*c, req).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  *req.mutable_table() = Filter("r", "missing");
  HashesResult bad = ReadHashes(*c, req);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << bad.status.error_message();
  EXPECT_TRUE(bad.responses.empty());  // refused before the position goes out
}

}  // namespace
}  // namespace shale::tablet
