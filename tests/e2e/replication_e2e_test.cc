// End-to-end tests of replication with real `shale tablet` processes
// (docs/replication.md): replicas converge to the primary's exact rows and
// schema (changesets of rowid and WITHOUT ROWID tables, ALTER TABLE, CREATE
// INDEX, DDL inside a transaction), a replica killed with kill -9 catches up
// after a restart, semi-sync loses no acknowledged write when the primary is
// killed, planned migrations back and forth under writers cause no client
// error, and a deposed primary with unreplicated rows re-clones.
//
// Convergence is checked with a checksum of every user table (rows sorted,
// hashed) and of the schema, taken with ExecuteFetchAsDba on each tablet
// after the replicas reached the primary's log position (WaitForPosition).
// A replica that finds a conflict re-clones and then converges anyway, so
// each tablet's log (<temp dir>/ALIAS.log, its warnings printed when a test
// fails) is also checked for "diverged": only a deposed primary may re-clone.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "tablet/proto_time.h"
#include "tests/e2e/dba.h"
#include "tests/e2e/reparent_fixture.h"
#include "tests/e2e/table_checksum.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kP[] = "zone1-101";
constexpr char kR2[] = "zone1-102";
constexpr char kR3[] = "zone1-103";

// Writer threads that insert unique ids into t(id, v) with autocommit
// through Query.Execute, target PRIMARY, each on its own client (a tablet
// fixed at the start: a former primary forwards through its tunnel). Every
// id is tried once: an acknowledged insert goes to acked, one that returned
// an error (outcome unknown) to failed. Results are read after Stop().
class InsertWriters {
 public:
  explicit InsertWriters(std::vector<std::unique_ptr<tablet::TabletClient>> clients)
      : clients_(std::move(clients)), per_writer_(clients_.size()) {
    for (size_t w = 0; w < clients_.size(); ++w) threads_.emplace_back([this, w] { Run(w); });
  }
  ~InsertWriters() { Stop(); }

