// Query service handlers: Execute, StreamExecute, Begin, Commit, Rollback.
// After a planned migration, primary traffic that still reaches this tablet
// (writes that waited in the frozen write queue, late arrivals, calls on
// transactions begun through the tunnel) is forwarded through the tunnel to
// the new primary (leadership.h).

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/query_result.h"
#include "tablet/services.h"

namespace shale::tablet {
namespace {

// Rows per StreamExecute response (and a byte bound, whichever comes first).
constexpr int kStreamBatchRows = 256;
constexpr size_t kStreamBatchBytes = 256 * 1024;

std::string TargetString(absl::string_view keyspace, absl::string_view shard,
                         topodata::TabletType type) {
  return absl::StrCat(keyspace, "/", shard, "@", topodata::TabletType_Name(type));
}

// The tunnel to forward a failed primary call through, or null.
std::shared_ptr<TabletClient> TunnelFor(TabletContext* ctx, const Target& target,
                                        const absl::Status& local) {
  if (local.ok() || ctx->leadership == nullptr || target.tablet_type() != topodata::PRIMARY) {
    return nullptr;
  }
  const bool moved = IsMoved(local);
  const bool not_primary = absl::IsFailedPrecondition(local) &&
                           (engine::SqlState(local) == engine::sqlstate::kReadOnlyTransaction ||
                            absl::StartsWith(local.message(), "wrong target"));
  if (!moved && !not_primary) return nullptr;
  if (ctx->state->type() == topodata::PRIMARY) return nullptr;
  std::shared_ptr<TabletClient> tunnel = ctx->leadership->tunnel();
  if (tunnel != nullptr) ctx->leadership->CountForwarded();
  return tunnel;
}

bool IsForwardedTxn(TabletContext* ctx, int64_t id) {
  if (id == 0) return false;
  absl::MutexLock lock(&ctx->forwarded_mu);
  return ctx->forwarded_txns.contains(id);
}

void ForgetForwardedTxn(TabletContext* ctx, int64_t id) {
  absl::MutexLock lock(&ctx->forwarded_mu);
  ctx->forwarded_txns.erase(id);
}

// Runs a unary Query call on the tunnel and copies its response.
template <typename Req, typename Resp>
absl::Status Forward(TabletClient& tunnel,
                     grpc::Status (Query::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                     const Req& request, Resp* response) {
  ASSIGN_OR_RETURN(*response, tunnel.Call(tunnel.query(), method, request));
  return absl::OkStatus();
}

// A statement outside a transaction (or a Begin) aimed at PRIMARY passes the
// resharding check (serving_primary.h) and holds its ticket while it runs.
absl::StatusOr<ServingPrimary::Ticket> AdmitPrimary(TabletContext* ctx, const Target& target) {
  if (ctx->serving_primary == nullptr) return ServingPrimary::Ticket();
  return ctx->serving_primary->Admit(target);
}

// Commit and Rollback end a transaction this tablet began: a change of type
// since (a migration rolled it back with 40001) must not hide the reason, so
// only keyspace and shard are checked.
Target EndTarget(const StateManager& state, const Target& target) {
  Target t = target;
  t.set_tablet_type(state.type());
  return t;
}

// Relays a StreamExecute from the tunnel.
absl::Status ForwardStream(TabletClient& tunnel, const StreamExecuteRequest& request,
                           grpc::ServerWriter<StreamExecuteResponse>* writer) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  auto reader = tunnel.query().StreamExecute(&context, request);
  StreamExecuteResponse part;
  while (reader->Read(&part)) {
    if (!writer->Write(part)) {
      context.TryCancel();
      reader->Finish().ok();
      return absl::CancelledError("client went away");
    }
  }
  return FromGrpcStatus(reader->Finish());
}

}  // namespace

absl::Status TabletContext::CheckReady() const {
  if (stopping.load(std::memory_order_acquire)) {
    return absl::UnavailableError("tablet is shutting down");
  }
  if (!ready.load(std::memory_order_acquire)) return absl::UnavailableError("tablet is starting");
  return absl::OkStatus();
}

absl::Status CheckTarget(const StateManager& state, const Target& target) {
  StateSnapshot s = state.Snapshot();
  const topodata::Tablet& r = s.record;
  if (target.keyspace() != r.keyspace() || target.shard() != r.shard() ||
      target.tablet_type() != r.type()) {
    return absl::FailedPreconditionError(
        absl::StrCat("wrong target: the call is for ",
                     TargetString(target.keyspace(), target.shard(), target.tablet_type()),
                     " but tablet ", topo::TabletAlias::FromProto(r.alias()).ToString(), " is ",
                     TargetString(r.keyspace(), r.shard(), r.type())));
  }
  if (!s.serving) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", topo::TabletAlias::FromProto(r.alias()).ToString(),
                     " is not serving (type ", topodata::TabletType_Name(r.type()), ")"));
  }
  return absl::OkStatus();
}

