// QueryProcessor: the message loop, the simple query protocol and COPY FROM
// STDIN. The extended protocol's handlers are in extended_query.cc.

#include "gate/pgwire/query_processor.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/pgwire/row_encoder.h"

namespace shale::gate::pgwire {

QueryProcessor::QueryProcessor(Session* session, MessageStream* stream, StatsCounters* stats)
    : session_(session), stream_(stream), stats_(stats) {}

absl::Status QueryProcessor::Serve() {
  while (true) {
    ASSIGN_OR_RETURN(MessageStream::Message raw, stream_->ReadMessage());
    ASSIGN_OR_RETURN(FrontendMessage message, DecodeFrontendMessage(raw.type, raw.body));
    if (std::holds_alternative<TerminateMessage>(message)) return stream_->Flush();
    RETURN_IF_ERROR(Dispatch(message));
    RETURN_IF_ERROR(stream_->FlushIfLarge());
  }
}

absl::Status QueryProcessor::Dispatch(const FrontendMessage& message) {
  in_extended_ = std::holds_alternative<ParseMessage>(message) ||
                 std::holds_alternative<BindMessage>(message) ||
                 std::holds_alternative<DescribeMessage>(message) ||
                 std::holds_alternative<ExecuteMessage>(message) ||
                 std::holds_alternative<CloseMessage>(message) ||
                 std::holds_alternative<SyncMessage>(message) ||
                 std::holds_alternative<FlushMessage>(message);
  if (ignore_till_sync_ && !std::holds_alternative<SyncMessage>(message)) return absl::OkStatus();
  return std::visit(
      [this](const auto& m) -> absl::Status {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, QueryMessage>) {
          return HandleQuery(m.sql);
        } else if constexpr (std::is_same_v<T, ParseMessage>) {
          return HandleParse(m);
        } else if constexpr (std::is_same_v<T, BindMessage>) {
          return HandleBind(m);
        } else if constexpr (std::is_same_v<T, DescribeMessage>) {
          return HandleDescribe(m);
        } else if constexpr (std::is_same_v<T, ExecuteMessage>) {
          return HandleExecute(m);
        } else if constexpr (std::is_same_v<T, CloseMessage>) {
          return HandleClose(m);
        } else if constexpr (std::is_same_v<T, SyncMessage>) {
          return HandleSync();
        } else if constexpr (std::is_same_v<T, FlushMessage>) {
          return stream_->Flush();
        } else if constexpr (std::is_same_v<T, FunctionCallMessage>) {
          SendError(SqlError(absl::StatusCode::kUnimplemented, sqlstate::kFeatureNotSupported,
                             "the function call protocol is not supported"));
          return SendReadyForQuery();
        } else if constexpr (std::is_same_v<T, PasswordMessage>) {
          return ProtocolError("unexpected password message");
        } else {
          // CopyData/CopyDone/CopyFail outside COPY: the client is still
          // sending a copy that failed. Ignored, as the protocol says.
          return absl::OkStatus();
        }
      },
      message);
}

void QueryProcessor::SendError(const absl::Status& status) {
  stats_->errors.fetch_add(1, std::memory_order_relaxed);
  EncodeStatusError(status, "ERROR", &stream_->out());
  if (in_extended_) ignore_till_sync_ = true;
}

absl::Status QueryProcessor::SendReadyForQuery() {
  EncodeReadyForQuery(static_cast<char>(session_->txn_status()), &stream_->out());
  return stream_->Flush();
}

absl::StatusOr<Result> QueryProcessor::Execute(const Statement& stmt,
                                               absl::Span<const tablet::Value> params) {
  stats_->queries.fetch_add(1, std::memory_order_relaxed);
  return session_->Execute(stmt, params);
}

absl::Status QueryProcessor::HandleQuery(absl::string_view sql) {
  // A simple query drops the unnamed statement and portal.
  statements_.erase("");
  DropPortals([](const std::string& name, const Portal&) { return name.empty(); });
  absl::StatusOr<std::vector<std::shared_ptr<const Statement>>> stmts =
      session_->PrepareSimple(sql);
  if (!stmts.ok()) {
    SendError(stmts.status());
  } else if (stmts->empty()) {
    EncodeEmptyQueryResponse(&stream_->out());
  } else {
    for (const std::shared_ptr<const Statement>& stmt : *stmts) {
      ASSIGN_OR_RETURN(bool ok, RunSimpleStatement(*stmt));
      if (!ok) break;
    }
  }
  return SendReadyForQuery();
}

