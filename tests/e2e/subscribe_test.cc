// Change subscriptions end to end (issue 9): a subscriber on the gateway's
// Gate.Subscribe receives exactly the committed changes of a concurrent
// writer across two planned reparents and a kill -9 failover (compared with
// the final table: every row's last value seen, nothing missing, no event
// twice, no error); `shale ctl Subscribe --limit` then `--from` the last
// line's position continues exactly after it; a bad --from is refused.

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "gate_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/e2e/gate_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

// What a Gate.Subscribe client received, on its own thread.
class GateSubscriber {
 public:
  GateSubscriber(int grpc_port, const std::string& keyspace) {
    stub_ = gate::Gate::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                    grpc::InsecureChannelCredentials()));
    gate::SubscribeRequest request;
    request.set_keyspace(keyspace);
    request.set_heartbeat_ms(200);
    thread_ = std::thread([this, request] {
      std::unique_ptr<grpc::ClientReader<gate::SubscribeResponse>> reader =
          stub_->Subscribe(&context_, request);
      gate::SubscribeResponse response;
      while (reader->Read(&response)) {
        absl::MutexLock lock(&mu_);
        for (const gate::SubscribeEvent& e : response.events()) Take(e);
      }
      grpc::Status s = reader->Finish();
      absl::MutexLock lock(&mu_);
      end_ = s;
      done_ = true;
    });
  }
  ~GateSubscriber() {
    context_.TryCancel();
    thread_.join();
  }

  // id -> the newest v seen; duplicates (same shard + seq + row); heartbeats.
  std::map<int64_t, int64_t> Values() {
    absl::MutexLock lock(&mu_);
    return values_;
  }
  int duplicates() {
    absl::MutexLock lock(&mu_);
    return duplicates_;
  }
  int64_t heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  int64_t rows() {
    absl::MutexLock lock(&mu_);
    return rows_;
  }
  // The status the stream ended with, if it ended.
  std::optional<grpc::Status> End() {
    absl::MutexLock lock(&mu_);
    if (!done_) return std::nullopt;
    return end_;
  }

 private:
  void Take(const gate::SubscribeEvent& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const tablet::ChangeEvent& ev = e.event();
    if (ev.op() == tablet::HEARTBEAT_EVENT) {
      ++heartbeats_;
      return;
    }
    if (ev.op() != tablet::INSERT && ev.op() != tablet::UPDATE) return;
    const std::string key =
        absl::StrCat(e.shard(), ":", ev.position().seq(), ".", ev.position().row());
    if (!seen_.insert(key).second) ++duplicates_;
    ++rows_;
    int64_t id = -1;
    for (const auto& c : ev.pk()) {
      if (c.name() == "id") id = c.value().int64();
    }
    for (const auto& c : ev.after()) {
      if (c.name() == "v") values_[id] = c.value().int64();
    }
  }

  std::unique_ptr<gate::Gate::Stub> stub_;
  grpc::ClientContext context_;
  std::thread thread_;
  absl::Mutex mu_;
  std::map<int64_t, int64_t> values_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rows_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status end_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// Inserts ids 1, 2, ... and updates earlier ones through Gate.Execute until
// stopped, on its own thread; errors are counted, not fatal (the table is
// the truth the subscriber is compared with).
class Writer {
 public:
  explicit Writer(int grpc_port) {
    stub_ = gate::Gate::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                                    grpc::InsecureChannelCredentials()));
    thread_ = std::thread([this] {
      for (int64_t i = 1; !stop_.load(); ++i) {
        Execute(absl::StrCat("INSERT INTO items (id, v) VALUES (", i, ", 0)"));
        if (i % 3 == 0) Execute(absl::StrCat("UPDATE items SET v = v + 1 WHERE id = ", i / 2));
        written_.store(i);
      }
    });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int64_t written() const { return written_.load(); }
  int64_t errors() const { return errors_.load(); }

 private:
  void Execute(const std::string& sql) {
    gate::ExecuteRequest request;
    request.set_keyspace("app");
    request.set_sql(sql);
    gate::ExecuteResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!stub_->Execute(&context, request, &response).ok()) errors_.fetch_add(1);
  }

  std::unique_ptr<gate::Gate::Stub> stub_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> errors_{0};
};

