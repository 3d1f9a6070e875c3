#include "tablet/replication/clone.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "grpcpp/client_context.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/engine/sqlite_errors.h"
#include "topo/tablet_alias.h"

namespace shale::tablet::replication {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr absl::Duration kProgressEvery = absl::Seconds(1);

// Same code and payloads (the SQLSTATE), message prefixed with context.
absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

absl::Status ErrnoError(int err, absl::string_view what) { return absl::ErrnoToStatus(err, what); }

std::string ScratchPath(const std::string& dir, absl::string_view prefix) {
  absl::BitGen gen;
  return absl::StrFormat("%s/%s-%016x.db", dir, prefix, absl::Uniform<uint64_t>(gen));
}

// Removes a scratch database (and any SQLite side files) when destroyed.
class ScratchFile {
 public:
  explicit ScratchFile(std::string path) : path_(std::move(path)) {}
  ~ScratchFile() {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      ::unlink(absl::StrCat(path_, suffix).c_str());
    }
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Closes a file descriptor when destroyed.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting close's error.
  absl::Status Close(absl::string_view what) {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return ErrnoError(errno, what);
    return absl::OkStatus();
  }

 private:
  int fd_;
};

// A SQLite connection closed when destroyed.
struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

absl::StatusOr<SqliteDb> OpenReadOnly(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) return engine::SqliteError(rc, db.get());
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

// Runs a query returning at most one row; on_row reads the row's columns.
absl::Status QueryRow(sqlite3* db, const char* sql,
                      const std::function<void(sqlite3_stmt*)>& on_row) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return engine::SqliteError(rc, db);
  rc = sqlite3_step(stmt);
  absl::Status status;
  if (rc == SQLITE_ROW) {
    on_row(stmt);
  } else if (rc != SQLITE_DONE) {
    status = engine::SqliteError(rc, db);
  }
  sqlite3_finalize(stmt);
  return status;
}

// The newest _shale_log entry of a snapshot file (seq 0 when the database
// has no log table or an empty one).
absl::StatusOr<LogPosition> SnapshotPosition(sqlite3* db) {
  int64_t tables = 0;
  RETURN_IF_ERROR(QueryRow(
      db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_shale_log'",
      [&](sqlite3_stmt* s) { tables = sqlite3_column_int64(s, 0); }));
  LogPosition position;
  if (tables == 0) return position;
  RETURN_IF_ERROR(QueryRow(db,
                           "SELECT seq, term, commit_ts FROM _shale_log ORDER BY seq DESC LIMIT 1",
                           [&](sqlite3_stmt* s) {
                             position.set_seq(sqlite3_column_int64(s, 0));
                             position.set_term(sqlite3_column_int64(s, 1));
                             position.set_commit_ts_us(sqlite3_column_int64(s, 2));
                           }));
  return position;
}

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

std::string PositionText(const LogPosition& p) {
  return absl::StrCat("seq ", p.seq(), " term ", p.term());
}

std::string AliasText(const topodata::TabletAlias& alias) {
  if (alias.cell().empty() && alias.uid() == 0) return "(unnamed)";
  return topo::TabletAlias::FromProto(alias).ToString();
}

}  // namespace

absl::Status ServeClone(grpc::ServerContext* context, const CloneRequest& request,
                        grpc::ServerWriter<CloneResponse>* writer, engine::Engine& engine,
                        const std::string& scratch_dir) {
  const std::string requester = AliasText(request.requester());
  const std::string what = absl::StrCat("clone to ", requester);
  const absl::Time start = absl::Now();
  ScratchFile scratch(ScratchPath(scratch_dir, "clone"));

  RETURN_IF_ERROR(Annotate(engine.SnapshotTo(scratch.path()), absl::StrCat(what, ": snapshot")));

  // The position comes from the snapshot itself, so it matches the data.
  LogPosition position;
  {
    absl::StatusOr<SqliteDb> db = OpenReadOnly(scratch.path());
    absl::StatusOr<LogPosition> read =
        db.ok() ? SnapshotPosition(db->get()) : absl::StatusOr<LogPosition>(db.status());
    if (!read.ok()) {
      return Annotate(read.status(), absl::StrCat(what, ": reading the snapshot's log position"));
    }
    position = *read;
  }

  Fd fd(::open(scratch.path().c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, absl::StrCat(what, ": open ", scratch.path()));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat(what, ": stat ", scratch.path()));
  }
  const int64_t total = st.st_size;
  spdlog::info("{}: snapshot of {} at {} taken in {}", what, Mib(total), PositionText(position),
               absl::FormatDuration(absl::Now() - start));

  auto cancelled = [&] {
    return absl::CancelledError(absl::StrCat(what, ": the client went away"));
  };
  CloneResponse header;
  header.set_total_bytes(total);
  *header.mutable_position() = position;
  if (context->IsCancelled() || !writer->Write(header)) return cancelled();

  std::string buffer(kChunkBytes, '\0');
  int64_t sent = 0;
  while (sent < total) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat(what, ": read ", scratch.path()));
    }
    if (n == 0) {
      return absl::InternalError(absl::StrCat(what, ": snapshot ", scratch.path(), " ended at ",
                                              sent, " of ", total, " bytes"));
    }
    CloneResponse chunk;
    chunk.set_chunk(buffer.data(), static_cast<size_t>(n));
    if (context->IsCancelled() || !writer->Write(chunk)) return cancelled();
    sent += n;
  }
  spdlog::info("{}: sent {} at {} in {}", what, Mib(total), PositionText(position),
               absl::FormatDuration(absl::Now() - start));
  return absl::OkStatus();
}