  void Stop() {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  int64_t acked_count() const { return acked_count_.load(); }
  int64_t failed_count() const { return failed_count_.load(); }

  // After Stop().
  std::vector<int64_t> acked() const { return Merge(&PerWriter::acked); }
  std::vector<int64_t> failed() const { return Merge(&PerWriter::failed); }
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const PerWriter& p : per_writer_) out.insert(out.end(), p.errors.begin(), p.errors.end());
    return out;
  }

 private:
  struct PerWriter {
    std::vector<int64_t> acked, failed;
    std::vector<std::string> errors;
  };

  void Run(size_t w) {
    tablet::TabletClient& c = *clients_[w];
    PerWriter& out = per_writer_[w];
    for (int64_t i = 0; !stop_.HasBeenNotified(); ++i) {
      const int64_t id = static_cast<int64_t>(w + 1) * 10'000'000 + i;
      tablet::ExecuteRequest req;
      req.mutable_target()->set_keyspace("app");
      req.mutable_target()->set_shard("0");
      req.mutable_target()->set_tablet_type(topodata::PRIMARY);
      req.set_sql("INSERT INTO t (id, v) VALUES (?1, ?2)");
      req.add_binds()->set_int64(id);
      req.add_binds()->set_text(absl::StrCat("w", w, "-", i));
      absl::StatusOr<tablet::ExecuteResponse> r =
          c.Call(c.query(), &tablet::Query::Stub::Execute, req, absl::Seconds(15));
      if (r.ok()) {
        out.acked.push_back(id);
        acked_count_.fetch_add(1);
      } else {
        out.failed.push_back(id);
        if (out.errors.size() < 5) {
          out.errors.push_back(absl::StrCat(id, ": ", r.status().ToString()));
        }
        failed_count_.fetch_add(1);
        // Back off a little (ends at once on Stop) so a dead primary does not
        // turn the writers into a busy loop.
        stop_.WaitForNotificationWithTimeout(absl::Milliseconds(10));
      }
    }
  }

  std::vector<int64_t> Merge(std::vector<int64_t> PerWriter::*field) const {
    std::vector<int64_t> out;
    for (const PerWriter& p : per_writer_) {
      out.insert(out.end(), (p.*field).begin(), (p.*field).end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::unique_ptr<tablet::TabletClient>> clients_;
  std::vector<PerWriter> per_writer_;
  std::vector<std::thread> threads_;
  absl::Notification stop_;
  std::atomic<int64_t> acked_count_{0};
  std::atomic<int64_t> failed_count_{0};
};

class ReplicationE2eTest : public ReparentE2eTest {
 protected:
  const std::vector<std::string> all_ = {kP, kR2, kR3};

  void TearDown() override {
    if (!HasFailure()) return;
    for (const std::string& a : all_) {
      std::cout << "---- warnings and errors of " << a << " (" << LogPath(a) << "):\n";
      for (const std::string& line : LogLines(a)) {
        if (line.find("level=warn") != std::string::npos ||
            line.find("level=err") != std::string::npos) {
          std::cout << line << "\n";
        }
      }
    }
  }

  std::string LogPath(const std::string& alias) const {
    return absl::StrCat(dir_.path(), "/", alias, ".log");
  }
  std::vector<std::string> LogLines(const std::string& alias) const {
    std::vector<std::string> lines;
    std::ifstream in(LogPath(alias));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  // Lines of the tablet's log (all its runs) that contain needle.
  int LogCount(const std::string& alias, const std::string& needle) const {
    int n = 0;
    for (const std::string& line : LogLines(alias)) n += line.find(needle) != std::string::npos;
    return n;
  }
  // No tablet listed found its log diverged from its source (and re-cloned).
  void ExpectNoDivergence(const std::vector<std::string>& aliases) {
    for (const std::string& a : aliases) {
      EXPECT_EQ(LogCount(a, "diverged"), 0)
          << a << " diverged from its source and re-cloned (see its warnings)";
    }
  }

  // StartTablet with the tablet's stderr appended to LogPath(alias) (sh
  // execs the tablet: same process, so kill -9 reaches it).
  void StartLoggedTablet(const std::string& alias, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$@\" 2>>\"$0\"", LogPath(alias)};
    for (const std::string& arg : TabletArgs(alias, extra)) argv.push_back(arg);
    auto p = std::make_unique<Subprocess>();
    absl::Status s = p->Start(argv);
    ASSERT_TRUE(s.ok()) << s;
    tablets_[alias] = std::move(p);
    ASSERT_TRUE(WaitServing(alias)) << "tablet " << alias << " did not come up";
  }

  // Three tablets of app/0, zone1-101 elected primary, both replicas
  // streaming from it.
  void StartPrimaryAndReplicas() {
    for (const std::string& a : all_) {
      StartLoggedTablet(a, ReplicaFlags());
      if (HasFatalFailure()) return;
    }
    CliResult r = Ctl({"PlannedReparentShard", "app/0", "--new-primary", kP});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(kP); }));
    ASSERT_TRUE(WaitFollowers(kP, 2));
  }

  // Waits until n replicas stream from the primary.
  bool WaitFollowers(const std::string& primary, int n) {
    const bool ok = WaitFor(absl::Seconds(20), [&] {
      absl::StatusOr<tablet::ReplicationStatus> s = ReplStatus(primary);
      return s.ok() && s->followers_size() >= n;
    });
    EXPECT_TRUE(ok) << primary << " does not have " << n << " followers";
    return ok;
  }

  absl::StatusOr<tablet::ReplicationStatus> ReplStatus(const std::string& alias) {
    ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, Dial(alias));
    ASSIGN_OR_RETURN(tablet::ReplicationStatusResponse r,
                     c->Call(c->replication(), &tablet::Replication::Stub::ReplicationStatus,
                             tablet::ReplicationStatusRequest(), absl::Seconds(5)));
    return r.status();
  }

  absl::StatusOr<std::unique_ptr<tablet::TabletClient>> Dial(const std::string& alias) {
    ASSIGN_OR_RETURN(topo::TabletAlias a, topo::TabletAlias::Parse(alias));
    return tablet::TabletClient::ForTablet(*ts_, a);
  }

  // Clients for writer threads (made here: the topology is used on this thread only).
  std::vector<std::unique_ptr<tablet::TabletClient>> WriterClients(const std::string& alias,
                                                                   int n) {
    std::vector<std::unique_ptr<tablet::TabletClient>> out;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<std::unique_ptr<tablet::TabletClient>> c = Dial(alias);
      EXPECT_TRUE(c.ok()) << c.status();
      if (c.ok()) out.push_back(*std::move(c));
    }
    return out;
  }

  // A statement through the query path as PRIMARY; fails the test on error.
  void Write(const std::string& primary, const std::string& sql) {
    absl::StatusOr<tablet::ExecuteResponse> r = Exec(primary, topodata::PRIMARY, sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }

  // Runs the statements in one interactive transaction (Begin, Execute...,
  // Commit) as PRIMARY; the first error, with the statement that failed.
  absl::Status RunTxn(const std::string& primary, const std::vector<std::string>& statements) {
    ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, Dial(primary));
    tablet::BeginRequest begin;
    *begin.mutable_target() = MakeTarget("app", "0", topodata::PRIMARY);
    ASSIGN_OR_RETURN(tablet::BeginResponse b,
                     c->Call(c->query(), &tablet::Query::Stub::Begin, begin, absl::Seconds(10)));
    for (const std::string& sql : statements) {
      tablet::ExecuteRequest req;
      *req.mutable_target() = begin.target();
      req.set_transaction_id(b.transaction_id());
      req.set_sql(sql);
      absl::StatusOr<tablet::ExecuteResponse> r =
          c->Call(c->query(), &tablet::Query::Stub::Execute, req, absl::Seconds(10));
      if (!r.ok()) {
        return absl::Status(r.status().code(), absl::StrCat(sql, ": ", r.status().message()));
      }
    }
    tablet::CommitRequest commit;
    *commit.mutable_target() = begin.target();
    commit.set_transaction_id(b.transaction_id());
    absl::StatusOr<tablet::CommitResponse> done =
        c->Call(c->query(), &tablet::Query::Stub::Commit, commit, absl::Seconds(10));
    if (!done.ok()) {
      return absl::Status(done.status().code(), absl::StrCat("COMMIT: ", done.status().message()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<tablet::QueryResult> Dba(const std::string& alias, const std::string& sql) {
    ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, Dial(alias));
    return ExecuteFetchAsDba(*c, sql, absl::Seconds(10));
  }

  // The ids in t on the tablet, sorted.
  std::vector<int64_t> Ids(const std::string& alias) {
    absl::StatusOr<tablet::QueryResult> r = Dba(alias, "SELECT id FROM t ORDER BY id");
    EXPECT_TRUE(r.ok()) << alias << ": " << r.status();
    std::vector<int64_t> out;
    if (!r.ok()) return out;
    for (const tablet::Row& row : r->rows()) out.push_back(row.values(0).int64());
    return out;
  }

  // The tablet's schema and a hash of each user table's rows (table_checksum.h).
  absl::StatusOr<std::string> Checksum(const std::string& alias) {
    return TablesChecksum([&](const std::string& sql) { return Dba(alias, sql); });
  }

  // The primary's newest log position.
  tablet::LogPosition PrimaryPos(const std::string& primary) {
    absl::StatusOr<std::unique_ptr<tablet::TabletClient>> c = Dial(primary);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return tablet::LogPosition();
    auto pos = (*c)->Call((*c)->replication(), &tablet::Replication::Stub::PrimaryPosition,
                          tablet::PrimaryPositionRequest(), absl::Seconds(5));
    EXPECT_TRUE(pos.ok()) << primary << ": " << pos.status();
    return pos.ok() ? pos->position() : tablet::LogPosition();
  }

  // Waits until every replica has applied the primary's newest entry: its
  // position has that seq (WaitForPosition) and the primary's term. A seq
  // alone is not enough: a deposed primary's own log may be longer than the
  // new primary's until it finds out and re-clones.
  void WaitCaughtUp(const std::string& primary, const std::vector<std::string>& replicas) {
    const tablet::LogPosition want = PrimaryPos(primary);
    ASSERT_GT(want.seq(), 0);
    for (const std::string& r : replicas) {
      absl::StatusOr<std::unique_ptr<tablet::TabletClient>> c = Dial(r);
      ASSERT_TRUE(c.ok()) << c.status();
      absl::Status last;
      tablet::LogPosition got;
      const bool ok = WaitFor(absl::Seconds(20), [&] {
        tablet::WaitForPositionRequest req;
        req.set_seq(want.seq());
        *req.mutable_deadline() = tablet::ToProtoTime(absl::Now() + absl::Seconds(5));
        auto w = (*c)->Call((*c)->replication(), &tablet::Replication::Stub::WaitForPosition, req,
                            absl::Seconds(10));
        last = w.status();
        if (w.ok()) got = w->position();
        return w.ok() && got.seq() >= want.seq() && got.term() >= want.term();
      });
      ASSERT_TRUE(ok) << r << " did not reach " << want.DebugString() << " of " << primary
                      << ": last at " << got.DebugString() << ", " << last;
    }
  }

  // Every tablet listed has the primary's checksum (after WaitCaughtUp).
  void ExpectSameChecksums(const std::string& primary, const std::vector<std::string>& replicas) {
    absl::StatusOr<std::string> want = Checksum(primary);
    ASSERT_TRUE(want.ok()) << want.status();
    std::cout << "checksum of " << primary << ":\n" << *want;
    for (const std::string& r : replicas) {
      absl::StatusOr<std::string> got = Checksum(r);
      ASSERT_TRUE(got.ok()) << r << ": " << got.status();
      EXPECT_EQ(*got, *want) << r << " differs from the primary " << primary;
    }
  }

  void CreateT(const std::string& primary) {
    Write(primary, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  }

  // Waits until the writers acknowledged n more writes than now.
  bool WaitMoreAcked(const InsertWriters& w, int64_t n,
                     absl::Duration timeout = absl::Seconds(20)) {
    const int64_t target = w.acked_count() + n;
    const bool ok = WaitFor(timeout, [&] { return w.acked_count() >= target; });
    EXPECT_TRUE(ok) << "writers stuck at " << w.acked_count() << " acknowledged (waiting for "
                    << target << "), " << w.failed_count() << " failed";
    return ok;
  }
};

// Keys of the rows a sequence of statements leaves, tracked by the test so
// that the counts on every tablet can be checked against it.
struct Model {
  std::set<int64_t> items;
  std::set<std::pair<std::string, int64_t>> kv;
};

TEST_F(ReplicationE2eTest, ReplicaConvergesChecksumEqual) {
  StartPrimaryAndReplicas();
  Model m;
  Write(kP,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, "
        "price REAL, data BLOB)");
  Write(kP,
        "CREATE TABLE kv (ns TEXT NOT NULL, k INTEGER NOT NULL, v TEXT, "
        "PRIMARY KEY (ns, k)) WITHOUT ROWID");
  // Single-row inserts with every value type, NULLs included.
  for (int64_t i = 0; i < 120; ++i) {
    const std::string blob =
        i % 4 == 0
            ? "NULL"
            : absl::StrCat("X'", absl::Hex(static_cast<uint32_t>(i * 2654435761u), absl::kZeroPad8),
                           "00ff'");
    Write(kP, absl::StrCat("INSERT INTO items VALUES (", i, ", 'item-", i, "', ",
                           i % 9 == 0 ? "NULL" : absl::StrCat(i * 7 % 13), ", ", i * 1.25 + 0.1,
                           ", ", blob, ")"));
    m.items.insert(i);
  }
  // Multi-row inserts into the composite-key table.
  for (const std::string ns : {"a", "b", "c"}) {
    for (int64_t base = 0; base < 90; base += 30) {
      std::string sql = "INSERT INTO kv VALUES ";
      for (int64_t k = base; k < base + 30; ++k) {
        absl::StrAppend(&sql, k == base ? "" : ", ", "('", ns, "', ", k, ", 'v-", ns, "-", k, "')");
        m.kv.insert({ns, k});
      }
      Write(kP, sql);
    }
  }
  Write(kP, "UPDATE items SET qty = coalesce(qty, 0) + 100, price = price / 3 WHERE id % 4 = 1");
  Write(kP, "DELETE FROM items WHERE id % 10 = 7");
  for (int64_t i = 7; i < 120; i += 10) m.items.erase(i);
  // A primary key change in a WITHOUT ROWID table (a delete plus an insert).
  Write(kP, "UPDATE kv SET k = k + 1000, v = upper(v) WHERE ns = 'b' AND k % 3 = 0");
  for (int64_t k = 0; k < 90; k += 3) {
    m.kv.erase({"b", k});
    m.kv.insert({"b", k + 1000});
  }
  Write(kP, "DELETE FROM kv WHERE ns = 'c' AND k < 20");
  for (int64_t k = 0; k < 20; ++k) m.kv.erase({"c", k});
  // New columns (with a default: AddColumnWithDefault... below),
  // then changes to old and new rows.
  Write(kP, "ALTER TABLE items ADD COLUMN note TEXT");
  Write(kP, "ALTER TABLE kv ADD COLUMN extra INTEGER");
  Write(kP, "UPDATE items SET note = 'n' || id WHERE id % 5 = 0");
  for (int64_t i = 1000; i < 1020; ++i) {
    Write(kP, absl::StrCat("INSERT INTO items (id, name, qty, note) VALUES (", i, ", 'late-", i,
                           "', ", i % 3, ", 'fresh')"));
    m.items.insert(i);
  }
  Write(kP, "DELETE FROM items WHERE id IN (15, 1015)");
  m.items.erase(15);
  m.items.erase(1015);
  Write(kP, "CREATE INDEX items_by_name ON items (name, qty)");
  Write(kP, "CREATE UNIQUE INDEX kv_by_v ON kv (v)");

  // One transaction mixing changes and DDL, replayed in execution order
  // (DDL on a table the transaction changed before: DdlAfterChanges... below).
  absl::Status txn = RunTxn(
      kP, {"INSERT INTO kv VALUES ('d', 1, 'd1', NULL), ('d', 2, 'd2', NULL)",
           "ALTER TABLE items ADD COLUMN tag INTEGER", "CREATE INDEX items_by_tag ON items (tag)",
           "UPDATE kv SET extra = k * 2 WHERE ns IN ('a', 'd')",
           "UPDATE items SET tag = id % 3 WHERE id >= 10", "DELETE FROM items WHERE id < 10"});
  ASSERT_TRUE(txn.ok()) << txn;
  m.kv.insert({"d", 1});
  m.kv.insert({"d", 2});
  for (int64_t i = 0; i < 10; ++i) m.items.erase(i);
  // Many small autocommit updates after the schema changes.
  for (int64_t i = 10; i < 120; i += 3) {
    Write(kP, absl::StrCat("UPDATE items SET qty = qty - 1, note = coalesce(note, '') || '+' "
                           "WHERE id = ",
                           i));
  }
  Write(kP, "UPDATE kv SET v = v || '!', extra = extra - 1 WHERE k % 7 = 0");

  WaitCaughtUp(kP, {kR2, kR3});
  ExpectSameChecksums(kP, {kR2, kR3});
  for (const std::string& a : all_) {
    absl::StatusOr<tablet::QueryResult> n =
        Dba(a,
            "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM kv), "
            "(SELECT count(*) FROM items WHERE note = 'fresh'), "
            "(SELECT count(*) FROM kv WHERE extra IS NOT NULL), "
            "(SELECT count(*) FROM items WHERE tag IS NOT NULL), "
            "(SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
            "name IN ('items_by_name', 'kv_by_v', 'items_by_tag'))");
    ASSERT_TRUE(n.ok()) << a << ": " << n.status();
    const tablet::Row& row = n->rows(0);
    EXPECT_EQ(row.values(0).int64(), static_cast<int64_t>(m.items.size())) << a;
    EXPECT_EQ(row.values(1).int64(), static_cast<int64_t>(m.kv.size())) << a;
    EXPECT_EQ(row.values(2).int64(), 19) << a;  // 1000..1019 but 1015
    EXPECT_EQ(row.values(3).int64(), 92) << a;  // ns 'a' (90) and 'd' (2)
    EXPECT_EQ(row.values(4).int64(), static_cast<int64_t>(m.items.size())) << a;
    EXPECT_EQ(row.values(5).int64(), 3) << a;
  }
  ExpectNoDivergence(all_);
}

// After `ALTER TABLE ... ADD COLUMN c DEFAULT <non-NULL>`, the primary's
// changeset for an UPDATE or DELETE of a row written before the ALTER carries
// NULL as c's old value (SQLite does not report the default of a column the
// row does not store) while the replica's row has the default. The replica
// applies it anyway (the logs match) instead of re-cloning.
TEST_F(ReplicationE2eTest, AddColumnWithDefaultThenUpdateReplicatesWithoutReclone) {
  StartPrimaryAndReplicas();
  Write(kP, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  Write(kP, "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c'), (5, 'e')");
  WaitCaughtUp(kP, {kR2, kR3});
  Write(kP, "ALTER TABLE items ADD COLUMN note TEXT DEFAULT 'none'");
  Write(kP, "UPDATE items SET note = 'five' WHERE id = 5");
  Write(kP, "DELETE FROM items WHERE id = 3");
  WaitCaughtUp(kP, {kR2, kR3});
  ExpectSameChecksums(kP, {kR2, kR3});
  ExpectNoDivergence(all_);
}

// A transaction that changes rows of a table and then alters that table
// commits: the changeset so far is closed before the DDL runs.
TEST_F(ReplicationE2eTest, DdlAfterChangesToTheSameTableInOneTransactionCommits) {
  StartPrimaryAndReplicas();
  Write(kP,
        "CREATE TABLE kv (ns TEXT NOT NULL, k INTEGER NOT NULL, v TEXT, "
        "PRIMARY KEY (ns, k)) WITHOUT ROWID");
  Write(kP, "INSERT INTO kv VALUES ('a', 1, 'a1'), ('a', 2, 'a2')");
  absl::Status s = RunTxn(kP, {"INSERT INTO kv VALUES ('d', 1, 'd1'), ('d', 2, 'd2')",
                               "ALTER TABLE kv ADD COLUMN extra INTEGER",
                               "UPDATE kv SET extra = k * 2 WHERE ns IN ('a', 'd')"});
  ASSERT_TRUE(s.ok()) << s;
  WaitCaughtUp(kP, {kR2, kR3});
  ExpectSameChecksums(kP, {kR2, kR3});
  absl::StatusOr<tablet::QueryResult> n = Dba(kR2, "SELECT count(*) FROM kv WHERE extra > 0");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->rows(0).values(0).int64(), 4);
  ExpectNoDivergence(all_);
}

TEST_F(ReplicationE2eTest, ReplicaKilledWithKill9RestartsAndCatchesUp) {
  StartPrimaryAndReplicas();
  CreateT(kP);
  Write(kP, "CREATE TABLE side (k TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID");
  InsertWriters writers(WriterClients(kP, 2));
  ASSERT_TRUE(WaitMoreAcked(writers, 100));
  WaitCaughtUp(kP, {kR3});

  // kill -9 while the writers run; the primary keeps committing.
  Kill9(kR3);
  ASSERT_TRUE(WaitMoreAcked(writers, 200));
  for (int i = 0; i < 20; ++i) {
    Write(kP, absl::StrCat("INSERT INTO side VALUES ('k", i, "', ", i, ")"));
  }
  Write(kP, "UPDATE side SET n = n * 10 WHERE n % 2 = 0");
  Write(kP, "DELETE FROM side WHERE n = 7");

  // Same data dir and flags: it resumes from its own log position.
  StartLoggedTablet(kR3, ReplicaFlags());
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    std::optional<tablet::TabletState> s = State(kR3);
    return s.has_value() && s->target().tablet_type() == topodata::REPLICA;
  }));
  ASSERT_TRUE(WaitMoreAcked(writers, 100));  // writes go on while it catches up
  writers.Stop();
  EXPECT_EQ(writers.failed_count(), 0) << testing::PrintToString(writers.errors());

  WaitCaughtUp(kP, {kR2, kR3});
  ExpectSameChecksums(kP, {kR2, kR3});
  absl::StatusOr<tablet::ReplicationStatus> st = ReplStatus(kR3);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->running()) << st->DebugString();
  EXPECT_EQ(st->source().uid(), 101) << st->DebugString();
  // Exactly the acknowledged inserts, on the restarted replica too.
  const std::vector<int64_t> ids = Ids(kR3);
  EXPECT_EQ(ids.size(), writers.acked().size());
  EXPECT_TRUE(ids == writers.acked()) << "the ids on " << kR3 << " are not the acknowledged ones";
  ExpectNoDivergence(all_);
}

