#pragma once

// The fixture of the VDiff tests that run real streams (tablet_vdiff_rpc_test,
// ctl_vdiff_test): in-process tablets over loopback gRPC on the memory
// topology, a merge of shards -40 and 40-80 into -80. Test-only; each test
// owns its fixture.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/wait_for.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/shard_tablets_test.h"

namespace shale::tablet {

// A merge: sources -40 and 40-80 (their rows only in their own ranges),
// target -80 with one stream from each. Items are sharded by id (the
// keyspace's column), orders by customer_id (the VSchema), countries is a
// reference table every source holds whole.
class VDiffTablets : public ShardTabletsTest {
 protected:
  void SetUp() override {
    topodata::Keyspace k;
    k.set_sharding_column_name("id");
    k.set_sharding_column_type(topodata::UINT64);
    ASSERT_TRUE(topo_.ts.CreateKeyspace("app", k).ok());
    topodata::VSchema v;
    v.set_sharded(true);
    (*v.mutable_tables())["orders"].add_column_vindexes()->set_column("customer_id");
    (*v.mutable_tables())["countries"].set_type(topodata::VSchema::REFERENCE);
    ASSERT_TRUE(topo_.ts.SaveVSchema("app", v).ok());
    for (const char* shard : {"-40", "40-80", "-80"}) {
      ASSERT_TRUE(topo_.ts.CreateShard("app", shard).ok());
    }
    low_ = Start(101, "-40");
    high_ = Start(201, "40-80");
    target_ = Start(301, "-80");
    ASSERT_NE(low_, nullptr);
    ASSERT_NE(high_, nullptr);
    ASSERT_NE(target_, nullptr);
    for (TabletServer* s : {low_.get(), high_.get()}) {
      Must(*s, "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER, name TEXT)");
      Must(*s, "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, note)");
      Must(*s, "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)");
      Must(*s, "INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany')");
    }
    // Ids and customers in -80, each on its own source.
    for (int64_t id = 1; items_ < 200; ++id) {
      if (!InTarget(id)) continue;
      ++items_;
      Must(SourceOf(id), absl::StrCat("INSERT INTO items VALUES (", id, ",", id * 10, ",'i", id,
                                      "')"));
      Must(SourceOf(id), absl::StrCat("INSERT INTO orders VALUES (", 1000 + id, ",", id,
                                      ", x'0102')"));
    }
    auto r = topo_.ts.UpdateShardFields("app", "-80", [&](topodata::Shard& s) {
      uint32_t uid = 1;
      for (const char* shard : {"-40", "40-80"}) {
        auto* src = s.add_source_shards();
        src->set_uid(uid++);
        src->set_keyspace("app");
        src->set_shard(shard);
        *src->mutable_key_range() = key::KeyRange::Parse(shard)->ToProto();
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return Running(1) && Running(2); }));
  }

  std::unique_ptr<TabletServer> Start(uint32_t uid, const std::string& shard) {
    TabletServerOptions o = TestTabletOptions(uid, topodata::PRIMARY, dir_.path());
    o.shard = shard;
    o.heartbeat_interval = absl::Milliseconds(200);
    auto s = TabletServer::Start(&topo_.ts, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static absl::Status Dba(TabletServer& t, const std::string& sql) {
    auto c = Client(t);
    ExecuteFetchAsDbaRequest req;
    req.set_sql(sql);
    return c->Call(c->manager(), &TabletManager::Stub::ExecuteFetchAsDba, req).status();
  }
  static void Must(TabletServer& t, const std::string& sql) {
    absl::Status s = Dba(t, sql);
    ASSERT_TRUE(s.ok()) << sql << ": " << s;
  }

  static bool InTarget(int64_t id) {
    return key::KeyRange::Parse("-80")->Contains(key::HashInt64(id));
  }
  TabletServer& SourceOf(int64_t id) {
    return key::KeyRange::Parse("-40")->Contains(key::HashInt64(id)) ? *low_ : *high_;
  }

  bool Running(uint32_t uid) {
    for (const StreamState& s : target_->streams().States()) {
      if (s.uid() == uid) return s.phase() == RUNNING;
    }
    return false;
  }

  absl::StatusOr<VDiffResponse> VDiff(TabletServer& t, std::vector<std::string> tables = {}) {
    auto c = Client(t);
    VDiffRequest req;
    for (const auto& table : tables) req.add_tables(table);
    req.set_timeout_ms(20000);
    return c->Call(c->reshard(), &Reshard::Stub::VDiff, req, absl::Seconds(60));
  }

  static const TableDiff* Table(const VDiffResponse& r, const std::string& name) {
    for (const TableDiff& t : r.tables()) {
      if (t.table() == name) return &t;
    }
    return nullptr;
  }

  std::unique_ptr<TabletServer> low_, high_, target_;
  int items_ = 0;
};

}  // namespace shale::tablet
