#pragma once

// Helpers for the server's end-to-end tests: a Server on a free loopback
// port backed by TestSessionFactory, libpq handles that clean up after
// themselves, a raw socket client for hand-made bytes, and a temp dir.
// Test-only; each object is used from the test's thread.

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gate/pgwire/server.h"
#include "gate/pgwire/test_session.h"

namespace shale::gate::pgwire {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// A TestSessionFactory and a Server started on 127.0.0.1 with a free port.
class TestServer {
 public:
  // Aborts the test binary (CHECK-like) if the server cannot start.
  explicit TestServer(ServerOptions options = {});
  ~TestServer();

  Server& server() { return *server_; }
  TestSessionFactory& factory() { return factory_; }
  int port() const { return server_->port(); }

  // libpq connection string for user/db plus `extra` ("sslmode=disable").
  std::string ConnInfo(absl::string_view extra = "sslmode=disable") const;
  // A libpq connection (check PQstatus: it may have failed).
  PgConn Connect(absl::string_view extra = "sslmode=disable") const;

 private:
  TestSessionFactory factory_;
  std::unique_ptr<Server> server_;
};

PgResult Exec(PGconn* conn, const char* sql);

// Polls predicate until it holds or timeout passes; returns its last value.
bool WaitFor(absl::FunctionRef<bool()> predicate, absl::Duration timeout = absl::Seconds(10));

// A backend message as read off the wire.
struct BackendMessage {
  char type;
  std::string body;
};

// The fields of an ErrorResponse/NoticeResponse body by code ('C', 'M', ...).
std::map<char, std::string> ErrorFields(absl::string_view body);

// A plain TCP connection to the server for hand-made protocol bytes.
class RawClient {
 public:
  static absl::StatusOr<std::unique_ptr<RawClient>> Connect(int port);
  ~RawClient();

  absl::Status Send(absl::string_view bytes);
  // One byte (the answer to SSLRequest/GSSENCRequest).
  absl::StatusOr<char> ReadByte(absl::Duration timeout = absl::Seconds(10));
  // Backend messages up to and including the first of type `until`.
  // DeadlineExceeded on timeout, OutOfRange when the server closes first.
  absl::StatusOr<std::vector<BackendMessage>> ReadUntil(char until,
                                                        absl::Duration timeout = absl::Seconds(10));
  // True when the server closes the connection within timeout.
  bool ClosedByServer(absl::Duration timeout = absl::Seconds(10));
  // Runs a trust startup for user/db and reads up to the first ReadyForQuery.
  absl::Status Startup(absl::string_view user = "u", absl::string_view database = "db");

 private:
  explicit RawClient(int fd) : fd_(fd) {}
  // Reads more bytes into buffer_; false on EOF, error or timeout.
  absl::Status ReadMore(absl::Time deadline);

  int fd_;
  std::string buffer_;
};

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes contents to path()/name; returns the full path.
  std::string WriteFile(absl::string_view name, absl::string_view contents) const;

 private:
  std::string path_;
};

}  // namespace shale::gate::pgwire