TEST_F(ReplicationE2eTest, SemiSyncKill9LosesNoAcknowledgedWrite) {
  // The keyspace exists before the tablets start, so they read its policy.
  CliResult ks = Ctl({"CreateKeyspace", "app", "--durability", "semi_sync"});
  ASSERT_EQ(ks.exit_code, 0) << ks.err;
  StartPrimaryAndReplicas();
  CreateT(kP);
  // The policy is in force: with no replica streaming, a commit is not
  // acknowledged (40003 after --semi-sync-timeout, 1 s); its outcome is unknown.
  constexpr int64_t kProbeId = 7;
  for (const std::string r : {kR2, kR3}) {
    CliResult stop = Ctl({"StopReplication", r});
    ASSERT_EQ(stop.exit_code, 0) << stop.err;
  }
  absl::StatusOr<tablet::ExecuteResponse> probe =
      Exec(kP, topodata::PRIMARY, absl::StrCat("INSERT INTO t VALUES (", kProbeId, ", 'probe')"));
  EXPECT_TRUE(absl::IsUnavailable(probe.status())) << probe.status();
  EXPECT_THAT(probe.status().message(), HasSubstr("semi_sync"));
  for (const std::string r : {kR2, kR3}) {
    CliResult start = Ctl({"StartReplication", r});
    ASSERT_EQ(start.exit_code, 0) << start.err;
  }
  ASSERT_TRUE(WaitFollowers(kP, 2));

  InsertWriters writers(WriterClients(kP, 4));
  ASSERT_TRUE(WaitMoreAcked(writers, 300));
  // Right after a burst, with writes in flight.
  ASSERT_TRUE(WaitMoreAcked(writers, 50));
  Kill9(kP);
  const int64_t acked_at_kill = writers.acked_count();
  CliResult ers = Ctl({"EmergencyReparentShard", "app/0"});
  writers.Stop();
  ASSERT_EQ(ers.exit_code, 0) << ers.err;
  nlohmann::json j = nlohmann::json::parse(ers.out, nullptr, false);
  const std::string primary = j.value("new_primary", "");
  ASSERT_TRUE(primary == kR2 || primary == kR3) << ers.out;
  const std::string other = primary == kR2 ? kR3 : kR2;
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(primary); }));

  const std::vector<int64_t> acked = writers.acked();
  std::vector<int64_t> failed = writers.failed();
  failed.push_back(kProbeId);
  std::sort(failed.begin(), failed.end());
  std::cout << "acknowledged " << acked.size() << " (" << acked_at_kill << " at the kill), failed "
            << failed.size() << ", ERS took " << j["took_ms"] << " ms\n";
  EXPECT_GE(static_cast<int64_t>(acked.size()), acked_at_kill);
  const std::vector<int64_t> ids = Ids(primary);
  int missing = 0;
  for (int64_t id : acked) {
    if (!std::binary_search(ids.begin(), ids.end(), id)) {
      if (++missing <= 10) ADD_FAILURE() << "acknowledged id " << id << " lost on " << primary;
    }
  }
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged";
  // Every row is an acknowledged write or one whose outcome was unknown.
  int phantom = 0;
  for (int64_t id : ids) {
    if (!std::binary_search(acked.begin(), acked.end(), id) &&
        !std::binary_search(failed.begin(), failed.end(), id)) {
      ++phantom;
    }
  }
  EXPECT_EQ(phantom, 0);
  EXPECT_GE(ids.size(), acked.size());
  EXPECT_LE(ids.size(), acked.size() + failed.size());

  // The surviving replica follows the new primary to the same rows.
  ASSERT_TRUE(WaitFollowers(primary, 1));
  Write(primary, "INSERT INTO t VALUES (1, 'after')");
  WaitCaughtUp(primary, {other});
  ExpectSameChecksums(primary, {other});
  ExpectNoDivergence({primary, other});
}

