#pragma once

// QueryProcessor serves an authenticated connection: the simple query
// protocol, the extended protocol (prepared statements, portals,
// pipelining), and COPY FROM STDIN, calling the connection's Session.
//
// Owned by the Connection, which makes it once the session is open and runs
// Serve on the connection's thread; nothing else touches it.
//
// Errors of statements become ErrorResponse messages and the connection
// carries on (after an error in the extended protocol, messages are skipped
// until Sync). Serve returns only when the connection ends: OK for a
// Terminate message, 08P01 for a protocol violation (the caller sends it as a
// FATAL ErrorResponse), Unavailable when the client went away.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gate/pgwire/backend_messages.h"
#include "gate/pgwire/frontend_messages.h"
#include "gate/pgwire/message_stream.h"
#include "gate/pgwire/session.h"
#include "gate/pgwire/stats.h"

namespace shale::gate::pgwire {

class QueryProcessor {
 public:
  // All borrowed for the life of the processor.
  QueryProcessor(Session* session, MessageStream* stream, StatsCounters* stats);

  absl::Status Serve();

 private:
  // A Parse'd statement.
  struct Prepared {
    std::shared_ptr<const Statement> stmt;  // null: empty query
    std::vector<uint32_t> param_oids;       // one per parameter, 0 = unspecified
  };
  // A Bind'ed statement, run once (at Describe or first Execute); its rows
  // are then handed out over one or more Executes.
  struct Portal {
    std::string statement_name;
    std::shared_ptr<const Statement> stmt;
    std::vector<tablet::Value> params;
    std::vector<int16_t> result_formats;
    bool executed = false;
    Result result;
    std::vector<ColumnDescription> columns;
    int next_row = 0;
  };

  // Each handler returns non-OK only when the connection must end.
  absl::Status Dispatch(const FrontendMessage& message);
  absl::Status HandleQuery(absl::string_view sql);
  absl::Status HandleParse(const ParseMessage& m);
  absl::Status HandleBind(const BindMessage& m);
  absl::Status HandleDescribe(const DescribeMessage& m);
  absl::Status HandleExecute(const ExecuteMessage& m);
  absl::Status HandleClose(const CloseMessage& m);
  absl::Status HandleSync();

  // Runs one statement of a simple query; false when it failed (the error
  // was sent).
  absl::StatusOr<bool> RunSimpleStatement(const Statement& stmt);
  // Sends RowDescription (when describe) and rows [*next_row, *next_row +
  // max_rows) (all when max_rows <= 0), advancing *next_row. An encoding
  // error is sent as ErrorResponse and returned as false.
  absl::StatusOr<bool> SendRows(const Result& result, const std::vector<ColumnDescription>& columns,
                                bool describe, int max_rows, int* next_row);
  // Runs the portal's statement if it has not run yet. A SQL error is
  // returned (not sent). describing: for Describe, whose RowDescription gets
  // the exact types; an Execute of an undescribed portal keeps to the types
  // the statement's Describe announced, which the client may decode by.
  absl::Status EnsureExecuted(Portal* portal, bool describing);
  // The COPY FROM STDIN sub-protocol: *outcome is the command tag or the
  // error to send. The return value is non-OK only when the connection ends.
  absl::Status RunCopyIn(const CopyIn& copy, absl::StatusOr<std::string>* outcome);

  // Closes the portals for which `which` holds; a COPY that a Describe started
  // but no Execute ran is failed in the Session.
  void DropPortals(absl::FunctionRef<bool(const std::string& name, const Portal& portal)> which);

  // Sends status as an ErrorResponse (and in the extended protocol, skips
  // messages until Sync).
  void SendError(const absl::Status& status);
  absl::Status SendReadyForQuery();
  absl::StatusOr<Result> Execute(const Statement& stmt, absl::Span<const tablet::Value> params);

  Session* session_;
  MessageStream* stream_;
  StatsCounters* stats_;
  bool in_extended_ = false;       // the current message is part of the extended protocol
  bool ignore_till_sync_ = false;  // an extended-protocol error happened
  absl::flat_hash_map<std::string, Prepared> statements_;
  absl::flat_hash_map<std::string, Portal> portals_;
};

}  // namespace shale::gate::pgwire