absl::Status RunQuery(TabletContext* ctx, QueryKind kind, bool admit,
                      absl::FunctionRef<absl::Status()> fn) {
  const absl::Time start = absl::Now();
  absl::Status s = ctx->CheckReady();
  if (s.ok()) {
    if (admit) {
      absl::StatusOr<Admission::Ticket> ticket = ctx->admission->Admit();
      s = ticket.ok() ? fn() : ticket.status();
    } else {
      s = fn();
    }
  }
  if (ctx->stats != nullptr) ctx->stats->Record(kind, absl::Now() - start, s.code());
  return s;
}

grpc::Status RunQueryCall(TabletContext* ctx, QueryKind kind, bool admit,
                          absl::FunctionRef<absl::Status()> fn) {
  return ToGrpcStatus(RunQuery(ctx, kind, admit, fn));
}

absl::Status ExecuteCall(TabletContext* ctx, const ExecuteRequest& request,
                         ExecuteResponse* response) {
  if (IsForwardedTxn(ctx, request.transaction_id())) {
    std::shared_ptr<TabletClient> tunnel = ctx->leadership->tunnel();
    if (tunnel != nullptr) return Forward(*tunnel, &Query::Stub::Execute, request, response);
  }
  absl::Status local = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckTarget(*ctx->state, request.target()));
    ServingPrimary::Ticket primary;
    if (request.transaction_id() == 0) {
      ASSIGN_OR_RETURN(primary, AdmitPrimary(ctx, request.target()));
    }
    ASSIGN_OR_RETURN(std::vector<engine::Value> binds, FromProtoValues(request.binds()));
    absl::StatusOr<engine::ResultSet> rs =
        request.transaction_id() != 0
            ? ctx->engine->Execute(engine::TxnId(request.transaction_id()), request.sql(), binds)
            : ctx->engine->Execute(request.sql(), binds);
    RETURN_IF_ERROR(rs.status());
    *response->mutable_result() = ToProtoResult(*rs);
    return absl::OkStatus();
  }();
  if (request.transaction_id() == 0) {
    if (auto tunnel = TunnelFor(ctx, request.target(), local)) {
      return Forward(*tunnel, &Query::Stub::Execute, request, response);
    }
  }
  return local;
}

grpc::Status QueryService::Execute(grpc::ServerContext*, const ExecuteRequest* request,
                                   ExecuteResponse* response) {
  return RunQueryCall(ctx_, QueryKind::kExecute, true,
                      [&] { return ExecuteCall(ctx_, *request, response); });
}

grpc::Status QueryService::StreamExecute(grpc::ServerContext* context,
                                         const StreamExecuteRequest* request,
                                         grpc::ServerWriter<StreamExecuteResponse>* writer) {
  return RunQueryCall(ctx_, QueryKind::kStreamExecute, true, [&]() -> absl::Status {
    if (IsForwardedTxn(ctx_, request->transaction_id())) {
      std::shared_ptr<TabletClient> tunnel = ctx_->leadership->tunnel();
      if (tunnel != nullptr) return ForwardStream(*tunnel, *request, writer);
    }
    if (absl::Status target = CheckTarget(*ctx_->state, request->target()); !target.ok()) {
      auto tunnel =
          request->transaction_id() == 0 ? TunnelFor(ctx_, request->target(), target) : nullptr;
      if (tunnel != nullptr) return ForwardStream(*tunnel, *request, writer);
      return target;
    }
    ServingPrimary::Ticket primary;
    if (request->transaction_id() == 0) {
      ASSIGN_OR_RETURN(primary, AdmitPrimary(ctx_, request->target()));
    }
    ASSIGN_OR_RETURN(std::vector<engine::Value> binds, FromProtoValues(request->binds()));
    StreamExecuteResponse batch;
    bool fields_sent = false;
    size_t batch_bytes = 0;
    auto flush = [&]() -> absl::Status {
      if (!writer->Write(batch)) return absl::CancelledError("client went away");
      batch.Clear();
      batch_bytes = 0;
      return absl::OkStatus();
    };
    auto on_row = [&](absl::Span<const engine::Column> columns,
                      absl::Span<const engine::Value> row) -> absl::Status {
      if (context->IsCancelled()) return absl::CancelledError("client cancelled the stream");
      if (!fields_sent) {
        AddFields(columns, batch.mutable_result());
        fields_sent = true;
      }
      AddRow(row, batch.mutable_result());
      for (const engine::Value& v : row) {
        batch_bytes += 8 + (v.type() == engine::Value::Type::kText   ? v.text().size()
                            : v.type() == engine::Value::Type::kBlob ? v.blob().size()
                                                                     : 0);
      }
      if (batch.result().rows_size() >= kStreamBatchRows || batch_bytes >= kStreamBatchBytes) {
        return flush();
      }
      return absl::OkStatus();
    };
    absl::StatusOr<engine::ResultSet> rs =
        request->transaction_id() != 0
            ? ctx_->engine->ExecuteStream(engine::TxnId(request->transaction_id()), request->sql(),
                                          binds, on_row)
            : ctx_->engine->ExecuteStream(request->sql(), binds, on_row);
    if (!rs.ok() && !fields_sent && request->transaction_id() == 0) {
      if (auto tunnel = TunnelFor(ctx_, request->target(), rs.status())) {
        return ForwardStream(*tunnel, *request, writer);
      }
    }
    RETURN_IF_ERROR(rs.status());
    if (!fields_sent) AddFields(rs->columns, batch.mutable_result());
    batch.mutable_result()->set_rows_affected(rs->rows_affected);
    batch.mutable_result()->set_last_insert_id(rs->last_insert_rowid);
    return flush();
  });
}

