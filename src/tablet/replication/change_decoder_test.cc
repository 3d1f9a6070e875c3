#include "tablet/replication/change_decoder.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine_test_util.h"
#include "tablet/replication/log_store.h"
#include "tablet/replication/log_writer.h"

namespace shale::tablet::replication {
namespace {

using engine::testing::TempDir;

// An engine whose commits write _shale_log rows through a LogWriter, as on a
// primary.
class ChangeDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_.SetTerm(3);
    engine::EngineOptions options;
    options.commit_hook = &writer_;
    engine_ = engine::testing::OpenEngine(dir_, options);
    ASSERT_NE(engine_, nullptr);
    ASSERT_OK(CreateLogTable(*engine_));
  }

  void Exec(const std::string& sql) {
    auto r = engine_->Execute(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }

  // The entries after seq `after`.
  std::vector<LogEntry> Entries(int64_t after = 0) {
    auto e = ReadEntries(*engine_, after, 1000, 1 << 30);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : std::vector<LogEntry>{};
  }

  // Every event of the entries after `after`, through one decoder.
  std::vector<ChangeEvent> Decode(int64_t after, const std::vector<std::string>& tables = {},
                                  int skip_first = 0) {
    ChangeDecoder d(EngineColumns(*engine_), tables);
    bool first = true;
    for (const LogEntry& e : Entries(after)) {
      EXPECT_TRUE(d.Add(e, first ? skip_first : 0).ok());
      first = false;
    }
    return d.Take();
  }

  static std::string Cols(const google::protobuf::RepeatedPtrField<ColumnValue>& cols) {
    std::string out;
    for (const ColumnValue& c : cols) {
      out += c.name() + "=";
      switch (c.value().kind_case()) {
        case Value::kNull:
          out += "null";
          break;
        case Value::kInt64:
          out += std::to_string(c.value().int64());
          break;
        case Value::kFloat64:
          out += std::to_string(c.value().float64());
          break;
        case Value::kText:
          out += "'" + c.value().text() + "'";
          break;
        case Value::kBlob:
          out += "x" + std::to_string(c.value().blob().size());
          break;
        default:
          out += "?";
      }
      out += ";";
    }
    return out;
  }

  TempDir dir_;
  PositionTracker position_;
  AckTracker acks_;
  LogWriter writer_{&position_, &acks_};
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(ChangeDecoderTest, RowChangesCarryNamesValuesAndPositions) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n REAL, b BLOB)");
  const int64_t after_ddl = Entries().back().seq();
  Exec("INSERT INTO t VALUES (1, 'one', 1.5, x'00ff'), (2, 'two', NULL, NULL)");
  Exec("UPDATE t SET name = 'uno' WHERE id = 1");
  Exec("DELETE FROM t WHERE id = 2");

  std::vector<ChangeEvent> all = Decode(0);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].op(), DDL_STATEMENT);
  EXPECT_THAT(all[0].ddl(), ::testing::HasSubstr("CREATE TABLE t"));
  EXPECT_EQ(all[0].position().seq(), after_ddl);
  EXPECT_EQ(all[0].position().term(), 3);
  EXPECT_EQ(all[0].position().row(), 0);

  // A two-row transaction: rows 1 and 0 (done) of one entry.
  const ChangeEvent& i1 = all[1];
  const ChangeEvent& i2 = all[2];
  EXPECT_EQ(i1.op(), INSERT);
  EXPECT_EQ(i1.table(), "t");
  EXPECT_EQ(Cols(i1.pk()), "id=1;");
  EXPECT_EQ(Cols(i1.after()), "id=1;name='one';n=1.500000;b=x2;");
  EXPECT_TRUE(i1.before().empty());
  EXPECT_EQ(i1.position().seq(), after_ddl + 1);
  EXPECT_EQ(i1.position().row(), 1);
  EXPECT_EQ(Cols(i2.after()), "id=2;name='two';n=null;b=null;");
  EXPECT_EQ(i2.position().seq(), after_ddl + 1);
  EXPECT_EQ(i2.position().row(), 0);
  EXPECT_GT(i1.commit_ts_us(), 0);

  EXPECT_EQ(all[3].op(), UPDATE);
  EXPECT_EQ(Cols(all[3].pk()), "id=1;");
  EXPECT_EQ(Cols(all[3].before()), "name='one';");
  EXPECT_EQ(Cols(all[3].after()), "name='uno';");
  EXPECT_EQ(all[4].op(), DELETE);
  EXPECT_EQ(Cols(all[4].before()), "id=2;name='two';n=null;b=null;");
  EXPECT_EQ(all[4].position().row(), 0);
}

