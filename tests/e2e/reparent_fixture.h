#pragma once

// Helpers for the end-to-end tests of primary changes (reparent_test.cc,
// failover_test.cc): a shard of real `shale tablet` processes, the primary
// as the Shard record and the tablets see it, writes through the query
// path, row counts on every tablet, and `shale ctld` processes with their
// status port. Confined to the test thread.

#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/ctld_fixture.h"
#include "tests/e2e/tablet_fixture.h"

namespace shale::e2e {

class ReparentE2eTest : public TabletE2eTest {
 protected:
  // Starts replicas of app/0 with these aliases (no primary yet).
  void StartShard(const std::vector<std::string>& aliases) {
    for (const std::string& a : aliases) StartTablet(a, ReplicaFlags());
  }
  static std::vector<std::string> ReplicaFlags() {
    return {"--keyspace", "app", "--shard", "0", "--init-type", "replica"};
  }

  topodata::Shard Shard() {
    auto s = ts_->GetShard("app", "0");
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->record : topodata::Shard();
  }
  std::string ShardPrimary() {
    topodata::Shard s = Shard();
    return s.primary_alias().cell().empty()
               ? ""
               : topo::TabletAlias::FromProto(s.primary_alias()).ToString();
  }

  // The tablet's live state, or nothing if it does not answer.
  std::optional<tablet::TabletState> State(const std::string& alias) {
    auto c = ClientNoExpect(alias);
    if (c == nullptr) return std::nullopt;
    auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::GetState,
                     tablet::GetStateRequest(), absl::Seconds(2));
    if (!r.ok()) return std::nullopt;
    return r->state();
  }
  // The tablet says it is a serving, writable PRIMARY.
  bool IsServingPrimary(const std::string& alias) {
    std::optional<tablet::TabletState> s = State(alias);
    return s.has_value() && s->target().tablet_type() == topodata::PRIMARY && s->serving() &&
           !s->read_only();
  }

  // One statement through the query path, targeted at the tablet's type.
  absl::StatusOr<tablet::ExecuteResponse> Exec(const std::string& alias,
                                               topodata::TabletType type, const std::string& sql) {
    auto c = ClientNoExpect(alias);
    if (c == nullptr) return absl::UnavailableError(absl::StrCat("no client for ", alias));
    tablet::ExecuteRequest req;
    *req.mutable_target() = MakeTarget("app", "0", type);
    req.set_sql(sql);
    return c->Call(c->query(), &tablet::Query::Stub::Execute, req, absl::Seconds(10));
  }

  // Creates table t on the primary and inserts rows [from, to).
  void CreateTable(const std::string& primary) {
    auto r = Exec(primary, topodata::PRIMARY, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void InsertRows(const std::string& primary, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto r = Exec(primary, topodata::PRIMARY, absl::StrCat("INSERT INTO t VALUES (", i, ", 'v", i, "')"));
      ASSERT_TRUE(r.ok()) << "row " << i << " on " << primary << ": " << r.status();
    }
  }

  // Rows in t on the tablet (any type), or -1.
  int64_t RowCount(const std::string& alias) {
    auto c = ClientNoExpect(alias);
    if (c == nullptr) return -1;
    tablet::ExecuteFetchAsDbaRequest req;
    req.set_sql("SELECT count(*) FROM t");
    auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, req,
                     absl::Seconds(5));
    if (!r.ok() || r->result().rows_size() != 1) return -1;
    return r->result().rows(0).values(0).int64();
  }
  // Waits until every tablet listed has n rows.
  bool WaitRows(const std::vector<std::string>& aliases, int64_t n,
                absl::Duration timeout = absl::Seconds(30)) {
    for (const std::string& a : aliases) {
      if (!WaitFor(timeout, [&] { return RowCount(a) == n; })) {
        ADD_FAILURE() << a << " has " << RowCount(a) << " rows, expected " << n;
        return false;
      }
    }
    return true;
  }

  // kill -9 of a tablet process; waits until it is reaped.
  void Kill9(const std::string& alias) {
    Subprocess& p = *tablets_.at(alias);
    ASSERT_TRUE(p.Kill(SIGKILL).ok());
    ASSERT_TRUE(p.WaitFor(absl::Seconds(10)).ok());
  }

  // ---- ctld

  using Ctld = CtldProcess;
  // Starts `shale ctld` on this topology (free HTTP and gRPC ports).
  Ctld StartCtld(const std::string& failover_after) {
    return StartCtldProcess(topo(), {"--failover-after", failover_after, "--discovery-interval",
                                     "1s"});
  }

 private:
  std::unique_ptr<tablet::TabletClient> ClientNoExpect(const std::string& alias) {
    auto a = topo::TabletAlias::Parse(alias);
    if (!a.ok()) return nullptr;
    auto c = tablet::TabletClient::ForTablet(*ts_, *a);
    return c.ok() ? *std::move(c) : nullptr;
  }
};

}  // namespace shale::e2e
