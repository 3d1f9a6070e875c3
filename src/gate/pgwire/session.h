#pragma once

// The interface between the PostgreSQL front end (this folder) and whatever
// plans and runs statements (the gateway's executor, or a test double).
//
// The server owns one Session per client connection (made by a SessionFactory
// after authentication) and calls it only from that connection's thread,
// except Cancel, which comes from the thread serving a CancelRequest.
//
// Values and results are the tablet's protobuf messages (proto/tablet_data.proto):
// Value {oneof null/int64/float64/text/blob}, Field {name, decl_type},
// Row {values}, QueryResult {fields, rows, rows_affected, last_insert_id}.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tablet_data.pb.h"

namespace shale::gate::pgwire {

// The transaction status byte of ReadyForQuery.
enum class TxnStatus : char { kIdle = 'I', kInBlock = 'T', kFailed = 'E' };

// What the client said in its StartupMessage, after authentication.
struct StartupInfo {
  std::string user;
  std::string database;  // defaults to the user name
  std::string application_name;
  std::map<std::string, std::string> params;  // every startup parameter as sent
  std::string peer;                           // "ip:port" of the client
};

// Set on a Result when the statement is COPY ... FROM STDIN.
struct CopyIn {
  int num_columns = 0;
  bool csv = false;
};

// The outcome of one statement.
struct Result {
  bool returns_rows = false;  // send RowDescription + DataRows (SELECT, SHOW, ... RETURNING)
  tablet::QueryResult data;   // fields and rows when returns_rows
  std::string command_tag;    // "SELECT 3", "INSERT 0 2", "UPDATE 1", "BEGIN", "SET", ...
  std::optional<CopyIn> copy_in;  // set: run the COPY FROM STDIN sub-protocol
};

// A parsed (and planned) statement, created by the Session. Immutable once
// made; the server may keep it (prepared statements, portals) for as long as
// the Session lives and executes it any number of times.
class Statement {
 public:
  virtual ~Statement() = default;
  // The highest $n the statement uses.
  virtual int num_params() const = 0;
  // The result columns when they are known without running the statement,
  // else null (Describe of a prepared statement then answers NoData).
  virtual const std::vector<tablet::Field>* columns() const { return nullptr; }
};

// One per client connection. Called only from that connection's thread,
// except Cancel. Errors are absl::Status; the server sends them as
// ErrorResponse with SqlStateOrDefault(status) and ErrorPosition(status).
class Session {
 public:
  virtual ~Session() = default;

  // Simple query: every statement of the string, in order (none for an empty
  // query, which the client sees as EmptyQueryResponse). An error means
  // nothing runs.
  virtual absl::StatusOr<std::vector<std::shared_ptr<const Statement>>> PrepareSimple(
      absl::string_view query) = 0;

  // Extended protocol Parse: exactly one statement, or null for an empty
  // query. param_oids as the client sent them (0 = unspecified); there may be
  // fewer than the statement's parameters.
  virtual absl::StatusOr<std::shared_ptr<const Statement>> Prepare(
      absl::string_view query, absl::Span<const uint32_t> param_oids) = 0;

  // Runs stmt with params ($1 is params[0]); params.size() == num_params().
  // When the Result has copy_in, the server next calls CopyData for each
  // chunk the client sends and then CopyDone, or CopyFail if the client gives
  // up or disconnects. An error from CopyData ends the copy: neither CopyDone
  // nor CopyFail follows.
  virtual absl::StatusOr<Result> Execute(const Statement& stmt,
                                         absl::Span<const tablet::Value> params) = 0;
  // The raw CopyData payloads, in order (not split on row boundaries).
  virtual absl::Status CopyData(absl::string_view chunk) = 0;
  // The end of the data; returns the command tag, e.g. "COPY 1000".
  virtual absl::StatusOr<std::string> CopyDone() = 0;
  virtual void CopyFail(absl::string_view reason) = 0;

  // Sent in every ReadyForQuery.
  virtual TxnStatus txn_status() const = 0;

  // Called from another thread (a CancelRequest, or the server stopping):
  // best effort, should make a blocked Execute return soon (57014).
  virtual void Cancel() = 0;
};

// Makes Sessions. Owned by the caller of Server::Start and must outlive the
// Server; Open is called from connection threads, concurrently.
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // After authentication. An error is sent as a FATAL ErrorResponse (e.g.
  // 3D000 for an unknown database) and the connection closes.
  virtual absl::StatusOr<std::unique_ptr<Session>> Open(const StartupInfo& info) = 0;
};

}  // namespace shale::gate::pgwire