class SubscribeTest : public GateE2eTest {
 protected:
  // id -> v of the table, read through the gateway.
  std::map<int64_t, int64_t> Table() {
    std::map<int64_t, int64_t> out;
    for (absl::string_view line :
         absl::StrSplit(PsqlOk("SELECT id, v FROM items ORDER BY id"), '\n', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(line, '|');
      int64_t id = 0, v = 0;
      EXPECT_TRUE(absl::SimpleAtoi(kv.first, &id) && absl::SimpleAtoi(kv.second, &v)) << line;
      out[id] = v;
    }
    return out;
  }
  std::string PrimaryAlias(int shard) {
    auto info = ts_->GetShard("app", kShards[shard]);
    return info.ok() ? topo::TabletAlias::FromProto(info->record.primary_alias()).ToString() : "";
  }
};

TEST_F(SubscribeTest, ExactlyTheCommittedChangesAcrossTwoMigrationsAndAFailover) {
  ASSERT_NO_FATAL_FAILURE(
      StartCluster(2, "semi_sync", {"--failover-after", "1s", "--discovery-interval", "1s"}));
  ASSERT_NO_FATAL_FAILURE(StartGate());
  PsqlOk("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  GateSubscriber sub(grpc_port_, "app");
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return sub.heartbeats() >= 2 || sub.End(); }));
  ASSERT_FALSE(sub.End().has_value()) << sub.End()->error_message();
  Writer writer(grpc_port_);
  auto progress = [&](int64_t more) {
    const int64_t target = writer.written() + more;
    return WaitFor(absl::Seconds(60), [&] { return writer.written() >= target; });
  };
  ASSERT_TRUE(progress(50));
  for (int s = 0; s < 2; ++s) {
    CliResult r = Ctl(
        {"PlannedReparentShard", absl::StrCat("app/", kShards[s]), "--new-primary", Alias(s, 1)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(progress(50));
  }
  // kill -9 of -80's primary (now Alias(0, 1)); ctld fails over.
  const std::string killed = PrimaryAlias(0);
  ASSERT_EQ(killed, Alias(0, 1));
  ASSERT_TRUE(tablets_.at(killed)->Kill(SIGKILL).ok());
  ASSERT_TRUE(tablets_.at(killed)->WaitFor(absl::Seconds(10)).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(60), [&] {
    const std::string p = PrimaryAlias(0);
    return !p.empty() && p != killed;
  })) << "ctld did not fail over";
  ASSERT_TRUE(progress(50));
  writer.Stop();

  const std::map<int64_t, int64_t> table = Table();
  ASSERT_GT(table.size(), 150u);
  // The subscriber catches up with the table, then must equal it.
  WaitFor(absl::Seconds(30), [&] { return sub.Values() == table; });
  const std::map<int64_t, int64_t> seen = sub.Values();
  std::vector<int64_t> missing, wrong;
  for (const auto& [id, v] : table) {
    auto it = seen.find(id);
    if (it == seen.end()) {
      missing.push_back(id);
    } else if (it->second != v) {
      wrong.push_back(id);
    }
  }
  EXPECT_TRUE(missing.empty()) << "ids never seen: " << absl::StrJoin(missing, ",");
  EXPECT_TRUE(wrong.empty()) << "ids whose last value differs: " << absl::StrJoin(wrong, ",");
  EXPECT_EQ(seen.size(), table.size()) << "events for rows that are not in the table";
  EXPECT_EQ(sub.duplicates(), 0);
  // Every committed change once: an insert per row, and v counts the
  // committed updates of its row (an update that matched no row has none).
  int64_t committed = 0;
  for (const auto& [id, v] : table) committed += 1 + v;
  EXPECT_EQ(sub.rows(), committed) << "row events received vs inserts + updates committed";
  EXPECT_FALSE(sub.End().has_value()) << sub.End()->error_message();
  std::cerr << "subscribe e2e: " << table.size() << " rows, " << sub.rows()
            << " row events, writer errors " << writer.errors() << "\n";
}

