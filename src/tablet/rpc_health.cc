// Health handler: StreamHealth sends the tablet's health on every change of
// its state and at least every health_interval, until the client goes away
// or the tablet stops.

#include <algorithm>

#include "tablet/client/grpc_status.h"
#include "tablet/services.h"

namespace shale::tablet {
namespace {

// How often a waiting stream checks for cancellation and shutdown.
constexpr absl::Duration kCancelCheck = absl::Milliseconds(200);

StreamHealthResponse MakeHealth(const TabletContext& ctx, double qps) {
  StateSnapshot snap = ctx.state->Snapshot();
  const topodata::Tablet& r = snap.record;
  StreamHealthResponse h;
  h.mutable_target()->set_keyspace(r.keyspace());
  h.mutable_target()->set_shard(r.shard());
  h.mutable_target()->set_tablet_type(r.type());
  *h.mutable_tablet_alias() = r.alias();
  h.set_serving(snap.serving);
  h.set_primary_term(r.primary_term());
  *h.mutable_primary_term_start_time() = r.primary_term_start_time();
  RealtimeStats* rt = h.mutable_realtime_stats();
  rt->set_health_error(ctx.state->health_error());
  rt->set_qps(qps);
  if (ctx.replication != nullptr) {
    rt->set_replication_lag_seconds(ctx.replication->LagSeconds());
    rt->set_log_position(ctx.replication->position().seq());
  }
  return h;
}

}  // namespace

grpc::Status HealthService::StreamHealth(grpc::ServerContext* context,
                                         const StreamHealthRequest*,
                                         grpc::ServerWriter<StreamHealthResponse>* writer) {
  absl::Status ready = ctx_->CheckReady();
  if (!ready.ok()) return ToGrpcStatus(ready);
  int64_t seen = -1;
  int64_t last_total = ctx_->stats != nullptr ? ctx_->stats->total() : 0;
  absl::Time last_time = absl::Now();
  absl::Time next_send = absl::InfinitePast();
  for (;;) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    if (ctx_->stopping.load(std::memory_order_acquire)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "tablet is shutting down");
    }
    const absl::Time now = absl::Now();
    const int64_t generation = ctx_->state->Snapshot().generation;
    if (generation != seen || now >= next_send) {
      const int64_t total = ctx_->stats != nullptr ? ctx_->stats->total() : 0;
      const double elapsed = absl::ToDoubleSeconds(now - last_time);
      const double qps = elapsed > 0 ? static_cast<double>(total - last_total) / elapsed : 0;
      last_total = total;
      last_time = now;
      if (!writer->Write(MakeHealth(*ctx_, qps))) return grpc::Status::CANCELLED;
      seen = generation;
      next_send = now + ctx_->health_interval;
    }
    const absl::Duration wait = std::min(kCancelCheck, next_send - absl::Now());
    if (wait > absl::ZeroDuration()) ctx_->state->WaitForChange(seen, wait);
  }
}

}  // namespace shale::tablet