namespace {

// Receives the stream into path (created, must not exist) and fsyncs it.
// Sets *position from the header.
absl::Status Receive(grpc::ClientReader<CloneResponse>& reader, grpc::ClientContext& ctx,
                     const std::string& path, const std::string& what,
                     const CloneProgress& on_progress, LogPosition* position, int64_t* received) {
  // On a local error, stop the stream and drain it so Finish returns.
  auto abandon = [&](absl::Status why) {
    ctx.TryCancel();
    CloneResponse ignored;
    while (reader.Read(&ignored)) {
    }
    static_cast<void>(reader.Finish());
    return why;
  };
  auto finish = [&]() -> absl::Status {
    grpc::Status status = reader.Finish();
    if (status.ok()) return absl::OkStatus();
    absl::Status s = FromGrpcStatus(status);
    // We never cancel before Finish on this path: a cancellation is the
    // source (or its server) going away mid-stream, so retrying is right.
    if (s.code() == absl::StatusCode::kCancelled) {
      s = absl::UnavailableError(s.message());
    }
    return Annotate(s, what);
  };

  CloneResponse msg;
  if (!reader.Read(&msg)) {
    RETURN_IF_ERROR(finish());
    return absl::DataLossError(
        absl::StrCat(what, ": the source ended the stream without a snapshot"));
  }
  if (!msg.has_position() || msg.total_bytes() < 0) {
    return abandon(absl::DataLossError(
        absl::StrCat(what, ": the first message has no snapshot size and position (total_bytes ",
                     msg.total_bytes(), ")")));
  }
  const int64_t total = msg.total_bytes();
  *position = msg.position();

  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return abandon(ErrnoError(errno, absl::StrCat(what, ": create ", path)));
  }
  const absl::Time start = absl::Now();
  absl::Time last_progress = start;
  auto progress = [&](int64_t bytes) {
    std::string line = absl::StrFormat("%s: %s of %s (%d%%)", what, Mib(bytes), Mib(total),
                                       total > 0 ? bytes * 100 / total : 100);
    spdlog::info("{}", line);
    if (on_progress) on_progress(line);
  };
  progress(0);

  int64_t bytes = 0;
  do {
    const std::string& chunk = msg.chunk();
    if (bytes + static_cast<int64_t>(chunk.size()) > total) {
      return abandon(absl::DataLossError(
          absl::StrCat(what, ": the source sent more than the ", total, " bytes it announced")));
    }
    size_t off = 0;
    while (off < chunk.size()) {
      ssize_t n = ::write(fd.get(), chunk.data() + off, chunk.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return abandon(ErrnoError(errno, absl::StrCat(what, ": write ", path)));
      }
      off += static_cast<size_t>(n);
    }
    bytes += static_cast<int64_t>(chunk.size());
    *received = bytes;
    const absl::Time now = absl::Now();
    if (now - last_progress >= kProgressEvery) {
      last_progress = now;
      progress(bytes);
    }
    msg.Clear();
  } while (reader.Read(&msg));
  RETURN_IF_ERROR(finish());

  if (bytes != total) {
    return absl::DataLossError(
        absl::StrCat(what, ": received ", bytes, " of the ", total, " bytes announced"));
  }
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, absl::StrCat(what, ": fsync ", path));
  RETURN_IF_ERROR(fd.Close(absl::StrCat(what, ": close ", path)));
  progress(bytes);
  return absl::OkStatus();
}

