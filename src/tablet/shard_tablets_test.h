#pragma once

// The fixture of the tests that run several in-process tablets of one shard
// (app/0) over loopback gRPC on the memory topology: replication_test.cc,
// changes_test.cc. Test-only; each test owns its fixture. PendingWrite: one
// write on a thread of its own (owned by the test).

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tablet/client/tablet_client.h"
#include "tablet/tablet_server.h"
#include "tablet/test_tablet_options.h"
#include "tablet/test_topo.h"

namespace shale::tablet {

inline Target TestTarget(const std::string& keyspace, const std::string& shard,
                         topodata::TabletType type = topodata::PRIMARY) {
  Target t;
  t.set_keyspace(keyspace);
  t.set_shard(shard);
  t.set_tablet_type(type);
  return t;
}

class ShardTabletsTest : public ::testing::Test {
 protected:
  std::unique_ptr<TabletServer> StartTablet(uint32_t uid, topodata::TabletType type) {
    TabletServerOptions o = TestTabletOptions(uid, type, dir_.path());
    o.heartbeat_interval = absl::Milliseconds(200);
    o.semi_sync_timeout = absl::Milliseconds(300);
    auto s = TabletServer::Start(&topo_.ts, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static std::unique_ptr<TabletClient> Client(TabletServer& t) {
    return TabletClient::Connect("127.0.0.1:" + std::to_string(t.grpc_port()));
  }

  static absl::StatusOr<QueryResult> Exec(TabletClient& c, const std::string& sql,
                                          topodata::TabletType type = topodata::PRIMARY) {
    return ExecAt(c, TestTarget("app", "0", type), sql);
  }

  static absl::StatusOr<QueryResult> ExecAt(TabletClient& c, const Target& target,
                                            const std::string& sql) {
    ExecuteRequest req;
    *req.mutable_target() = target;
    req.set_sql(sql);
    auto r = c.Call(c.query(), &Query::Stub::Execute, req, absl::Seconds(30));
    if (!r.ok()) return r.status();
    return r->result();
  }

  // MigratePrimary on `from`, handing over to `to` with `term`.
  static absl::StatusOr<MigratePrimaryResponse> Migrate(TabletServer& from, TabletServer& to,
                                                        int64_t term, int64_t grace_ms = 0,
                                                        int64_t timeout_ms = 0) {
    auto cl = Client(from);
    MigratePrimaryRequest req;
    *req.mutable_candidate() = to.state().Snapshot().record.alias();
    req.set_new_term(term);
    req.set_grace_ms(grace_ms);
    req.set_timeout_ms(timeout_ms);
    return cl->Call(cl->manager(), &TabletManager::Stub::MigratePrimary, req);
  }

  // Every user table's rows, ordered, as one string (a checksum stand-in).
  static std::string Content(TabletServer& t) {
    auto tables = t.engine().ExecuteInternal(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '\\_shale\\_%' "
        "ESCAPE '\\' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    EXPECT_TRUE(tables.ok()) << tables.status();
    std::string out;
    for (const auto& row : tables->rows) {
      const std::string name = row[0].text();
      auto rows = t.engine().ExecuteInternal("SELECT * FROM " + name + " ORDER BY 1");
      EXPECT_TRUE(rows.ok()) << rows.status();
      out += name + ":";
      for (const auto& r : rows->rows) {
        for (const auto& v : r) out += v.DebugString() + ",";
        out += ";";
      }
    }
    return out;
  }

  // Waits until the replica holds the primary's newest entry (same seq and
  // term: a diverged log with as many entries does not count).
  static void WaitCaughtUp(TabletServer& replica, TabletServer& primary) {
    const LogPosition want = primary.replication().position().Get();
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    LogPosition have = replica.replication().position().Get();
    while (absl::Now() < deadline) {
      have = replica.replication().position().Get();
      // Past the primary's entry in the same or a newer term. A replica
      // further along in an older term has diverged (a deposed primary that
      // went on writing alone): it is not caught up until it has rejoined.
      if ((have.seq() > want.seq() && have.term() >= want.term()) ||
          (have.seq() == want.seq() && have.term() == want.term())) {
        return;
      }
      replica.replication().position().WaitPast(have.seq(), absl::Now() + absl::Milliseconds(50));
    }
    FAIL() << "replica at " << have.seq() << " (term " << have.term() << "), primary at "
           << want.seq() << " (term " << want.term()
           << "): " << replica.replication().Status().last_error();
  }

  // Creates keyspace app with durability semi_sync (before its tablets start).
  void CreateSemiSyncKeyspace() {
    topodata::Keyspace k;
    k.set_durability_policy(topodata::SEMI_SYNC);
    ASSERT_TRUE(topo_.ts.CreateKeyspace("app", k).ok());
  }

  TestTopo topo_;
  TestDir dir_;
};

// One write (to app/0@PRIMARY unless told) sent on its own thread; done once
// answered.
struct PendingWrite {
  PendingWrite(TabletClient* c, std::string sql,
               Target target = TestTarget("app", "0"))
      : thread([this, c, sql, target] {
          ExecuteRequest req;
          *req.mutable_target() = target;
          req.set_sql(sql);
          status = c->Call(c->query(), &Query::Stub::Execute, req, absl::Seconds(60)).status();
          done.store(true);
        }) {}
  ~PendingWrite() {
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> done{false};
  absl::Status status;
  std::thread thread;
};

}  // namespace shale::tablet
