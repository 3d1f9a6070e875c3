#pragma once

// PgClient: one libpq connection to the gateway that reconnects on demand
// and bounds every statement by a deadline (a hung gateway turns into an
// error, not a stuck client thread). Used by the chaos load (chaos_load.h)
// and the final read-back. Not thread-safe: one client per thread; it owns
// its connection.

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shale::chaos {

class PgClient {
 public:
  // conninfo: a libpq connection string ("host=... port=... dbname=app").
  explicit PgClient(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  // The rows of one statement, as text (a command's result has none).
  struct Result {
    std::vector<std::vector<std::string>> rows;
  };

  // Runs sql (simple query protocol), connecting first if needed.
  // Unavailable when no connection could be made or it broke (the next call
  // reconnects); DeadlineExceeded after timeout (the connection is dropped);
  // otherwise the server's error, its message prefixed with its SQLSTATE
  // ("40001: ..."), as Aborted.
  absl::StatusOr<Result> Exec(const std::string& sql, absl::Duration timeout);

 private:
  absl::Status Connect(absl::Time deadline);
  void Drop();

  const std::string conninfo_;
  PGconn* conn_ = nullptr;
};

}  // namespace shale::chaos
