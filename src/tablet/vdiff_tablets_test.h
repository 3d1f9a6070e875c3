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
#include "tablet/reshard_tablets_test.h"

namespace shale::tablet {

// A merge: sources -40 and 40-80 (their rows only in their own ranges),
// target -80 with one stream from each. Items are sharded by id (the
// keyspace's column), orders by customer_id (the VSchema), countries is a
// reference table every source holds whole.
class VDiffTablets : public ReshardTabletsTest {
 protected:
  void SetUp() override {
    CreateReshardKeyspace({"-40", "40-80", "-80"});
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
