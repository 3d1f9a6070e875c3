#include "tests/chaos/chaos_cluster.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tests/e2e/dba.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/table_checksum.h"

namespace shale::chaos {
namespace {

constexpr int kReplicas = 2;
constexpr int kTablets = 2 * (kReplicas + 1);

}  // namespace

const std::vector<std::string>& ChaosTest::CtldFlags() {
  static const std::vector<std::string> flags = {"--failover-after", "1.5s", "--discovery-interval",
                                                 "1s"};
  return flags;
}

std::vector<std::string> ChaosTest::TabletFlags(int shard) {
  return {"--keyspace", "app", "--shard", kShards[shard], "--init-type", "replica"};
}

void ChaosTest::SetUp() {
  absl::StatusOr<std::unique_ptr<topo::EtcdTestServer>> etcd = topo::EtcdTestServer::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  etcd_ = *std::move(etcd);
  std::filesystem::create_directories(LogDir());
  GateE2eTest::SetUp();
  if (HasFatalFailure()) return;
  MountDataDirs(kReplicas);
  ASSERT_NO_FATAL_FAILURE(StartCluster(kReplicas, "semi_sync", CtldFlags()));
  ASSERT_NO_FATAL_FAILURE(StartGate());
  PsqlOk("CREATE TABLE chaos (id INTEGER PRIMARY KEY, w INTEGER NOT NULL, v TEXT NOT NULL)");
}

void ChaosTest::TearDown() {
  if (load_ != nullptr) load_->Stop();
  if (sampler_ != nullptr) sampler_->Stop();
  gate_.reset();
  ctld_.process.reset();
  tablets_.clear();      // SIGKILL (also of a stopped process) and reap
  data_mounts_.clear();  // unmount, now that no tablet uses them
  ts_.reset();
  etcd_.reset();
  if (!HasFailure()) return;
  // The warnings and errors of every process, to tell what went wrong.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(LogDir(), ec)) {
    std::ifstream in(entry.path());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      if (absl::StrContains(line, "level=warn") || absl::StrContains(line, "level=err")) {
        lines.push_back(line);
      }
    }
    std::cout << "---- " << entry.path().string() << ": " << lines.size()
              << " warnings and errors, the last 15:\n";
    for (size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) {
      std::cout << lines[i] << "\n";
    }
  }
}

std::string ChaosTest::topo() const { return etcd_->Address("/shale"); }