TEST_F(ChangeDecoderTest, ResumingMidEntryGivesExactlyTheRest) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  const int64_t seq = Entries().back().seq();
  Exec("INSERT INTO t VALUES (1), (2), (3)");
  std::vector<ChangeEvent> rest = Decode(seq, {}, /*skip_first=*/1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(Cols(rest[0].pk()), "id=2;");
  EXPECT_EQ(rest[0].position().row(), 2);
  EXPECT_EQ(Cols(rest[1].pk()), "id=3;");
  EXPECT_EQ(rest[1].position().row(), 0);
  // Skipping everything leaves only the position moving.
  std::vector<ChangeEvent> none = Decode(seq, {}, /*skip_first=*/3);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].op(), HEARTBEAT_EVENT);
  EXPECT_EQ(none[0].position().seq(), seq + 1);
  EXPECT_EQ(none[0].position().row(), 0);
}

TEST_F(ChangeDecoderTest, FilterKeepsDdlNumbersAllRowsAndCoalescesHeartbeats) {
  Exec("CREATE TABLE a (id INTEGER PRIMARY KEY)");
  Exec("CREATE TABLE b (id INTEGER PRIMARY KEY)");
  const int64_t start = Entries().back().seq();
  ASSERT_OK(engine_->RunInternalWrite([](engine::WriteTxn& txn) -> absl::Status {
    for (const char* sql :
         {"INSERT INTO B VALUES (1)", "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)"}) {
      RETURN_IF_ERROR(txn.Execute(sql, {}, engine::Access::kInternal).status());
    }
    return absl::OkStatus();
  }));
  Exec("INSERT INTO a VALUES (2)");
  Exec("INSERT INTO a VALUES (3)");
  std::vector<ChangeEvent> b = Decode(start, {"B"});
  // b's rows keep the numbers they have among all the entry's rows; the last
  // one sent is row 0. The two entries of a's rows give one heartbeat.
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].table(), "b");
  EXPECT_EQ(b[0].position().row(), 1);
  EXPECT_EQ(b[1].position().row(), 0);
  EXPECT_EQ(b[1].position().seq(), start + 1);
  EXPECT_EQ(b[2].op(), HEARTBEAT_EVENT);
  EXPECT_EQ(b[2].position().seq(), start + 3);

  Exec("ALTER TABLE a ADD COLUMN x TEXT");
  std::vector<ChangeEvent> ddl = Decode(start + 3, {"b"});
  ASSERT_EQ(ddl.size(), 1u);
  EXPECT_EQ(ddl[0].op(), DDL_STATEMENT);
}

TEST_F(ChangeDecoderTest, ColumnsFollowTheSchema) {
  Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const int64_t start = Entries().back().seq();
  Exec("INSERT INTO t VALUES (1, 'old')");
  Exec("ALTER TABLE t ADD COLUMN w INTEGER");
  // (A column list: a reader that has not seen the ALTER yet rechecks its
  // schema on "no such column", not on a wrong count of values.)
  Exec("INSERT INTO t (id, v, w) VALUES (2, 'new', 7)");
  // One decoder across the DDL: the cached names are dropped with it.
  std::vector<ChangeEvent> ev = Decode(start);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(Cols(ev[0].after()), "id=1;v='old';");
  EXPECT_EQ(Cols(ev[2].after()), "id=2;v='new';w=7;");

  // Columns the lookup does not know are named by number.
  ChangeDecoder d(
      [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
        return std::vector<std::string>{"id"};
      },
      {});
  ASSERT_OK(d.Add(Entries(start).back()));
  std::vector<ChangeEvent> n = d.Take();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(Cols(n[0].after()), "id=2;column2='new';column3=7;");
}

TEST_F(ChangeDecoderTest, ControlEntriesOnlyMoveThePosition) {
  ASSERT_TRUE(writer_.AppendControl(*engine_, HEARTBEAT, "", 3).ok());
  ASSERT_TRUE(writer_.AppendControl(*engine_, HEARTBEAT, "", 3).ok());
  std::vector<ChangeEvent> ev = Decode(0);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].op(), HEARTBEAT_EVENT);
  EXPECT_EQ(ev[0].position().seq(), 2);
  EXPECT_EQ(ev[0].position().term(), 3);
}

}  // namespace
}  // namespace shale::tablet::replication