// The JSON lines of `shale ctl Subscribe`, without heartbeats.
std::vector<nlohmann::json> Events(const std::string& out) {
  std::vector<nlohmann::json> events;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (!j.is_discarded() && j["op"] != "heartbeat") events.push_back(j);
  }
  return events;
}

TEST_F(SubscribeTest, CtlSubscribeResumesExactlyAfterTheSavedPosition) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(1));
  ASSERT_NO_FATAL_FAILURE(StartGate());
  PsqlOk("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  Subprocess ctl;
  ASSERT_TRUE(ctl.Start({FindBinary("shale"), "ctl", "--topo", topo(), "Subscribe", "app",
                         "--tables", "items", "--limit", "3", "--timeout", "60s", "--heartbeats",
                         "--heartbeat-ms", "100"})
                  .ok());
  // The first heartbeat: the subscription is open.
  absl::StatusOr<std::string> first = ctl.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first, HasSubstr(R"("op":"heartbeat")"));
  for (int id = 1; id <= 5; ++id)
    PsqlOk(absl::StrCat("INSERT INTO items (id, v) VALUES (", id, ", ", 10 * id, ")"));
  std::string out;
  for (;;) {
    absl::StatusOr<std::string> line = ctl.ReadLine(absl::Seconds(30));
    if (!line.ok()) break;
    absl::StrAppend(&out, *line, "\n");
  }
  absl::StatusOr<int> code = ctl.WaitFor(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  std::vector<nlohmann::json> got = Events(out);
  ASSERT_EQ(got.size(), 3u) << out;
  std::set<int64_t> ids;
  for (const nlohmann::json& e : got) {
    EXPECT_EQ(e["table"], "items");
    EXPECT_EQ(e["op"], "insert");
    EXPECT_EQ(e["after"]["v"], 10 * e["pk"]["id"].get<int64_t>());
    ids.insert(e["pk"]["id"].get<int64_t>());
  }
  const std::string position = got.back()["position"];
  for (int id = 6; id <= 8; ++id)
    PsqlOk(absl::StrCat("INSERT INTO items (id, v) VALUES (", id, ", ", 10 * id, ")"));

  CliResult resumed = Ctl({"Subscribe", "app", absl::StrCat("--from=", position), "--limit",
                           absl::StrCat(8 - ids.size()), "--timeout", "30s"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  std::set<int64_t> rest;
  for (const nlohmann::json& e : Events(resumed.out)) {
    EXPECT_TRUE(rest.insert(e["pk"]["id"].get<int64_t>()).second) << "twice: " << e.dump();
  }
  std::set<int64_t> expected;
  for (int64_t id = 1; id <= 8; ++id) {
    if (!ids.contains(id)) expected.insert(id);
  }
  EXPECT_EQ(rest, expected) << resumed.out;
  // And nothing more after them (a short timeout ends it, exit 0).
  CliResult tail =
      Ctl({"Subscribe", "app",
           absl::StrCat("--from=", Events(resumed.out).back()["position"].get<std::string>()),
           "--timeout", "1s"});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_TRUE(Events(tail.out).empty()) << tail.out;

  CliResult bad = Ctl({"Subscribe", "app", "--from", "garbage", "--timeout", "1s"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("not SHARD:SEQ.TERM.ROW"));
  CliResult missing = Ctl({"Subscribe", "app", "--from=-80:1.1.0", "--timeout", "1s"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("lacks shard(s) 80-"));
}

}  // namespace
}  // namespace shale::e2e
