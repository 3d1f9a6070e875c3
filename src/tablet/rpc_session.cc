// Query.Session: the gateway's long-lived query stream (DESIGN §5). Each
// request is one Execute, Begin, Commit or Rollback, run exactly as the unary
// RPC would (rpc_query.cc) and answered in order on the stream. Transactions
// begun on a stream and still open when it ends (the gateway went away) are
// rolled back at once rather than left to the idle reaper.

#include "absl/container/flat_hash_set.h"
#include "tablet/client/grpc_status.h"
#include "tablet/services.h"

namespace shale::tablet {
namespace {

// Runs one session request into response; returns its status.
absl::Status RunSessionCall(TabletContext* ctx, const SessionRequest& request,
                            SessionResponse* response, absl::flat_hash_set<int64_t>* open_txns) {
  switch (request.call_case()) {
    case SessionRequest::kExecute:
      return RunQuery(ctx, QueryKind::kExecute, true, [&] {
        return ExecuteCall(ctx, request.execute(), response->mutable_execute());
      });
    case SessionRequest::kBegin: {
      absl::Status s = RunQuery(ctx, QueryKind::kBegin, true, [&] {
        return BeginCall(ctx, request.begin(), response->mutable_begin());
      });
      if (s.ok()) open_txns->insert(response->begin().transaction_id());
      return s;
    }
    case SessionRequest::kCommit:
      open_txns->erase(request.commit().transaction_id());
      return RunQuery(ctx, QueryKind::kCommit, false, [&] {
        return CommitCall(ctx, request.commit(), response->mutable_commit());
      });
    case SessionRequest::kRollback:
      open_txns->erase(request.rollback().transaction_id());
      return RunQuery(ctx, QueryKind::kRollback, false, [&] {
        return RollbackCall(ctx, request.rollback(), response->mutable_rollback());
      });
    case SessionRequest::CALL_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("session request carries no call");
}

}  // namespace

grpc::Status QueryService::Session(
    grpc::ServerContext*, grpc::ServerReaderWriter<SessionResponse, SessionRequest>* stream) {
  absl::flat_hash_set<int64_t> open_txns;
  SessionRequest request;
  SessionResponse response;
  while (stream->Read(&request)) {
    response.Clear();
    response.set_id(request.id());
    absl::Status s = RunSessionCall(ctx_, request, &response, &open_txns);
    if (!s.ok()) {
      response.clear_result();
      *response.mutable_error() = ToQueryError(s);
    }
    if (!stream->Write(response)) break;
  }
  for (int64_t id : open_txns) {
    RunQuery(ctx_, QueryKind::kRollback, false, [&] {
      // The target's keyspace and shard are this tablet's own.
      return ctx_->CheckReady().ok() ? ctx_->engine->Rollback(engine::TxnId(id)) : absl::OkStatus();
    }).IgnoreError();
  }
  return grpc::Status::OK;
}

}  // namespace shale::tablet
