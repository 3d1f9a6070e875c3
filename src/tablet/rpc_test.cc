// Tests of the tablet's gRPC services with an in-process TabletServer and a
// TabletClient over loopback, on the memory topology.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/client/session_socket.h"
#include "tablet/client/tablet_client.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/tablet_server.h"
#include "tablet/test_tablet_options.h"
#include "tablet/test_topo.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

Value Int(int64_t v) {
  Value p;
  p.set_int64(v);
  return p;
}
Value Text(const std::string& v) {
  Value p;
  p.set_text(v);
  return p;
}

class RpcTest : public ::testing::Test {
 protected:
  std::unique_ptr<TabletServer> StartTablet(uint32_t uid, topodata::TabletType type,
                                            int64_t max_in_flight = 256) {
    TabletServerOptions o = TestTabletOptions(uid, type, dir_.path());
    o.max_in_flight = max_in_flight;
    auto s = TabletServer::Start(&topo_.ts, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static Target MakeTarget(topodata::TabletType type) {
    Target t;
    t.set_keyspace("app");
    t.set_shard("0");
    t.set_tablet_type(type);
    return t;
  }

  absl::StatusOr<QueryResult> Exec(TabletClient& c, topodata::TabletType type,
                                   const std::string& sql, std::vector<Value> binds = {},
                                   int64_t txn = 0) {
    ExecuteRequest req;
    *req.mutable_target() = MakeTarget(type);
    req.set_sql(sql);
    for (auto& b : binds) *req.add_binds() = b;
    req.set_transaction_id(txn);
    auto r = c.Call(c.query(), &Query::Stub::Execute, req);
    if (!r.ok()) return r.status();
    return r->result();
  }

  TestTopo topo_;
  TestDir dir_;
};

TEST_F(RpcTest, ExecuteWithBindsAndSqlState) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  ASSERT_TRUE(
      Exec(*c, topodata::PRIMARY, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)").ok());
  auto ins = Exec(*c, topodata::PRIMARY, "INSERT INTO t VALUES (?1, ?2)", {Int(1), Text("a")});
  ASSERT_TRUE(ins.ok()) << ins.status();
  EXPECT_EQ(ins->rows_affected(), 1);
  auto sel = Exec(*c, topodata::PRIMARY, "SELECT id, name FROM t WHERE id = ?", {Int(1)});
  ASSERT_TRUE(sel.ok()) << sel.status();
  ASSERT_EQ(sel->fields_size(), 2);
  EXPECT_EQ(sel->fields(0).name(), "id");
  EXPECT_EQ(sel->fields(0).decl_type(), "INTEGER");
  ASSERT_EQ(sel->rows_size(), 1);
  EXPECT_EQ(sel->rows(0).values(1).text(), "a");

  auto dup = Exec(*c, topodata::PRIMARY, "INSERT INTO t VALUES (1, 'b')");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(engine::SqlState(dup.status()), "23505");
  auto syntax = Exec(*c, topodata::PRIMARY, "SELEC 1");
  EXPECT_EQ(engine::SqlState(syntax.status()), "42601");
  auto missing = Exec(*c, topodata::PRIMARY, "SELECT * FROM nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine::SqlState(missing.status()), "42P01");
}

TEST_F(RpcTest, WrongTargetIsRejectedNamingBoth) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  auto r = Exec(*c, topodata::REPLICA, "SELECT 1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("app/0@REPLICA"));
  EXPECT_THAT(r.status().message(), HasSubstr("app/0@PRIMARY"));
}

TEST_F(RpcTest, TransactionsCommitAndRollback) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  ASSERT_TRUE(Exec(*c, topodata::PRIMARY, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  for (bool commit : {true, false}) {
    BeginRequest b;
    *b.mutable_target() = MakeTarget(topodata::PRIMARY);
    auto begun = c->Call(c->query(), &Query::Stub::Begin, b);
    ASSERT_TRUE(begun.ok()) << begun.status();
    const int64_t txn = begun->transaction_id();
    ASSERT_TRUE(
        Exec(*c, topodata::PRIMARY, "INSERT INTO t VALUES (?)", {Int(commit ? 1 : 2)}, txn).ok());
    if (commit) {
      CommitRequest req;
      *req.mutable_target() = MakeTarget(topodata::PRIMARY);
      req.set_transaction_id(txn);
      ASSERT_TRUE(c->Call(c->query(), &Query::Stub::Commit, req).ok());
    } else {
      RollbackRequest req;
      *req.mutable_target() = MakeTarget(topodata::PRIMARY);
      req.set_transaction_id(txn);
      ASSERT_TRUE(c->Call(c->query(), &Query::Stub::Rollback, req).ok());
    }
  }
  auto sel = Exec(*c, topodata::PRIMARY, "SELECT id FROM t ORDER BY id");
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->rows_size(), 1);
  EXPECT_EQ(sel->rows(0).values(0).int64(), 1);
}

TEST_F(RpcTest, StreamExecuteSendsBatches) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  StreamExecuteRequest req;
  *req.mutable_target() = MakeTarget(topodata::PRIMARY);
  req.set_sql(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) "
      "SELECT x FROM n");
  grpc::ClientContext ctx;
  auto reader = c->query().StreamExecute(&ctx, req);
  StreamExecuteResponse resp;
  int responses = 0, rows = 0;
  while (reader->Read(&resp)) {
    if (responses == 0) {
      EXPECT_EQ(resp.result().fields_size(), 1);
    }
    ++responses;
    rows += resp.result().rows_size();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows, 1000);
  EXPECT_GT(responses, 1);
}

TEST_F(RpcTest, ReplicaRejectsWritesWithReadOnlyError) {
  auto primary = StartTablet(1, topodata::PRIMARY);
  auto replica = StartTablet(2, topodata::REPLICA);
  ASSERT_NE(replica, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(replica->grpc_port()));
  auto r = Exec(*c, topodata::REPLICA, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine::SqlState(r.status()), "25006");
  EXPECT_TRUE(Exec(*c, topodata::REPLICA, "SELECT 1").ok());
}

TEST_F(RpcTest, ChangeTypeShowsInStateHealthAndRecord) {
  auto server = StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));

  grpc::ClientContext hctx;
  auto health = c->health().StreamHealth(&hctx, StreamHealthRequest());
  StreamHealthResponse h;
  ASSERT_TRUE(health->Read(&h));
  EXPECT_EQ(h.target().tablet_type(), topodata::REPLICA);
  EXPECT_EQ(h.tablet_alias().uid(), 1u);
  EXPECT_TRUE(h.serving());

  ChangeTypeRequest req;
  req.set_tablet_type(topodata::RDONLY);
  auto changed = c->Call(c->manager(), &TabletManager::Stub::ChangeType, req);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->state().target().tablet_type(), topodata::RDONLY);
  auto state = c->Call(c->manager(), &TabletManager::Stub::GetState, GetStateRequest());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->state().target().tablet_type(), topodata::RDONLY);

  bool seen = false;
  while (!seen && health->Read(&h)) seen = h.target().tablet_type() == topodata::RDONLY;
  EXPECT_TRUE(seen);
  hctx.TryCancel();

  ASSERT_TRUE(server->publisher().WaitForSync(absl::Seconds(10)));
  auto rec = topo_.ts.GetTablet({"zone1", 1});
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->record.type(), topodata::RDONLY);

  req.set_tablet_type(topodata::PRIMARY);
  EXPECT_EQ(c->Call(c->manager(), &TabletManager::Stub::ChangeType, req).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RpcTest, HealthIsSentAtLeastEveryInterval) {
  auto server = StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  grpc::ClientContext hctx;
  hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto health = c->health().StreamHealth(&hctx, StreamHealthRequest());
  StreamHealthResponse h;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(health->Read(&h));  // 200ms interval, no changes
  hctx.TryCancel();
}

