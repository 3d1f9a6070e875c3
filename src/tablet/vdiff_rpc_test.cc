// Reshard.RowHashes and Reshard.VDiff between in-process tablets over
// loopback gRPC on the memory topology (issue 10).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/query_result.h"
#include "tablet/shard_tablets_test.h"
#include "tablet/vdiff_tablets_test.h"
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
class VDiffTest : public VDiffTablets {};

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

// A writer on both sources (only rows of their own ranges) while VDiff runs:
// inserts, updates and deletes of items.
class SourcesWriter : public DbaWriter {
 public:
  explicit SourcesWriter(std::function<TabletServer&(int64_t)> source_of)
      : DbaWriter(100000, [source_of = std::move(source_of)](int64_t id) {
          if (!key::KeyRange::Parse("-80")->Contains(key::HashInt64(id))) return Statements{};
          TabletServer* s = &source_of(id);
          return Statements{
              {s, absl::StrCat("INSERT INTO items VALUES (", id, ", 1, 'w')")},
              {s, absl::StrCat("UPDATE items SET v = v + 1 WHERE id = ", id)},
              {s, absl::StrCat("DELETE FROM items WHERE id = ", id - 3)},
          };
        }, /*fail_test_on_error=*/false) {}
};

TEST_F(VDiffTest, CleanMergeMatchesWhileWritesGoOn) {
  SourcesWriter writer([this](int64_t id) -> TabletServer& { return SourceOf(id); });
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return writer.writes() > 5; }));
  auto r = VDiff(*target_);
  const int during = writer.writes();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return writer.writes() > during + 5; }));
  writer.Stop();
  EXPECT_EQ(writer.errors(), 0);
  ASSERT_EQ(r->tables_size(), 3) << r->DebugString();
  for (const TableDiff& t : r->tables()) {
    EXPECT_TRUE(t.match()) << t.DebugString();
    EXPECT_EQ(t.source_rows(), t.target_rows()) << t.DebugString();
    EXPECT_EQ(t.examples_size(), 0) << t.DebugString();
  }
  EXPECT_GE(Table(*r, "items")->source_rows(), items_);
  EXPECT_GE(Table(*r, "orders")->source_rows(), items_);
  // The reference table is compared whole against each source.
  EXPECT_EQ(Table(*r, "countries")->source_rows(), 4);
  ASSERT_EQ(r->streams_size(), 2);
  EXPECT_EQ(r->streams(0).uid(), 1u);
  EXPECT_EQ(r->streams(1).uid(), 2u);
  // The streams were let go: both still follow their sources.
  EXPECT_TRUE(Running(1) && Running(2));
  int64_t id = 500000;
  while (!InTarget(id)) ++id;
  Must(SourceOf(id), absl::StrCat("INSERT INTO items VALUES (", id, ", 7, 'after')"));
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    auto rs = target_->engine().ExecuteInternal(absl::StrCat("SELECT v FROM items WHERE id = ", id));
    return rs.ok() && rs->rows.size() == 1;
  }));
  for (const StreamState& s : target_->streams().States()) EXPECT_EQ(s.phase(), RUNNING);
}

TEST_F(VDiffTest, ReportsRowsMissingExtraAndDifferentOnTheTarget) {
  // Pick rows in each source's part.
  int64_t low = 1, high = 1;
  while (!(InTarget(low) && &SourceOf(low) == low_.get())) ++low;
  while (!(InTarget(high) && &SourceOf(high) == high_.get())) ++high;
  int64_t extra = 900000;
  while (!InTarget(extra)) ++extra;
  // Straight into the target's engine, bypassing the streams.
  auto write = [&](const std::string& sql) {
    auto r = target_->engine().ExecuteInternal(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  };
  write(absl::StrCat("DELETE FROM items WHERE id = ", low));
  write(absl::StrCat("UPDATE items SET name = 'changed' WHERE id = ", high));
  write(absl::StrCat("INSERT INTO items VALUES (", extra, ", 0, 'extra')"));
  write(absl::StrCat("UPDATE orders SET note = x'0103' WHERE id = ", 1000 + low));
  write("UPDATE countries SET name = 'Allemagne' WHERE code = 'de'");

  auto r = VDiff(*target_);
  ASSERT_TRUE(r.ok()) << r.status();
  const TableDiff* items = Table(*r, "items");
  ASSERT_NE(items, nullptr);
  EXPECT_FALSE(items->match());
  EXPECT_EQ(items->source_rows(), items_);
  EXPECT_EQ(items->target_rows(), items_);  // one missing, one extra
  EXPECT_EQ(items->missing_on_target(), 1);
  EXPECT_EQ(items->extra_on_target(), 1);
  EXPECT_EQ(items->different(), 1);
  EXPECT_THAT(items->examples(), ::testing::UnorderedElementsAre(
                                     absl::StrCat("missing pk=(", low, ")"),
                                     absl::StrCat("different pk=(", high, ")"),
                                     absl::StrCat("extra pk=(", extra, ")")));
  const TableDiff* orders = Table(*r, "orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->different(), 1);
  EXPECT_EQ(orders->missing_on_target() + orders->extra_on_target(), 0);
  EXPECT_THAT(orders->examples(),
              ::testing::ElementsAre(absl::StrCat("different pk=(", 1000 + low, ")")));
  const TableDiff* countries = Table(*r, "countries");
  ASSERT_NE(countries, nullptr);
  EXPECT_EQ(countries->different(), 2);  // against each source
  EXPECT_THAT(countries->examples(),
              ::testing::ElementsAre("different pk=('de')", "different pk=('de')"));

  // --tables, and max_reported_rows.
  auto only = VDiff(*target_, {"orders"});
  ASSERT_TRUE(only.ok()) << only.status();
  ASSERT_EQ(only->tables_size(), 1);
  EXPECT_EQ(only->tables(0).table(), "orders");
  EXPECT_FALSE(only->tables(0).match());
  for (const StreamState& s : target_->streams().States()) EXPECT_EQ(s.phase(), RUNNING);
}

TEST_F(VDiffTest, RefusedWhereItCannotRun) {
  auto on_source = VDiff(*low_);
  EXPECT_EQ(on_source.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(on_source.status().message(), ::testing::HasSubstr("no source shards"));
  auto unknown = VDiff(*target_, {"nope"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
  EXPECT_THAT(unknown.status().message(), ::testing::HasSubstr("nope"));
  // A failed VDiff leaves the streams running.
  for (const StreamState& s : target_->streams().States()) EXPECT_EQ(s.phase(), RUNNING);
}

}  // namespace
}  // namespace shale::tablet