std::string ChaosTest::LogDir() const {
  const char* dir = std::getenv("SHALE_CHAOS_LOG_DIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : absl::StrCat(dir_.path(), "/logs");
}

std::vector<std::string> ChaosTest::LaunchPrefix(const std::string& name) const {
  // sh ignores SIGXFSZ (kept across exec) and appends stderr to the log,
  // then becomes the process: kill -9 of the Subprocess reaches it.
  return {"/bin/sh", "-c", "trap '' XFSZ; exec \"$@\" 2>>\"$0\"",
          absl::StrCat(LogDir(), "/", name, ".log")};
}

std::string ChaosTest::ShardPrimary(int shard) {
  absl::StatusOr<topo::ShardInfo> s = ts_->GetShard("app", kShards[shard]);
  if (!s.ok() || s->record.primary_alias().cell().empty()) return "";
  return topo::TabletAlias::FromProto(s->record.primary_alias()).ToString();
}

std::vector<std::string> ChaosTest::Replicas(int shard) {
  const std::string primary = ShardPrimary(shard);
  std::vector<std::string> out;
  for (int n = 0; n <= kReplicas; ++n) {
    if (Alias(shard, n) != primary) out.push_back(Alias(shard, n));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<tablet::TabletClient>> ChaosTest::Dial(const std::string& alias) {
  ASSIGN_OR_RETURN(topo::TabletAlias a, topo::TabletAlias::Parse(alias));
  return tablet::TabletClient::ForTablet(*ts_, a);
}

std::optional<tablet::TabletState> ChaosTest::State(const std::string& alias) {
  absl::StatusOr<std::unique_ptr<tablet::TabletClient>> c = Dial(alias);
  if (!c.ok()) return std::nullopt;
  auto r = (*c)->Call((*c)->manager(), &tablet::TabletManager::Stub::GetState,
                      tablet::GetStateRequest(), absl::Seconds(2));
  if (!r.ok()) return std::nullopt;
  return r->state();
}

absl::StatusOr<tablet::ReplicationStatus> ChaosTest::Replication(const std::string& alias) {
  ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, Dial(alias));
  ASSIGN_OR_RETURN(tablet::ReplicationStatusResponse r,
                   c->Call(c->replication(), &tablet::Replication::Stub::ReplicationStatus,
                           tablet::ReplicationStatusRequest(), absl::Seconds(2)));
  return r.status();
}

absl::StatusOr<tablet::QueryResult> ChaosTest::Dba(const std::string& alias,
                                                   const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> c, Dial(alias));
  return e2e::ExecuteFetchAsDba(*c, sql, absl::Seconds(30));
}

std::string ChaosTest::Unhealthy() {
  for (int s = 0; s < 2; ++s) {
    const std::string primary = ShardPrimary(s);
    if (primary.empty()) return absl::StrCat("shard ", kShards[s], ": no primary in its record");
    for (int n = 0; n <= kReplicas; ++n) {
      const std::string a = Alias(s, n);
      std::optional<tablet::TabletState> st = State(a);
      if (!st.has_value()) return absl::StrCat(a, " does not answer GetState");
      if (!st->serving()) return absl::StrCat(a, " is not serving");
      if (a == primary) {
        if (st->target().tablet_type() != topodata::PRIMARY || st->read_only()) {
          return absl::StrCat(a, " is the recorded primary of ", kShards[s],
                              " but not a writable PRIMARY: ", st->ShortDebugString());
        }
        continue;
      }
      if (st->target().tablet_type() != topodata::REPLICA) {
        return absl::StrCat(a, " is not a REPLICA: ", st->ShortDebugString());
      }
      absl::StatusOr<tablet::ReplicationStatus> rs = Replication(a);
      if (!rs.ok()) return absl::StrCat(a, " ReplicationStatus: ", rs.status().ToString());
      if (!rs->connected() || !rs->clone_progress().empty() ||
          topo::TabletAlias::FromProto(rs->source()).ToString() != primary) {
        return absl::StrCat(a, " does not stream from ", primary, ": ", rs->ShortDebugString());
      }
    }
  }
  const int serving = ServingTablets();
  if (serving != kTablets) return absl::StrCat("the gateway serves ", serving, " tablets");
  if (!e2e::IsCtldLeader(ctld_.http_port)) return "ctld does not lead";
  return "";
}

bool ChaosTest::WaitHealthy(absl::Duration timeout, std::string* why) {
  int64_t mark = -1;  // acknowledged writes when the cluster was first seen healthy
  return WaitFor(timeout, [&] {
    if (mark < 0) {
      *why = Unhealthy();
      if (!why->empty()) return false;
      mark = load_ != nullptr ? load_->acked_count() : 0;
    }
    if (load_ == nullptr || load_->acked_count() >= mark + 10) return true;
    *why = absl::StrCat("healthy, but the writers acknowledged only ", load_->acked_count() - mark,
                        " writes since");
    return false;
  });
}

bool ChaosTest::WaitCaughtUp(int shard, absl::Duration timeout, std::string* why) {
  return WaitFor(timeout, [&] {
    const std::string primary = ShardPrimary(shard);
    absl::StatusOr<tablet::ReplicationStatus> p = Replication(primary);
    if (!p.ok()) {
      *why = absl::StrCat(primary, ": ", p.status().ToString());
      return false;
    }
    for (int n = 0; n <= kReplicas; ++n) {
      const std::string a = Alias(shard, n);
      if (a == primary) continue;
      absl::StatusOr<tablet::ReplicationStatus> r = Replication(a);
      if (!r.ok() || r->position().seq() < p->position().seq() ||
          r->position().term() != p->position().term()) {
        *why = absl::StrCat(a, " at ", r.ok() ? r->position().ShortDebugString() : "?",
                            ", its primary ", primary, " at ", p->position().ShortDebugString());
        return false;
      }
    }
    return true;
  });
}

void ChaosTest::CheckReplicasEqualPrimaries() {
  for (int s = 0; s < 2; ++s) {
    const std::string primary = ShardPrimary(s);
    absl::StatusOr<std::string> want =
        e2e::TablesChecksum([&](const std::string& sql) { return Dba(primary, sql); });
    ASSERT_TRUE(want.ok()) << primary << ": " << want.status();
    for (int n = 0; n <= kReplicas; ++n) {
      const std::string a = Alias(s, n);
      absl::StatusOr<std::string> got =
          a == primary ? want
                       : e2e::TablesChecksum([&](const std::string& sql) { return Dba(a, sql); });
      absl::StatusOr<tablet::QueryResult> integrity = Dba(a, "PRAGMA integrity_check");
      const std::string ok = integrity.ok() && integrity->rows_size() > 0
                                 ? integrity->rows(0).values(0).text()
                                 : integrity.status().ToString();
      std::string table_line;
      if (got.ok()) {
        const size_t at = got->find("chaos: ");
        table_line = got->substr(at, got->find('\n', at) - at);
      }
      std::cout << "  shard " << kShards[s] << " " << a << (a == primary ? " (primary) " : " ")
                << (got.ok() ? table_line : got.status().ToString()) << ", integrity_check: " << ok
                << "\n";
      EXPECT_EQ(ok, "ok") << a;
      ASSERT_TRUE(got.ok()) << a << ": " << got.status();
      EXPECT_EQ(*got, *want) << a << " differs from its primary " << primary;
    }
  }
}

}  // namespace shale::chaos