TEST_F(RpcTest, NoTopologyReadsInSteadyState) {
  auto server = StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->publisher().WaitForSync(absl::Seconds(10)));
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  const int64_t reads = topo_.memory.read_count();
  // Several health intervals (200ms each) and some queries: the tablet never
  // reads the topology (it does not poll its record).
  grpc::ClientContext hctx;
  hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto health = c->health().StreamHealth(&hctx, StreamHealthRequest());
  StreamHealthResponse h;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(health->Read(&h));
    ASSERT_TRUE(Exec(*c, topodata::REPLICA, "SELECT 1").ok());
  }
  hctx.TryCancel();
  EXPECT_EQ(topo_.memory.read_count(), reads);
}

TEST_F(RpcTest, RefreshStateDemotesAStalePrimary) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(
      topo_.ts
          .UpdateShardFields("app", "0",
                             [](topodata::Shard& s) {
                               *s.mutable_primary_alias() = topo::TabletAlias{"zone1", 9}.ToProto();
                               s.set_primary_term(s.primary_term() + 1);
                               return absl::OkStatus();
                             })
          .ok());
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  auto r = c->Call(c->manager(), &TabletManager::Stub::RefreshState, RefreshStateRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state().target().tablet_type(), topodata::REPLICA);
  EXPECT_TRUE(r->state().read_only());
}

