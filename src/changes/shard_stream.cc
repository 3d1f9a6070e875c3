#include "changes/shard_stream.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/grpc_tls/credentials.h"
#include "base/status_macros.h"
#include "changes/keyspace_position.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/client/tablet_client.h"
#include "tablet_service.grpc.pb.h"

namespace shale::changes {
namespace {

// A channel that notices a dead or frozen tablet within seconds even while
// the stream is idle or paused by flow control (HTTP/2 keepalive pings).
std::shared_ptr<grpc::Channel> StreamChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc_tls::NewChannel(address, args);
}

std::string Describe(const ShardStreamOptions& o) {
  return absl::StrCat(o.keyspace, "/", o.shard, " (", topodata::TabletType_Name(o.tablet_type),
                      ")");
}

}  // namespace

bool IsPositionError(const absl::Status& status) {
  // The tablet's log matching (tablet/replication/log_match.h): purged is
  // OutOfRange, diverged a FailedPrecondition saying so (FailedPrecondition
  // alone is "not primary", which passes).
  return absl::IsOutOfRange(status) || absl::IsDataLoss(status) ||
         absl::IsInvalidArgument(status) ||
         (absl::IsFailedPrecondition(status) && absl::StrContains(status.message(), "diverged"));
}

absl::StatusOr<tablet::ChangePosition> CurrentShardPosition(topo::Server& ts,
                                                            const ShardStreamOptions& options) {
  ASSIGN_OR_RETURN(std::vector<TabletTarget> targets,
                   ResolveShardTablets(ts, options.keyspace, options.shard, options.tablet_type));
  absl::Status last;
  for (const TabletTarget& t : targets) {
    std::unique_ptr<tablet::TabletClient> c = tablet::TabletClient::Connect(t.address);
    absl::StatusOr<tablet::ReplicationStatusResponse> r =
        c->Call(c->replication(), &tablet::Replication::Stub::ReplicationStatus,
                tablet::ReplicationStatusRequest(), absl::Seconds(5));
    if (r.ok()) {
      tablet::ChangePosition p;
      p.set_seq(r->status().position().seq());
      p.set_term(r->status().position().term());
      p.set_row(0);
      return p;
    }
    last = absl::UnavailableError(absl::StrCat("shard ", Describe(options), ": tablet ",
                                               t.alias.ToString(), " (", t.address,
                                               "): ", r.status().message()));
  }
  return last;
}

ShardStream::ShardStream(topo::Server* ts, ShardStreamOptions options, tablet::ChangePosition from,
                         Sink sink)
    : ts_(ts), options_(std::move(options)), sink_(std::move(sink)), last_(std::move(from)) {}

absl::Status ShardStream::Run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  std::optional<topo::TabletAlias> moved_to;
  int position_errors = 0;
  size_t next_candidate = 0;
  while (!cancelled()) {
    std::vector<TabletTarget> targets;
    if (moved_to.has_value()) {
      absl::StatusOr<TabletTarget> t = ResolveTablet(*ts_, *moved_to);
      if (t.ok()) targets.push_back(*std::move(t));
      moved_to.reset();
    }
    if (targets.empty()) {
      absl::StatusOr<std::vector<TabletTarget>> r =
          ResolveShardTablets(*ts_, options_.keyspace, options_.shard, options_.tablet_type);
      if (absl::IsNotFound(r.status())) {
        return absl::NotFoundError(absl::StrCat(r.status().message(), "; the subscription of ",
                                                Describe(options_), " ends at position ",
                                                FormatChangePosition(position())));
      }
      if (!r.ok()) {
        spdlog::info("changes: {}: {}; retrying", Describe(options_), r.status().ToString());
        Pause(backoff.Next());
        continue;
      }
      targets = *std::move(r);
    }
    const TabletTarget target = targets[next_candidate++ % targets.size()];
    bool received = false;
    absl::Status s = StreamFrom(target, &moved_to, &received);
    if (cancelled()) break;
    if (received) {
      backoff.Reset();
      position_errors = 0;
    }
    if (IsPositionError(s)) {
      const int limit = std::max<int>(options_.max_position_errors, targets.size());
      if (++position_errors >= limit) {
        return absl::Status(s.code(), absl::StrCat("shard ", Describe(options_), ": position ",
                                                   FormatChangePosition(position()), " refused by ",
                                                   position_errors, " attempts (last tablet ",
                                                   target.alias.ToString(), "): ", s.message()));
      }
    }
    spdlog::info("changes: {}: stream from {} ({}) ended: {}; reconnecting from {}",
                 Describe(options_), target.alias.ToString(), target.address,
                 s.ok() ? std::string("end of stream") : s.ToString(),
                 FormatChangePosition(position()));
    // A hand-over (moved_to) or a received stream reconnects at once; else back off.
    if (!moved_to.has_value() || !received) Pause(backoff.Next());
  }
  return absl::OkStatus();
}

absl::Status ShardStream::StreamFrom(const TabletTarget& target,
                                     std::optional<topo::TabletAlias>* moved_to, bool* received) {
  std::unique_ptr<tablet::Changes::Stub> stub =
      tablet::Changes::NewStub(StreamChannel(target.address));
  grpc::ClientContext context;
  tablet::SubscribeRequest request;
  for (const std::string& t : options_.tables) request.add_tables(t);
  *request.mutable_from() = position();
  request.set_heartbeat_ms(options_.heartbeat_ms);
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::OkStatus();
    call_ = &context;
    ++connects_;
  }
  std::unique_ptr<grpc::ClientReader<tablet::SubscribeResponse>> reader =
      stub->Subscribe(&context, request);
  tablet::SubscribeResponse response;
  bool sink_open = true;
  while (sink_open && reader->Read(&response)) {
    *received = true;
    if (response.has_moved_to()) {
      *moved_to = topo::TabletAlias::FromProto(response.moved_to());
      spdlog::info("changes: {}: {} handed the subscription over to {}", Describe(options_),
                   target.alias.ToString(), moved_to->value().ToString());
    }
    std::vector<tablet::ChangeEvent> fresh = Fresh(response.mutable_events());
    if (!fresh.empty()) sink_open = sink_(std::move(fresh));
  }
  if (!sink_open) context.TryCancel();
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
    if (!sink_open) cancelled_ = true;
  }
  if (!sink_open) return absl::OkStatus();
  if (status.ok()) return absl::OkStatus();
  return tablet::FromGrpcStatus(status);
}

std::vector<tablet::ChangeEvent> ShardStream::Fresh(
    google::protobuf::RepeatedPtrField<tablet::ChangeEvent>* in) {
  std::vector<tablet::ChangeEvent> out;
  absl::MutexLock lock(&mu_);
  for (tablet::ChangeEvent& e : *in) {
    const bool heartbeat = e.op() == tablet::HEARTBEAT_EVENT;
    // A heartbeat may repeat the position (nothing new); a change never.
    const bool fresh =
        heartbeat ? !PositionAfter(last_, e.position()) : PositionAfter(e.position(), last_);
    if (!fresh) continue;
    last_ = e.position();
    out.push_back(std::move(e));
  }
  return out;
}

void ShardStream::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (call_ != nullptr) call_->TryCancel();
}

bool ShardStream::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void ShardStream::Pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancelled_), d);
}

tablet::ChangePosition ShardStream::position() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

int64_t ShardStream::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

}  // namespace shale::changes