// Checks the received file is an intact SQLite database whose newest log
// entry is the announced position.
absl::Status Verify(sqlite3* src, const LogPosition& announced, const std::string& what) {
  std::string check;
  absl::Status status = QueryRow(src, "PRAGMA quick_check", [&](sqlite3_stmt* s) {
    const unsigned char* text = sqlite3_column_text(s, 0);
    check = text == nullptr ? "" : reinterpret_cast<const char*>(text);
  });
  if (!status.ok()) {
    return absl::DataLossError(
        absl::StrCat(what, ": the snapshot is not a SQLite database: ", status.message()));
  }
  if (check != "ok") {
    return absl::DataLossError(
        absl::StrCat(what, ": the snapshot failed quick_check: ",
                     absl::StrReplaceAll(check.substr(0, 300), {{"\n", "; "}})));
  }
  absl::StatusOr<LogPosition> actual = SnapshotPosition(src);
  if (!actual.ok()) {
    return absl::DataLossError(absl::StrCat(
        what, ": cannot read the snapshot's log position: ", actual.status().message()));
  }
  if (actual->seq() != announced.seq() || actual->term() != announced.term() ||
      actual->commit_ts_us() != announced.commit_ts_us()) {
    return absl::DataLossError(absl::StrCat(what, ": the snapshot's newest log entry is ",
                                            PositionText(*actual), ", the source announced ",
                                            PositionText(announced)));
  }
  return absl::OkStatus();
}

// Replaces the engine's database with src's content in one transaction on
// the writer (the backup API; the WAL destination stays in WAL mode).
absl::Status Restore(engine::Engine& engine, sqlite3* src, const std::string& what) {
  const std::string context = absl::StrCat(what, ": restore");
  int64_t src_page_size = 0;
  RETURN_IF_ERROR(
      Annotate(QueryRow(src, "PRAGMA page_size",
                        [&](sqlite3_stmt* s) { src_page_size = sqlite3_column_int64(s, 0); }),
               context));
  return engine.WithWriter([&](sqlite3* db) -> absl::Status {
    // A WAL database cannot change its page size, and the backup API
    // refuses the copy with a bare SQLITE_READONLY: say why instead.
    int64_t page_size = 0;
    RETURN_IF_ERROR(
        Annotate(QueryRow(db, "PRAGMA page_size",
                          [&](sqlite3_stmt* s) { page_size = sqlite3_column_int64(s, 0); }),
                 context));
    if (page_size != src_page_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, ": the snapshot's page size is ", src_page_size, " bytes, this database's is ",
          page_size, " (a WAL database cannot change it)"));
    }
    sqlite3_backup* backup = sqlite3_backup_init(db, "main", src, "main");
    if (backup == nullptr) return Annotate(engine::SqliteError(sqlite3_errcode(db), db), context);
    // One step copies everything in one write transaction on the writer.
    int rc = sqlite3_backup_step(backup, -1);
    // Finishing before DONE rolls the destination back: unchanged on error.
    int finish_rc = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) return Annotate(engine::SqliteError(rc, db), context);
    if (finish_rc != SQLITE_OK) return Annotate(engine::SqliteError(finish_rc, db), context);
    // The whole database went through the WAL; fold it back now (best
    // effort: a reader still on the old content keeps part of it).
    sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<LogPosition> CloneFrom(Replication::Stub& source, const std::string& source_name,
                                      const topodata::TabletAlias& self, engine::Engine& engine,
                                      const std::string& scratch_dir,
                                      const CloneProgress& on_progress) {
  const std::string what = absl::StrCat("clone from ", source_name);
  const absl::Time start = absl::Now();
  ScratchFile scratch(ScratchPath(scratch_dir, "clone-in"));
  auto failed = [&](absl::Status status) {
    std::string line = absl::StrCat("clone failed: ", status.message());
    spdlog::warn("{}", line);
    if (on_progress) on_progress(line);
    return status;
  };

  CloneRequest request;
  *request.mutable_requester() = self;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<CloneResponse>> reader = source.Clone(&ctx, request);
  LogPosition position;
  int64_t bytes = 0;
  absl::Status status = Receive(*reader, ctx, scratch.path(), what, on_progress, &position, &bytes);
  if (!status.ok()) return failed(status);

  absl::StatusOr<SqliteDb> src = OpenReadOnly(scratch.path());
  if (!src.ok()) {
    return failed(absl::DataLossError(
        absl::StrCat(what, ": cannot open the snapshot: ", src.status().message())));
  }
  status = Verify(src->get(), position, what);
  if (status.ok()) status = Restore(engine, src->get(), what);
  if (!status.ok()) return failed(status);

  std::string line =
      absl::StrFormat("%s: done, %s in %s, log position %s", what, Mib(bytes),
                      absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))),
                      PositionText(position));
  spdlog::info("{}", line);
  if (on_progress) on_progress(line);
  return position;
}

}  // namespace shale::tablet::replication
