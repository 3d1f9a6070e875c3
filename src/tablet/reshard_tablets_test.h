#pragma once

// What the resharding tests with in-process tablets share
// (tablet_reshard_test, tablet_vdiff_rpc_test, ctl_vdiff_test): keyspace
// `app` with items sharded by id (the keyspace's column), orders by
// customer_id (the VSchema; not their primary key) and countries a reference
// table; tablets of its shards over loopback gRPC on the memory topology;
// statements through ExecuteFetchAsDba; and DbaWriter, a background writer.
// Test-only; each test owns its fixture; DbaWriter owns its thread.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tablet/shard_tablets_test.h"

namespace shale::tablet {

// Runs sql on the tablet through ExecuteFetchAsDba; the result or the error.
inline absl::StatusOr<QueryResult> RunAsDba(TabletServer& t, const std::string& sql) {
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(t.grpc_port()));
  ExecuteFetchAsDbaRequest req;
  req.set_sql(sql);
  auto r = c->Call(c->manager(), &TabletManager::Stub::ExecuteFetchAsDba, req, absl::Seconds(30));
  if (!r.ok()) return r.status();
  return r->result();
}

class ReshardTabletsTest : public ShardTabletsTest {
 protected:
  // Keyspace app (sharding column id, UINT64), its VSchema, and these shards.
  void CreateReshardKeyspace(const std::vector<std::string>& shards) {
    topodata::Keyspace k;
    k.set_sharding_column_name("id");
    k.set_sharding_column_type(topodata::UINT64);
    ASSERT_TRUE(topo_.ts.CreateKeyspace("app", k).ok());
    topodata::VSchema v;
    v.set_sharded(true);
    (*v.mutable_tables())["orders"].add_column_vindexes()->set_column("customer_id");
    (*v.mutable_tables())["countries"].set_type(topodata::VSchema::REFERENCE);
    ASSERT_TRUE(topo_.ts.SaveVSchema("app", v).ok());
    for (const std::string& shard : shards) ASSERT_TRUE(topo_.ts.CreateShard("app", shard).ok());
  }

  // A tablet of app/shard with 200 ms heartbeats; null (and a test failure)
  // if it does not start.
  std::unique_ptr<TabletServer> Start(uint32_t uid, const std::string& shard,
                                      topodata::TabletType type = topodata::PRIMARY) {
    TabletServerOptions o = TestTabletOptions(uid, type, dir_.path());
    o.shard = shard;
    o.heartbeat_interval = absl::Milliseconds(200);
    auto s = TabletServer::Start(&topo_.ts, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static absl::StatusOr<QueryResult> Dba(TabletServer& t, const std::string& sql) {
    return RunAsDba(t, sql);
  }
  static void Must(TabletServer& t, const std::string& sql) {
    auto r = Dba(t, sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
};

// Runs step(i) for i = first, first + 1, ... on its own thread until
// stopped; each step's statements run in order through ExecuteFetchAsDba on
// their tablets. Counts steps that had statements, and failed statements (each failure is also
// a test failure when fail_test_on_error).
class DbaWriter {
 public:
  using Statements = std::vector<std::pair<TabletServer*, std::string>>;
  DbaWriter(int64_t first, std::function<Statements(int64_t)> step, bool fail_test_on_error)
      : step_(std::move(step)), fail_test_on_error_(fail_test_on_error) {
    thread_ = std::thread([this, first] {
      for (int64_t i = first; !stop_.load(); ++i) {
        const Statements statements = step_(i);
        if (statements.empty()) continue;
        for (const auto& [tablet, sql] : statements) Run(*tablet, sql);
        writes_.fetch_add(1);
      }
    });
  }
  ~DbaWriter() { Stop(); }
  DbaWriter(const DbaWriter&) = delete;
  DbaWriter& operator=(const DbaWriter&) = delete;

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int writes() const { return writes_.load(); }
  int errors() const { return errors_.load(); }

 private:
  void Run(TabletServer& t, const std::string& sql) {
    absl::StatusOr<QueryResult> r = RunAsDba(t, sql);
    if (r.ok()) return;
    if (fail_test_on_error_) ADD_FAILURE() << sql << ": " << r.status();
    errors_.fetch_add(1);
  }

  std::function<Statements(int64_t)> step_;
  const bool fail_test_on_error_;
  std::atomic<bool> stop_{false};
  std::atomic<int> writes_{0};
  std::atomic<int> errors_{0};
  std::thread thread_;
};

}  // namespace shale::tablet
