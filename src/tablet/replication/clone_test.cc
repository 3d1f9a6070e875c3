#include "tablet/replication/clone.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tablet/client/grpc_status.h"
#include "tablet/engine/engine_test_util.h"
#include "tablet/replication/log_store.h"

namespace shale::tablet::replication {
namespace {

using engine::Engine;
using engine::ResultSet;
using engine::Value;
using engine::WriteTxn;
using engine::testing::TempDir;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

// Clone handled by a function (ServeClone on the source engine by default);
// the other Replication methods stay unimplemented.
class TestReplicationService : public Replication::Service {
 public:
  using Handler = std::function<grpc::Status(grpc::ServerContext*, const CloneRequest&,
                                             grpc::ServerWriter<CloneResponse>*)>;
  void set_handler(Handler handler) {
    absl::MutexLock lock(&mu_);
    handler_ = std::move(handler);
  }
  grpc::Status Clone(grpc::ServerContext* context, const CloneRequest* request,
                     grpc::ServerWriter<CloneResponse>* writer) override {
    Handler handler;
    {
      absl::MutexLock lock(&mu_);
      handler = handler_;
    }
    return handler(context, *request, writer);
  }

 private:
  absl::Mutex mu_;
  Handler handler_;
};

// Bytes of a whole file.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool DirIsEmpty(const std::string& dir) {
  return std::filesystem::is_empty(std::filesystem::path(dir));
}

bool SamePosition(const LogPosition& a, const LogPosition& b) {
  return a.seq() == b.seq() && a.term() == b.term() && a.commit_ts_us() == b.commit_ts_us();
}

class CloneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_a_ = dir_.File("scratch-a");
    scratch_b_ = dir_.File("scratch-b");
    std::filesystem::create_directory(scratch_a_);
    std::filesystem::create_directory(scratch_b_);
    ASSERT_OK_AND_ASSIGN(a_, Engine::Open(dir_.File("a.db")));
    ASSERT_OK_AND_ASSIGN(b_, Engine::Open(dir_.File("b.db")));
    b_->SetReadOnly(true);  // a replica

    ASSERT_OK(CreateLogTable(*a_));
    ASSERT_OK(a_->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, pad BLOB)").status());
    ASSERT_OK(a_->Execute("CREATE INDEX t_v ON t (v)").status());
    // ~3 MiB, so the snapshot takes several 1 MiB chunks.
    ASSERT_OK(a_->Execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                          "WHERE i < 3000) INSERT INTO t SELECT i, 'row ' || i, randomblob(1000) "
                          "FROM n")
                  .status());
    for (int64_t seq = 1; seq <= 3; ++seq) ASSERT_OK(AppendEntry(*a_, seq, /*term=*/2));

    // B holds something else, with its own log, which the clone must replace.
    ASSERT_OK(CreateLogTable(*b_));
    ASSERT_OK(b_->ExecuteInternal("CREATE TABLE old (id INTEGER PRIMARY KEY, v TEXT)").status());
    ASSERT_OK(b_->ExecuteInternal("INSERT INTO old VALUES (1, 'stale'), (2, 'stale')").status());
    ASSERT_OK(
        b_->ExecuteInternal("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, pad BLOB)").status());
    ASSERT_OK(b_->ExecuteInternal("INSERT INTO t VALUES (9999, 'b only', NULL)").status());
    for (int64_t seq = 1; seq <= 10; ++seq) ASSERT_OK(AppendEntry(*b_, seq, /*term=*/1));

    service_.set_handler([this](grpc::ServerContext* ctx, const CloneRequest& req,
                                grpc::ServerWriter<CloneResponse>* writer) {
      absl::Status status = ServeClone(ctx, req, writer, *a_, scratch_a_);
      RecordServed(status);
      return ToGrpcStatus(status);
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    stub_ = Replication::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
    self_.set_cell("zone1");
    self_.set_uid(102);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }

  // One log entry (and nothing else) in its own transaction.
  static absl::Status AppendEntry(Engine& engine, int64_t seq, int64_t term) {
    return engine.RunInternalWrite(
        [&](WriteTxn& txn) { return InsertEntry(txn, Entry(seq, term)); },
        /*with_hook=*/false);
  }
  static LogEntry Entry(int64_t seq, int64_t term) {
    LogEntry e;
    e.set_seq(seq);
    e.set_term(term);
    e.set_kind(CHANGESET);
    e.set_payload(absl::StrCat("entry ", seq));
    e.set_commit_ts_us(1700000000000000 + seq * 1000);
    return e;
  }

  absl::StatusOr<LogPosition> Clone() {
    progress_.clear();
    return CloneFrom(*stub_, "zone1-101", self_, *b_, scratch_b_,
                     [this](const std::string& line) { progress_.push_back(line); });
  }

  // Everything a failed clone must leave alone in B.
  std::string Fingerprint(Engine& engine) {
    std::string out;
    auto tables = engine.Execute("SELECT name FROM sqlite_schema ORDER BY name");
    EXPECT_TRUE(tables.ok()) << tables.status();
    if (!tables.ok()) return out;
    for (const auto& row : tables->rows) {
      const std::string& name = row[0].text();
      absl::StrAppend(&out, name, ";");
      if (name == "old" || name == "t") {
        auto rows = engine.Execute(absl::StrCat("SELECT * FROM ", name, " ORDER BY 1"));
        EXPECT_TRUE(rows.ok()) << rows.status();
        if (rows.ok()) absl::StrAppend(&out, rows->rows.size(), ";");
      }
    }
    auto state = ReadLogState(engine);
    EXPECT_TRUE(state.ok()) << state.status();
    if (state.ok()) absl::StrAppend(&out, state->position.ShortDebugString());
    return out;
  }

  void RecordServed(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    served_.push_back(status);
  }
  // Waits for the n-th ServeClone to return and gives its status.
  absl::Status WaitServed(size_t n) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return served_.size() >= n; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), kWait)) {
      return absl::DeadlineExceededError("ServeClone did not return");
    }
    return served_[n - 1];
  }

  TempDir dir_;
  std::string scratch_a_, scratch_b_;
  std::unique_ptr<Engine> a_, b_;
  TestReplicationService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<Replication::Stub> stub_;
  topodata::TabletAlias self_;
  std::vector<std::string> progress_;
  absl::Mutex mu_;
  std::vector<absl::Status> served_ ABSL_GUARDED_BY(mu_);
};