absl::Status BeginCall(TabletContext* ctx, const BeginRequest& request, BeginResponse* response) {
  absl::Status local = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckTarget(*ctx->state, request.target()));
    ASSIGN_OR_RETURN(ServingPrimary::Ticket primary, AdmitPrimary(ctx, request.target()));
    ASSIGN_OR_RETURN(engine::TxnId id,
                     ctx->engine->Begin(request.read_only() ? engine::TxnMode::kReadOnly
                                                            : engine::TxnMode::kReadWrite));
    response->set_transaction_id(id.value());
    return absl::OkStatus();
  }();
  if (auto tunnel = TunnelFor(ctx, request.target(), local)) {
    RETURN_IF_ERROR(Forward(*tunnel, &Query::Stub::Begin, request, response));
    absl::MutexLock lock(&ctx->forwarded_mu);
    ctx->forwarded_txns.insert(response->transaction_id());
    return absl::OkStatus();
  }
  return local;
}

absl::Status CommitCall(TabletContext* ctx, const CommitRequest& request,
                        CommitResponse* response) {
  if (IsForwardedTxn(ctx, request.transaction_id())) {
    ForgetForwardedTxn(ctx, request.transaction_id());
    std::shared_ptr<TabletClient> tunnel = ctx->leadership->tunnel();
    if (tunnel != nullptr) return Forward(*tunnel, &Query::Stub::Commit, request, response);
  }
  RETURN_IF_ERROR(CheckTarget(*ctx->state, EndTarget(*ctx->state, request.target())));
  return ctx->engine->Commit(engine::TxnId(request.transaction_id()));
}

absl::Status RollbackCall(TabletContext* ctx, const RollbackRequest& request,
                          RollbackResponse* response) {
  if (IsForwardedTxn(ctx, request.transaction_id())) {
    ForgetForwardedTxn(ctx, request.transaction_id());
    std::shared_ptr<TabletClient> tunnel = ctx->leadership->tunnel();
    if (tunnel != nullptr) return Forward(*tunnel, &Query::Stub::Rollback, request, response);
  }
  RETURN_IF_ERROR(CheckTarget(*ctx->state, EndTarget(*ctx->state, request.target())));
  return ctx->engine->Rollback(engine::TxnId(request.transaction_id()));
}

grpc::Status QueryService::Begin(grpc::ServerContext*, const BeginRequest* request,
                                 BeginResponse* response) {
  return RunQueryCall(ctx_, QueryKind::kBegin, true,
                      [&] { return BeginCall(ctx_, *request, response); });
}

grpc::Status QueryService::Commit(grpc::ServerContext*, const CommitRequest* request,
                                  CommitResponse* response) {
  return RunQueryCall(ctx_, QueryKind::kCommit, false,
                      [&] { return CommitCall(ctx_, *request, response); });
}

grpc::Status QueryService::Rollback(grpc::ServerContext*, const RollbackRequest* request,
                                    RollbackResponse* response) {
  return RunQueryCall(ctx_, QueryKind::kRollback, false,
                      [&] { return RollbackCall(ctx_, *request, response); });
}

}  // namespace shale::tablet