TEST_F(RpcTest, ReadOnlyAndDbaAndPing) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  auto ping = c->Call(c->manager(), &TabletManager::Stub::Ping, PingRequest());
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->alias().uid(), 1u);
  ExecuteFetchAsDbaRequest dba;
  dba.set_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  ASSERT_TRUE(c->Call(c->manager(), &TabletManager::Stub::ExecuteFetchAsDba, dba).ok());
  auto ro = c->Call(c->manager(), &TabletManager::Stub::SetReadOnly, SetReadOnlyRequest());
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(ro->state().read_only());
  EXPECT_EQ(engine::SqlState(Exec(*c, topodata::PRIMARY, "INSERT INTO t VALUES (1)").status()),
            "25006");
  ASSERT_TRUE(
      c->Call(c->manager(), &TabletManager::Stub::SetReadWrite, SetReadWriteRequest()).ok());
  EXPECT_TRUE(Exec(*c, topodata::PRIMARY, "INSERT INTO t VALUES (1)").ok());
}

TEST_F(RpcTest, OverloadIsResourceExhausted) {
  auto server = StartTablet(1, topodata::PRIMARY, /*max_in_flight=*/1);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  auto held = server->admission().Admit();  // the one slot is taken
  ASSERT_TRUE(held.ok());
  auto r = Exec(*c, topodata::PRIMARY, "SELECT 1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("retry"));
  EXPECT_EQ(server->admission().rejected(), 1);
}

TEST_F(RpcTest, TopologyOutageDoesNotStopServing) {
  auto server = StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  topo_.memory.SetUnavailable(true);
  ChangeTypeRequest req;
  req.set_tablet_type(topodata::RDONLY);
  auto changed = c->Call(c->manager(), &TabletManager::Stub::ChangeType, req);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(Exec(*c, topodata::RDONLY, "SELECT 1").ok());
  topo_.memory.SetUnavailable(false);
  ASSERT_TRUE(server->publisher().WaitForSync(absl::Seconds(10)));
  EXPECT_EQ(topo_.ts.GetTablet({"zone1", 1})->record.type(), topodata::RDONLY);
}

}  // namespace
}  // namespace shale::tablet

namespace shale::tablet {
namespace {

// One session, over the gRPC Query.Session stream or the session port.
class TestSession {
 public:
  virtual ~TestSession() = default;
  // Writes request, reads its answer.
  SessionResponse Call(SessionRequest request) {
    request.set_id(next_id_++);
    SessionResponse response;
    EXPECT_TRUE(Write(request));
    EXPECT_TRUE(Read(&response));
    EXPECT_EQ(response.id(), request.id());
    return response;
  }
  // Ends the session cleanly.
  virtual void End() = 0;