TEST_F(CloneTest, ReplacesTheReplicaWithTheSnapshot) {
  // Every reader of B has B's old schema cached, and one read transaction
  // stays open on B's old content across the clone.
  std::vector<engine::TxnId> reads;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(reads.emplace_back(), b_->Begin(engine::TxnMode::kReadOnly));
    EXPECT_EQ(engine::testing::Scalar(b_->Execute(reads.back(), "SELECT count(*) FROM old")),
              Value(2));
  }
  for (int i = 1; i < 4; ++i) ASSERT_OK(b_->Commit(reads[i]));

  ASSERT_OK_AND_ASSIGN(LogPosition position, Clone());
  // The open transaction still sees its snapshot; once it ends, every
  // reader sees the new content.
  EXPECT_EQ(engine::testing::Scalar(b_->Execute(reads[0], "SELECT count(*) FROM old")), Value(2));
  ASSERT_OK(b_->Commit(reads[0]));
  reads.clear();
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(reads.emplace_back(), b_->Begin(engine::TxnMode::kReadOnly));
    EXPECT_EQ(engine::testing::Scalar(b_->Execute(reads.back(), "SELECT count(*) FROM t")),
              Value(3000));
    EXPECT_THAT(b_->Execute(reads.back(), "SELECT * FROM old"),
                engine::testing::IsSqlError(absl::StatusCode::kNotFound, "42P01"));
  }
  for (auto txn : reads) ASSERT_OK(b_->Commit(txn));

  ASSERT_OK(WaitServed(1));
  EXPECT_EQ(position.seq(), 3);
  EXPECT_EQ(position.term(), 2);
  EXPECT_EQ(position.commit_ts_us(), Entry(3, 2).commit_ts_us());

  // The log position, through the engine.
  ASSERT_OK_AND_ASSIGN(LogState state, ReadLogState(*b_));
  EXPECT_TRUE(SamePosition(state.position, position)) << state.position.ShortDebugString();
  EXPECT_EQ(state.first_seq, 1);
  ASSERT_OK_AND_ASSIGN(LogEntry entry, ReadEntry(*b_, 2));
  EXPECT_EQ(entry.payload(), "entry 2");

  // The rows, read through B's readers, match A's exactly.
  const char* digest = "SELECT count(*), sum(id), group_concat(hex(pad), '') FROM t";
  ASSERT_OK_AND_ASSIGN(ResultSet want, a_->Execute(digest));
  ASSERT_OK_AND_ASSIGN(ResultSet got, b_->Execute(digest));
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.rows[0][0], Value(3000));
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT v FROM t WHERE id = 2999")),
            Value("row 2999"));
  // B's own earlier content is gone: its table, its row 9999, its log.
  EXPECT_THAT(b_->Execute("SELECT * FROM old"),
              engine::testing::IsSqlError(absl::StatusCode::kNotFound, "42P01"));
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT count(*) FROM t WHERE id = 9999")),
            Value(0));
  EXPECT_THAT(ReadEntry(*b_, 10).status(),
              ::testing::Property(&absl::Status::code, absl::StatusCode::kNotFound));
  // The index came along; the database is intact and still in WAL mode.
  EXPECT_EQ(
      engine::testing::Scalar(b_->Execute("SELECT count(*) FROM sqlite_schema WHERE name = 't_v'")),
      Value(1));
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("PRAGMA integrity_check")), Value("ok"));
  EXPECT_EQ(engine::testing::Scalar(b_->ExecuteInternal("PRAGMA journal_mode")), Value("wal"));
  const std::string header = ReadFile(dir_.File("b.db")).substr(18, 2);
  EXPECT_EQ(header, std::string("\x02\x02", 2));  // WAL file format versions

  // B keeps working: internal writes (the applier's) land after the snapshot.
  ASSERT_OK(AppendEntry(*b_, 4, 2));
  ASSERT_OK(b_->ExecuteInternal("INSERT INTO t (id, v) VALUES (3001, 'after')").status());
  ASSERT_OK_AND_ASSIGN(state, ReadLogState(*b_));
  EXPECT_EQ(state.position.seq(), 4);
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT count(*) FROM t")), Value(3001));

  // And it survives a reopen.
  b_.reset();
  ASSERT_OK_AND_ASSIGN(b_, Engine::Open(dir_.File("b.db")));
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT count(*) FROM t")), Value(3001));

  // Progress: a first and a last line, with sizes, naming the source.
  ASSERT_GE(progress_.size(), 2u);
  EXPECT_THAT(progress_.front(), HasSubstr("clone from zone1-101: 0.0 MiB of "));
  EXPECT_THAT(progress_.back(), HasSubstr("clone from zone1-101: done"));
  EXPECT_THAT(progress_.back(), HasSubstr("seq 3 term 2"));
  bool full = false;
  for (const auto& line : progress_) full = full || absl::StrContains(line, "(100%)");
  EXPECT_TRUE(full);

  // No scratch file stays behind on either side.
  EXPECT_TRUE(DirIsEmpty(scratch_a_));
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, DatabaseWithoutLogClonesAtPositionZero) {
  auto c = Engine::Open(dir_.File("c.db"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_OK((*c)->Execute("CREATE TABLE only (id INTEGER PRIMARY KEY)").status());
  ASSERT_OK((*c)->Execute("INSERT INTO only VALUES (1), (2)").status());
  service_.set_handler([&](grpc::ServerContext* ctx, const CloneRequest& req,
                           grpc::ServerWriter<CloneResponse>* writer) {
    return ToGrpcStatus(ServeClone(ctx, req, writer, **c, scratch_a_));
  });
  ASSERT_OK_AND_ASSIGN(LogPosition position, Clone());
  EXPECT_EQ(position.seq(), 0);
  EXPECT_EQ(position.term(), 0);
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT count(*) FROM only")), Value(2));
  EXPECT_THAT(b_->Execute("SELECT * FROM old"),
              engine::testing::IsSqlError(absl::StatusCode::kNotFound, "42P01"));
  EXPECT_TRUE(DirIsEmpty(scratch_a_));
}

TEST_F(CloneTest, WritesOnTheSourceDuringTheCloneAreNotInTheSnapshot) {
  // Each write adds row 1000000+seq and log entry seq in one transaction, so
  // a consistent snapshot holds exactly the rows up to its position.
  std::atomic<int64_t> next_seq{4};
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread writer([&] {
    while (!stop.load()) {
      const int64_t seq = next_seq.load();
      absl::Status s = a_->RunInternalWrite([&](WriteTxn& txn) -> absl::Status {
        RETURN_IF_ERROR(
            txn.Execute("INSERT INTO t (id, v, pad) VALUES (?1, 'live', randomblob(500))",
                        {Value(1000000 + seq)}, engine::Access::kInternal)
                .status());
        return InsertEntry(txn, Entry(seq, 3));
      });
      if (s.ok()) {
        next_seq.store(seq + 1);
      } else {
        ++errors;
      }
    }
  });
  // Once the header is in (the snapshot is taken), let the source write some
  // more before the rest of the stream is read.
  int64_t seq_at_header = 0;
  absl::StatusOr<LogPosition> position =
      CloneFrom(*stub_, "zone1-101", self_, *b_, scratch_b_, [&](const std::string& line) {
        if (seq_at_header != 0) return;
        seq_at_header = next_seq.load();
        const absl::Time deadline = absl::Now() + kWait;
        while (next_seq.load() < seq_at_header + 20 && absl::Now() < deadline) {
          std::this_thread::yield();
        }
      });
  stop.store(true);
  writer.join();
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(next_seq.load(), seq_at_header + 20);

  ASSERT_OK_AND_ASSIGN(LogState state, ReadLogState(*b_));
  EXPECT_TRUE(SamePosition(state.position, *position));
  EXPECT_LT(position->seq(), next_seq.load() - 1);  // A went on past the snapshot
  const int64_t live = position->seq() - 3;
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT count(*) FROM t WHERE id > 1000000")),
            Value(live));
  if (live > 0) {
    EXPECT_EQ(engine::testing::Scalar(b_->Execute("SELECT max(id) FROM t")),
              Value(1000000 + position->seq()));
  }
  EXPECT_EQ(engine::testing::Scalar(b_->Execute("PRAGMA integrity_check")), Value("ok"));
  ASSERT_OK(WaitServed(1));
  EXPECT_TRUE(DirIsEmpty(scratch_a_));
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, UnreachableSourceIsUnavailable) {
  const std::string before = Fingerprint(*b_);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  server_.reset();
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kUnavailable) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("clone from zone1-101"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
  ASSERT_FALSE(progress_.empty());
  EXPECT_THAT(progress_.back(), HasSubstr("failed"));
}

// Sends the header for the whole snapshot, then only `send` of its bytes (or
// the given replacement bytes), then returns `status`.
TestReplicationService::Handler PartialHandler(Engine& engine, const std::string& scratch,
                                               std::function<std::string(std::string)> mangle,
                                               grpc::Status status,
                                               LogPosition* announce = nullptr) {
  return [&engine, scratch, mangle, status, announce](grpc::ServerContext*, const CloneRequest&,
                                                      grpc::ServerWriter<CloneResponse>* writer) {
    const std::string path = scratch + "/handmade.db";
    absl::Status s = engine.SnapshotTo(path);
    if (!s.ok()) return ToGrpcStatus(s);
    std::string bytes = ReadFile(path);
    std::filesystem::remove(path);
    CloneResponse header;
    header.set_total_bytes(static_cast<int64_t>(bytes.size()));
    if (announce != nullptr) {
      *header.mutable_position() = *announce;
    } else {
      header.mutable_position()->set_seq(3);
      header.mutable_position()->set_term(2);
      header.mutable_position()->set_commit_ts_us(1700000000000000 + 3000);
    }
    writer->Write(header);
    bytes = mangle(std::move(bytes));
    for (size_t off = 0; off < bytes.size(); off += 256 << 10) {
      CloneResponse chunk;
      chunk.set_chunk(bytes.substr(off, 256 << 10));
      if (!writer->Write(chunk)) break;
    }
    return status;
  };
}

TEST_F(CloneTest, ShortSnapshotIsDataLoss) {
  const std::string before = Fingerprint(*b_);
  service_.set_handler(PartialHandler(
      *a_, scratch_a_, [](std::string b) { return b.substr(0, b.size() / 2); }, grpc::Status::OK));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("received"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, SourceErrorMidwayKeepsItsCodeAndLeavesTheReplicaAlone) {
  const std::string before = Fingerprint(*b_);
  service_.set_handler(PartialHandler(
      *a_, scratch_a_, [](std::string b) { return b.substr(0, b.size() / 2); },
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "source is shutting down")));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kUnavailable) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("source is shutting down"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, SourceServerGoingAwayMidwayIsUnavailable) {
  const std::string before = Fingerprint(*b_);
  absl::Notification half_sent;
  service_.set_handler([&](grpc::ServerContext* ctx, const CloneRequest&,
                           grpc::ServerWriter<CloneResponse>* writer) {
    CloneResponse header;
    header.set_total_bytes(4 << 20);
    header.mutable_position()->set_seq(3);
    writer->Write(header);
    CloneResponse chunk;
    chunk.set_chunk(std::string(1 << 20, 'x'));
    writer->Write(chunk);
    half_sent.Notify();
    // Stays in the call until the server cancels it.
    const absl::Time deadline = absl::Now() + kWait;
    while (!ctx->IsCancelled() && absl::Now() < deadline) std::this_thread::yield();
    return grpc::Status::OK;
  });
  std::thread killer([&] {
    ASSERT_TRUE(half_sent.WaitForNotificationWithTimeout(kWait));
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(100)));
  });
  auto position = Clone();
  killer.join();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kUnavailable) << position.status();
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, GarbageSnapshotIsDataLoss) {
  const std::string before = Fingerprint(*b_);
  service_.set_handler(PartialHandler(
      *a_, scratch_a_, [](std::string b) { return std::string(b.size(), '\x5a'); },
      grpc::Status::OK));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("not a SQLite database"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, CorruptPagesAreDataLoss) {
  const std::string before = Fingerprint(*b_);
  // A valid header, but the pages after the first are overwritten.
  service_.set_handler(PartialHandler(
      *a_, scratch_a_,
      [](std::string b) {
        std::string out = b.substr(0, 4096);
        out.append(b.size() - out.size(), '\x33');
        return out;
      },
      grpc::Status::OK));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, PositionThatDisagreesWithTheSnapshotIsDataLoss) {
  const std::string before = Fingerprint(*b_);
  LogPosition wrong;
  wrong.set_seq(99);
  wrong.set_term(2);
  service_.set_handler(PartialHandler(
      *a_, scratch_a_, [](std::string b) { return b; }, grpc::Status::OK, &wrong));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("seq 99"));
  EXPECT_EQ(Fingerprint(*b_), before);
}