absl::StatusOr<bool> QueryProcessor::RunSimpleStatement(const Statement& stmt) {
  if (stmt.num_params() > 0) {
    SendError(SqlError(absl::StatusCode::kInvalidArgument, "42P02",
                       "there is no parameter $1 in a simple query"));
    return false;
  }
  absl::StatusOr<Result> result = Execute(stmt, {});
  if (!result.ok()) {
    SendError(result.status());
    return false;
  }
  if (result->copy_in.has_value()) {
    absl::StatusOr<std::string> tag;
    RETURN_IF_ERROR(RunCopyIn(*result->copy_in, &tag));
    if (!tag.ok()) {
      SendError(tag.status());
      return false;
    }
    EncodeCommandComplete(*tag, &stream_->out());
    return true;
  }
  if (result->returns_rows) {
    ASSIGN_OR_RETURN(std::vector<ColumnDescription> columns, DescribeResult(result->data, {}));
    int next_row = 0;
    ASSIGN_OR_RETURN(bool ok, SendRows(*result, columns, /*describe=*/true, 0, &next_row));
    if (!ok) return false;
  }
  EncodeCommandComplete(result->command_tag, &stream_->out());
  return true;
}

absl::StatusOr<bool> QueryProcessor::SendRows(const Result& result,
                                              const std::vector<ColumnDescription>& columns,
                                              bool describe, int max_rows, int* next_row) {
  WireBuffer& out = stream_->out();
  uint64_t flushes = stream_->flush_count();
  size_t start = out.size();
  if (describe) EncodeRowDescription(columns, &out);
  int end = result.data.rows_size();
  if (max_rows > 0 && end - *next_row > max_rows) end = *next_row + max_rows;
  for (; *next_row < end; ++*next_row) {
    size_t row_start = out.size();
    absl::Status status = EncodeResultRow(result.data.rows(*next_row), columns, &out);
    if (!status.ok()) {
      // Take back what this call wrote, or (when part of it has left
      // already) at least the partial row.
      out.Truncate(stream_->flush_count() == flushes ? start : row_start);
      SendError(status);
      return false;
    }
    RETURN_IF_ERROR(stream_->FlushIfLarge());
  }
  return true;
}

absl::Status QueryProcessor::RunCopyIn(const CopyIn& copy, absl::StatusOr<std::string>* outcome) {
  EncodeCopyInResponse(copy.num_columns, &stream_->out());
  RETURN_IF_ERROR(stream_->Flush());
  while (true) {
    absl::StatusOr<MessageStream::Message> raw = stream_->ReadMessage();
    if (!raw.ok()) {
      session_->CopyFail("the connection ended during COPY");
      return raw.status();
    }
    switch (raw->type) {
      case 'd': {
        absl::Status status = session_->CopyData(raw->body);
        if (!status.ok()) {
          *outcome = status;  // the rest of the copy is ignored by Dispatch
          return absl::OkStatus();
        }
        break;
      }
      case 'c':
        *outcome = session_->CopyDone();
        return absl::OkStatus();
      case 'f': {
        absl::StatusOr<FrontendMessage> fail = DecodeFrontendMessage(raw->type, raw->body);
        absl::string_view reason =
            fail.ok() ? std::get<CopyFailMessage>(*fail).reason : "malformed CopyFail";
        session_->CopyFail(reason);
        *outcome = SqlError(absl::StatusCode::kCancelled, sqlstate::kQueryCanceled,
                            absl::StrCat("COPY from stdin failed: ", reason));
        return absl::OkStatus();
      }
      case 'H':
      case 'S':
        break;  // ignored during COPY, as the protocol says
      default: {
        std::string why = absl::StrFormat("unexpected message type 0x%02x during COPY from stdin",
                                          static_cast<unsigned char>(raw->type));
        session_->CopyFail(why);
        *outcome = ProtocolError(why);
        return absl::OkStatus();
      }
    }
  }
}

}  // namespace shale::gate::pgwire
