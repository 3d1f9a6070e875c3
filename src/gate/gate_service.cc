#include "gate/gate_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "changes/subscription.h"
#include "gate/executor.h"
#include "gate/gate_session.h"
#include "gate/sql/params.h"
#include "gate/sql/parser.h"
#include "tablet/client/grpc_status.h"

namespace shale::gate {
namespace {

// The shards an explicit-target request names, in key-range order.
absl::StatusOr<std::vector<std::string>> ExplicitShards(const ExecuteRequest& request,
                                                        const KeyspaceSchema& schema,
                                                        topodata::TabletType type) {
  ASSIGN_OR_RETURN(std::vector<ShardRef> shards, schema.Shards(type));
  std::set<std::string> wanted;
  for (const std::string& s : request.shards()) {
    bool known = false;
    for (const ShardRef& r : shards) known = known || r.name == s;
    if (!known) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                      absl::StrCat("keyspace ", schema.keyspace(), " has no shard ", s));
    }
    wanted.insert(s);
  }
  for (uint64_t id : request.keyspace_ids()) {
    ASSIGN_OR_RETURN(std::string shard, schema.ShardFor(key::KeyspaceId{id}, type));
    wanted.insert(shard);
  }
  for (const topodata::KeyRange& kr : request.key_ranges()) {
    const key::KeyRange range = key::KeyRange::FromProto(kr);
    for (const ShardRef& r : shards) {
      if (r.range.Overlaps(range)) wanted.insert(r.name);
    }
  }
  std::vector<std::string> out;
  for (const ShardRef& r : shards) {
    if (wanted.contains(r.name)) out.push_back(r.name);
  }
  if (out.empty()) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidParameterValue,
                    absl::StrCat("the targets name no shard of keyspace ", schema.keyspace(),
                                 " (an empty or inverted key range?)"));
  }
  return out;
}

absl::Status RunExplicit(GateContext* ctx, const SessionTarget& target,
                         const ExecuteRequest& request, ExecuteResponse* response) {
  ASSIGN_OR_RETURN(sql::Statement stmt, sql::Parse(request.sql()));
  const bool read =
      stmt.kind == sql::StatementKind::kSelect || stmt.kind == sql::StatementKind::kExplain;
  ASSIGN_OR_RETURN(KeyspaceSchema schema, ctx->schemas->Get(target.keyspace));
  ASSIGN_OR_RETURN(std::vector<std::string> shards,
                   ExplicitShards(request, schema, target.tablet_type));
  std::vector<ShardQuery> queries;
  const std::string text = sql::RewriteParams(request.sql());
  for (const std::string& s : shards) queries.push_back({s, text, stmt.max_param});
  std::vector<tablet::Value> binds(request.binds().begin(), request.binds().end());
  Executor executor(ctx, target);
  ASSIGN_OR_RETURN(std::vector<tablet::QueryResult> results, executor.Run(queries, !read, binds));
  tablet::QueryResult* out = response->mutable_result();
  for (tablet::QueryResult& r : results) {
    if (out->fields_size() == 0) *out->mutable_fields() = r.fields();
    for (auto& row : *r.mutable_rows()) *out->add_rows() = std::move(row);
    out->set_rows_affected(out->rows_affected() + r.rows_affected());
  }
  for (const std::string& s : shards) response->add_shards(s);
  response->set_command_tag(read ? absl::StrCat("SELECT ", out->rows_size())
                                 : absl::StrCat("OK ", out->rows_affected()));
  return absl::OkStatus();
}

}  // namespace

grpc::Status GateService::Execute(grpc::ServerContext*, const ExecuteRequest* request,
                                  ExecuteResponse* response) {
  SessionTarget target;
  target.keyspace = request->keyspace();
  target.tablet_type =
      request->tablet_type() == topodata::UNKNOWN ? topodata::PRIMARY : request->tablet_type();
  const bool explicit_targets = request->shards_size() > 0 || request->keyspace_ids_size() > 0 ||
                                request->key_ranges_size() > 0;
  absl::Status s;
  if (explicit_targets) {
    s = RunExplicit(ctx_, target, *request, response);
  } else {
    GateSession session(ctx_, target, "grpc");
    std::vector<tablet::Value> binds(request->binds().begin(), request->binds().end());
    absl::StatusOr<pgwire::Result> r = session.ExecuteText(request->sql(), binds);
    if (r.ok()) {
      *response->mutable_result() = std::move(r->data);
      response->set_command_tag(r->command_tag);
    }
    s = r.status();
  }
  return tablet::ToGrpcStatus(s);
}

grpc::Status GateService::Subscribe(grpc::ServerContext* context, const SubscribeRequest* request,
                                    grpc::ServerWriter<SubscribeResponse>* writer) {
  changes::SubscriptionOptions o;
  o.keyspace = request->keyspace();
  o.tables.assign(request->tables().begin(), request->tables().end());
  o.from = request->from();
  o.tablet_type = request->tablet_type();
  o.cell = ctx_->cell;
  o.heartbeat_ms = request->heartbeat_ms();
  absl::StatusOr<std::unique_ptr<changes::Subscription>> sub =
      changes::Subscription::Start(ctx_->ts, o);
  if (!sub.ok()) return tablet::ToGrpcStatus(sub.status());
  while (!context->IsCancelled()) {
    absl::StatusOr<std::vector<changes::MergedEvent>> events =
        (*sub)->Next(512, absl::Milliseconds(200));
    if (!events.ok()) return tablet::ToGrpcStatus(events.status());
    if (events->empty()) continue;
    SubscribeResponse response;
    for (changes::MergedEvent& e : *events) {
      SubscribeEvent* out = response.add_events();
      out->set_shard(std::move(e.shard));
      out->set_position(std::move(e.position));
      *out->mutable_event() = std::move(e.event);
    }
    if (!writer->Write(response)) break;  // the client went away
  }
  return grpc::Status::OK;
}

}  // namespace shale::gate