TEST_F(ReplicationE2eTest, PlannedMigrationUnderWriterZeroErrorsBackAndForth) {
  StartPrimaryAndReplicas();
  CreateT(kP);
  // Writers stay on zone1-101 (target PRIMARY); while it is a replica, it
  // forwards them through its tunnel.
  InsertWriters writers(WriterClients(kP, 3));
  ASSERT_TRUE(WaitMoreAcked(writers, 100));
  for (const std::string to : {kR2, kP, kR3, kP}) {
    CliResult r = Ctl({"PlannedReparentShard", "app/0", "--new-primary", to});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_EQ(j.value("new_primary", ""), to) << r.out;
    std::cout << "PlannedReparentShard " << j["old_primary"] << " -> " << to << ": stall_us "
              << j["stall_us"] << ", forwarded " << j["forwarded"] << ", rolled_back "
              << j["rolled_back"] << ", took " << j["took_ms"] << " ms\n";
    EXPECT_EQ(j["rolled_back"], 0);
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(to); })) << to;
    ASSERT_TRUE(WaitMoreAcked(writers, 100)) << "after the move to " << to;
  }
  writers.Stop();
  EXPECT_EQ(writers.failed_count(), 0) << testing::PrintToString(writers.errors());
  EXPECT_EQ(ShardPrimary(), kP);

  const std::vector<int64_t> acked = writers.acked();
  const std::vector<int64_t> ids = Ids(kP);  // sorted, and unique (primary key)
  EXPECT_EQ(ids.size(), acked.size());
  int missing = 0;
  for (int64_t id : acked) {
    if (!std::binary_search(ids.begin(), ids.end(), id) && ++missing <= 10) {
      ADD_FAILURE() << "acknowledged id " << id << " missing on " << kP;
    }
  }
  EXPECT_EQ(missing, 0);
  WaitCaughtUp(kP, {kR2, kR3});
  ExpectSameChecksums(kP, {kR2, kR3});
  ExpectNoDivergence(all_);
}

