#include "tests/chaos/pg_client.h"

#include <poll.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace shale::chaos {
namespace {

std::string ConnError(PGconn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
}

// Waits until the socket is readable (or writable) or the deadline passes.
bool WaitSocket(PGconn* conn, bool for_write, absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return false;
  pollfd p{PQsocket(conn), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  const int ms = static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 100));
  return poll(&p, 1, ms) >= 0;
}

}  // namespace

PgClient::~PgClient() { Drop(); }

void PgClient::Drop() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

absl::Status PgClient::Connect(absl::Time deadline) {
  conn_ = PQconnectStart(conninfo_.c_str());
  if (conn_ == nullptr) return absl::UnavailableError("connect: out of memory");
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED || PQstatus(conn_) == CONNECTION_BAD) {
      absl::Status s = absl::UnavailableError(absl::StrCat("connect: ", ConnError(conn_)));
      Drop();
      return s;
    }
    if (absl::Now() >= deadline) {
      Drop();
      return absl::DeadlineExceededError("connect: timed out");
    }
    if (!WaitSocket(conn_, st == PGRES_POLLING_WRITING, deadline)) continue;
    st = PQconnectPoll(conn_);
  }
  return absl::OkStatus();
}

absl::StatusOr<PgClient::Result> PgClient::Exec(const std::string& sql, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (conn_ != nullptr && PQstatus(conn_) != CONNECTION_OK) Drop();
  if (conn_ == nullptr) {
    absl::Status s = Connect(deadline);
    if (!s.ok()) return s;
  }
  if (PQsendQuery(conn_, sql.c_str()) != 1) {
    absl::Status s = absl::UnavailableError(absl::StrCat("send: ", ConnError(conn_)));
    Drop();
    return s;
  }
  Result result;
  absl::Status error;
  for (;;) {
    while (PQisBusy(conn_)) {
      if (absl::Now() >= deadline) {
        Drop();
        return absl::DeadlineExceededError(
            absl::StrCat("no answer within ", absl::FormatDuration(timeout)));
      }
      WaitSocket(conn_, false, deadline);
      if (PQconsumeInput(conn_) != 1) {
        absl::Status s =
            absl::UnavailableError(absl::StrCat("connection lost: ", ConnError(conn_)));
        Drop();
        return s;
      }
    }
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) break;
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::string> row;
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
        result.rows.push_back(std::move(row));
      }
    } else if (st != PGRES_COMMAND_OK && error.ok()) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      error = absl::AbortedError(
          absl::StrCat(state != nullptr ? state : "?????", ": ",
                       absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(r))));
    }
    PQclear(r);
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    Drop();
    if (error.ok()) return absl::UnavailableError("connection lost");
  }
  if (!error.ok()) return error;
  return result;
}

}  // namespace shale::chaos