TEST_F(CloneTest, MoreBytesThanAnnouncedIsDataLoss) {
  const std::string before = Fingerprint(*b_);
  service_.set_handler(PartialHandler(
      *a_, scratch_a_, [](std::string b) { return b + "extra"; }, grpc::Status::OK));
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("more than"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, EmptyStreamIsDataLoss) {
  service_.set_handler([](grpc::ServerContext*, const CloneRequest&,
                          grpc::ServerWriter<CloneResponse>*) { return grpc::Status::OK; });
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kDataLoss) << position.status();
}

TEST_F(CloneTest, ServeCloneStopsWhenTheClientGoesAway) {
  // Make the snapshot big enough that it cannot all sit in transport buffers.
  ASSERT_OK(a_->Execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 16000) INSERT INTO t SELECT 10000 + i, 'big', "
                        "randomblob(1000) FROM n")
                .status());
  grpc::ClientContext ctx;
  CloneRequest request;
  *request.mutable_requester() = self_;
  auto reader = stub_->Clone(&ctx, request);
  CloneResponse header;
  ASSERT_TRUE(reader->Read(&header));
  EXPECT_GT(header.total_bytes(), 16 << 20);
  EXPECT_EQ(header.position().seq(), 3);
  ctx.TryCancel();
  CloneResponse ignored;
  while (reader->Read(&ignored)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  absl::Status served = WaitServed(1);
  EXPECT_EQ(served.code(), absl::StatusCode::kCancelled) << served;
  EXPECT_TRUE(DirIsEmpty(scratch_a_));
}