TEST_F(ReplicationE2eTest, DeposedPrimaryRejoinsWithoutDivergentRows) {
  StartPrimaryAndReplicas();
  CreateT(kP);
  InsertRows(kP, 0, 10);
  WaitCaughtUp(kP, {kR2, kR3});
  for (const std::string r : {kR2, kR3}) {
    CliResult stop = Ctl({"StopReplication", r});
    ASSERT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_THAT(stop.out, HasSubstr("\"running\": false"));
  }
  // Rows only the old primary ever has (durability none: acknowledged alone).
  InsertRows(kP, 10, 15);
  Write(kP, "UPDATE t SET v = 'divergent' WHERE id < 3");
  ASSERT_EQ(RowCount(kP), 15);
  EXPECT_EQ(RowCount(kR2), 10);
  EXPECT_EQ(RowCount(kR3), 10);

  Kill9(kP);
  CliResult ers = Ctl({"EmergencyReparentShard", "app/0"});
  ASSERT_EQ(ers.exit_code, 0) << ers.err;
  nlohmann::json j = nlohmann::json::parse(ers.out, nullptr, false);
  const std::string primary = j.value("new_primary", "");
  ASSERT_TRUE(primary == kR2 || primary == kR3) << ers.out;
  const std::string other = primary == kR2 ? kR3 : kR2;
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(primary); }));
  // New rows, two of them with ids the old primary used for other values.
  Write(primary, "INSERT INTO t VALUES (10, 'new-10'), (11, 'new-11'), (20, 'new-20')");
  const int64_t term = Shard().primary_term();

  // The deposed primary restarts as a REPLICA of the new one and re-clones.
  StartLoggedTablet(kP, ReplicaFlags());
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    std::optional<tablet::TabletState> s = State(kP);
    return s.has_value() && s->target().tablet_type() == topodata::REPLICA;
  }));
  EXPECT_FALSE(IsServingPrimary(kP));
  Write(primary, "INSERT INTO t VALUES (21, 'new-21')");
  WaitCaughtUp(primary, {kP, other});
  ExpectSameChecksums(primary, {kP, other});
  absl::StatusOr<tablet::QueryResult> rows = Dba(kP, "SELECT id, v FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::vector<std::string> got;
  for (const tablet::Row& row : rows->rows()) {
    got.push_back(absl::StrCat(row.values(0).int64(), "=", row.values(1).text()));
  }
  EXPECT_THAT(got, ::testing::ElementsAre("0=v0", "1=v1", "2=v2", "3=v3", "4=v4", "5=v5", "6=v6",
                                          "7=v7", "8=v8", "9=v9", "10=new-10", "11=new-11",
                                          "20=new-20", "21=new-21"));
  EXPECT_EQ(ShardPrimary(), primary);
  EXPECT_EQ(Shard().primary_term(), term);
  absl::StatusOr<tablet::ReplicationStatus> st = ReplStatus(kP);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_FALSE(st->is_primary());
  EXPECT_EQ(st->term(), term) << st->DebugString();
  // It found its log diverged and cloned (the others never diverged).
  EXPECT_GE(LogCount(kP, "diverged"), 1);
  EXPECT_GE(LogCount(kP, "cloned from " + primary), 1);
  ExpectNoDivergence({primary, other});
}

}  // namespace
}  // namespace shale::e2e
