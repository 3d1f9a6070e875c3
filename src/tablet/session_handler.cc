#include "tablet/session_handler.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "tablet/client/grpc_status.h"

namespace shale::tablet {

SessionHandler::~SessionHandler() {
  for (int64_t id : open_txns_) {
    RunQuery(ctx_, QueryKind::kRollback, false, [&] {
      // The target's keyspace and shard are this tablet's own.
      return ctx_->CheckReady().ok() ? ctx_->engine->Rollback(engine::TxnId(id)) : absl::OkStatus();
    }).IgnoreError();
  }
}

bool SessionHandler::IsQuickRead(const SessionRequest& request) {
  if (!request.has_execute() || request.execute().transaction_id() != 0) return false;
  absl::string_view sql = absl::StripLeadingAsciiWhitespace(request.execute().sql());
  return sql.size() > 6 && absl::EqualsIgnoreCase(sql.substr(0, 6), "select") &&
         !absl::ascii_isalnum(sql[6]) && sql[6] != '_';
}

void SessionHandler::Run(const SessionRequest& request, SessionResponse* response) {
  response->Clear();
  response->set_id(request.id());
  absl::Status s = RunCall(request, response);
  if (!s.ok()) {
    response->clear_result();
    *response->mutable_error() = ToQueryError(s);
  }
}

absl::Status SessionHandler::RunCall(const SessionRequest& request, SessionResponse* response) {
  switch (request.call_case()) {
    case SessionRequest::kExecute:
      return RunQuery(ctx_, QueryKind::kExecute, true, [&] {
        return ExecuteCall(ctx_, request.execute(), response->mutable_execute());
      });
    case SessionRequest::kBegin: {
      absl::Status s = RunQuery(ctx_, QueryKind::kBegin, true, [&] {
        return BeginCall(ctx_, request.begin(), response->mutable_begin());
      });
      if (s.ok()) open_txns_.insert(response->begin().transaction_id());
      return s;
    }
    case SessionRequest::kCommit:
      open_txns_.erase(request.commit().transaction_id());
      return RunQuery(ctx_, QueryKind::kCommit, false, [&] {
        return CommitCall(ctx_, request.commit(), response->mutable_commit());
      });
    case SessionRequest::kRollback:
      open_txns_.erase(request.rollback().transaction_id());
      return RunQuery(ctx_, QueryKind::kRollback, false, [&] {
        return RollbackCall(ctx_, request.rollback(), response->mutable_rollback());
      });
    case SessionRequest::CALL_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("session request carries no call");
}

}  // namespace shale::tablet