TEST_F(CloneTest, DifferentPageSizeIsRefusedAndLeavesTheReplicaAlone) {
  // A source database made with 8 KiB pages; B has SQLite's default 4 KiB.
  const std::string path = dir_.File("c.db");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "PRAGMA page_size = 8192; CREATE TABLE x (id INTEGER PRIMARY KEY); "
                         "INSERT INTO x VALUES (1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Engine> c, Engine::Open(path));
  service_.set_handler([&](grpc::ServerContext* ctx, const CloneRequest& req,
                           grpc::ServerWriter<CloneResponse>* writer) {
    return ToGrpcStatus(ServeClone(ctx, req, writer, *c, scratch_a_));
  });
  const std::string before = Fingerprint(*b_);
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kFailedPrecondition) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("page size is 8192"));
  EXPECT_EQ(Fingerprint(*b_), before);
  EXPECT_TRUE(DirIsEmpty(scratch_b_));
}

TEST_F(CloneTest, SnapshotErrorsReachTheClient) {
  // A scratch dir that does not exist: VACUUM INTO cannot create the file.
  service_.set_handler([this](grpc::ServerContext* ctx, const CloneRequest& req,
                              grpc::ServerWriter<CloneResponse>* writer) {
    return ToGrpcStatus(ServeClone(ctx, req, writer, *a_, dir_.File("missing")));
  });
  const std::string before = Fingerprint(*b_);
  auto position = Clone();
  EXPECT_EQ(position.status().code(), absl::StatusCode::kInternal) << position.status();
  EXPECT_THAT(std::string(position.status().message()), HasSubstr("snapshot"));
  EXPECT_EQ(engine::SqlState(position.status()), "58030");
  EXPECT_EQ(Fingerprint(*b_), before);
}

}  // namespace
}  // namespace shale::tablet::replication