 protected:
  virtual bool Write(const SessionRequest& request) = 0;
  virtual bool Read(SessionResponse* response) = 0;

 private:
  int64_t next_id_ = 1;
};

class GrpcTestSession : public TestSession {
 public:
  explicit GrpcTestSession(TabletClient& c) : stream_(c.query().Session(&context_)) {}
  void End() override {
    stream_->WritesDone();
    EXPECT_TRUE(stream_->Finish().ok());
  }

 private:
  bool Write(const SessionRequest& request) override { return stream_->Write(request); }
  bool Read(SessionResponse* response) override { return stream_->Read(response); }
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<SessionRequest, SessionResponse>> stream_;
};

class PortTestSession : public TestSession {
 public:
  explicit PortTestSession(int port, SessionRoute route = SessionRoute::kLocalSocketFirst) {
    auto s = SessionSocket::Connect("127.0.0.1", port, absl::Seconds(5), route);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) socket_ = *std::move(s);
  }
  void End() override { socket_.reset(); }
  int fd() const { return socket_ != nullptr ? socket_->fd() : -1; }

 private:
  bool Write(const SessionRequest& request) override {
    return socket_ != nullptr && socket_->Write(request).ok();
  }
  bool Read(SessionResponse* response) override {
    return socket_ != nullptr && socket_->Read(response).ok();
  }
  std::unique_ptr<SessionSocket> socket_;
};

SessionRequest SessionExecute(const Target& target, const std::string& sql, int64_t txn = 0) {
  SessionRequest r;
  *r.mutable_execute()->mutable_target() = target;
  r.mutable_execute()->set_sql(sql);
  r.mutable_execute()->set_transaction_id(txn);
  return r;
}

// Rolling back happens when the session ends, not later: wait for it.
bool NoOpenTransactions(TabletClient& c) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto state = c.Call(c.manager(), &TabletManager::Stub::GetState, GetStateRequest());
    if (state.ok() && state->state().open_transactions() == 0) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

// The same session scenario over every transport: gRPC, the session port
// over TCP, and its Unix socket for clients on the same machine.
enum class Transport { kGrpc, kTcp, kLocalSocket };

class SessionTest : public RpcTest, public ::testing::WithParamInterface<Transport> {
 protected:
  std::unique_ptr<TestSession> Open(TabletServer& server, TabletClient& c) {
    switch (GetParam()) {
      case Transport::kTcp:
        return std::make_unique<PortTestSession>(server.session_port(), SessionRoute::kTcpOnly);
      case Transport::kLocalSocket: {
        // The local route must really be the Unix socket, not a fallback.
        auto session = std::make_unique<PortTestSession>(server.session_port());
        sockaddr_storage peer{};
        socklen_t len = sizeof(peer);
        EXPECT_EQ(::getpeername(session->fd(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
        EXPECT_EQ(peer.ss_family, AF_UNIX);
        return session;
      }
      case Transport::kGrpc:
        break;
    }
    return std::make_unique<GrpcTestSession>(c);
  }
};

INSTANTIATE_TEST_SUITE_P(Transports, SessionTest,
                         ::testing::Values(Transport::kGrpc, Transport::kTcp,
                                           Transport::kLocalSocket),
                         [](const auto& info) {
                           switch (info.param) {
                             case Transport::kTcp:
                               return "SessionPort";
                             case Transport::kLocalSocket:
                               return "LocalSocket";
                             case Transport::kGrpc:
                               break;
                           }
                           return "Grpc";
                         });

TEST_P(SessionTest, RunsCallsInOrderAndRollsBackWhatItLeavesOpen) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  const Target target = MakeTarget(topodata::PRIMARY);
  {
    std::unique_ptr<TestSession> session = Open(*server, *c);
    TestSession* stream = session.get();
    SessionResponse r =
        stream->Call(SessionExecute(target, "CREATE TABLE t (id INTEGER PRIMARY KEY)"));
    EXPECT_EQ(r.error().code(), 0) << r.error().message();
    r = stream->Call(SessionExecute(target, "INSERT INTO t VALUES (1), (2)"));
    EXPECT_EQ(r.execute().result().rows_affected(), 2);
    // An error is an answer, not the end of the stream.
    r = stream->Call(SessionExecute(target, "INSERT INTO t VALUES (1)"));
    EXPECT_EQ(r.error().sqlstate(), "23505");
    EXPECT_FALSE(r.has_execute());
    SessionRequest begin;
    *begin.mutable_begin()->mutable_target() = target;
    r = stream->Call(begin);
    const int64_t txn = r.begin().transaction_id();
    ASSERT_NE(txn, 0);
    r = stream->Call(SessionExecute(target, "INSERT INTO t VALUES (3)", txn));
    EXPECT_EQ(r.error().code(), 0) << r.error().message();
    SessionRequest commit;
    *commit.mutable_commit()->mutable_target() = target;
    commit.mutable_commit()->set_transaction_id(txn);
    r = stream->Call(commit);
    EXPECT_EQ(r.error().code(), 0) << r.error().message();
    // Leave a second transaction open when the stream ends.
    r = stream->Call(begin);
    r = stream->Call(
        SessionExecute(target, "INSERT INTO t VALUES (4)", r.begin().transaction_id()));
    EXPECT_EQ(r.error().code(), 0) << r.error().message();
    stream->End();
  }
  EXPECT_TRUE(NoOpenTransactions(*c));
  auto rows = Exec(*c, topodata::PRIMARY, "SELECT id FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows_size(), 3);
  EXPECT_EQ(rows->rows(2).values(0).int64(), 3);
}

TEST_F(RpcTest, SessionPortIsPublishedAndTurnsAwayWhatIsNotASession) {
  auto server = StartTablet(1, topodata::PRIMARY);
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->session_port(), 0);
  auto rec = topo_.ts.GetTablet({"zone1", 1});
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->record.port_map().at("session"), server->session_port());

  // A client that does not start with the preface is disconnected.
  auto raw = SessionSocket::Connect("127.0.0.1", server->session_port(), absl::Seconds(5),
                                    SessionRoute::kTcpOnly);
  ASSERT_TRUE(raw.ok()) << raw.status();
  SessionResponse response;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server->session_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::send(fd, http.data(), http.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(http.size()));
    SessionSocket stray(fd);
    absl::Status s = stray.Read(&response);
    EXPECT_TRUE(absl::IsOutOfRange(s) || absl::IsUnavailable(s)) << s;
  }
  // A frame longer than the limit ends that session; the port keeps serving.
  {
    const char huge[4] = {'\x7f', '\x00', '\x00', '\x00'};
    ASSERT_EQ(::send((*raw)->fd(), huge, 4, MSG_NOSIGNAL), 4);
    absl::Status s = (*raw)->Read(&response);
    EXPECT_TRUE(absl::IsOutOfRange(s) || absl::IsUnavailable(s)) << s;
  }
  PortTestSession good(server->session_port());
  SessionResponse r = good.Call(SessionExecute(MakeTarget(topodata::PRIMARY), "SELECT 41 + 1"));
  EXPECT_EQ(r.error().code(), 0) << r.error().message();
  ASSERT_EQ(r.execute().result().rows_size(), 1);
  EXPECT_EQ(r.execute().result().rows(0).values(0).int64(), 42);
  // An open transaction whose connection drops is rolled back at once.
  SessionRequest begin;
  *begin.mutable_begin()->mutable_target() = MakeTarget(topodata::PRIMARY);
  EXPECT_NE(good.Call(begin).begin().transaction_id(), 0);
  good.End();
  auto c = TabletClient::Connect("127.0.0.1:" + std::to_string(server->grpc_port()));
  EXPECT_TRUE(NoOpenTransactions(*c));
}

}  // namespace
}  // namespace shale::tablet
