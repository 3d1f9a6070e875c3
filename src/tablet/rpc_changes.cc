// Changes.Subscribe (issue 9; docs/replication.md "Change subscriptions"): the
// shard's committed row changes, decoded from this tablet's log.
//
// One Subscription per call, on the call's gRPC thread:
//  1. Start: from_now is after the newest visible entry; a position is
//     checked against this log (CheckLogMatch: purged → OUT_OF_RANGE, another
//     term → FAILED_PRECONDITION "diverged"); a replica waits a while for a
//     position it has not applied yet. The first response is a heartbeat at
//     the start position, sent at once.
//  2. Stream: entries after the position, in batches, up to the newest
//     VISIBLE entry: on a semi-sync primary, the highest one a semi-sync
//     replica acknowledged (no event can vanish in a failover); elsewhere
//     every durable entry. Idle: a heartbeat every heartbeat_ms.
//  3. Handover: past a CHANGE_CONFIG naming another tablet W, when this
//     tablet was the primary and handed its role over, the subscription moves
//     to W from that entry's position: one response with moved_to = W, then
//     W's responses relayed. If W cannot be reached, the stream goes on from
//     this tablet's own log (it is W's replica now).
//
// The log is read with ReadEntries, which runs on a reader connection and
// returns whole rows: no read transaction is open while the thread blocks in
// Write for a slow subscriber, so it never holds up commits or checkpoints.

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/client/tablet_client.h"
#include "tablet/replication/change_decoder.h"
#include "tablet/replication/log_match.h"
#include "tablet/replication/log_store.h"
#include "tablet/services.h"
#include "topo/tablet_alias.h"

namespace shale::tablet {
namespace {

constexpr int kBatchEntries = 256;
constexpr int64_t kBatchBytes = 4 << 20;
constexpr int kBatchEvents = 512;  // events per response
// How often a waiting subscription looks at cancellation, shutdown and role.
constexpr absl::Duration kPoll = absl::Milliseconds(100);
// How long a replica waits for a position it has not applied yet.
constexpr absl::Duration kCatchUpWait = absl::Seconds(10);
// How long, past a CHANGE_CONFIG naming another writer, a primary waits to
// see its role move (the migration switches right after the acknowledgement).
constexpr absl::Duration kHandoverWait = absl::Seconds(10);

std::string PositionText(const ChangePosition& p) {
  return absl::StrCat("seq ", p.seq(), " term ", p.term(), " row ", p.row());
}

ChangePosition MakePosition(int64_t seq, int64_t term, int row) {
  ChangePosition p;
  p.set_seq(seq);
  p.set_term(term);
  p.set_row(row);
  return p;
}

class Subscription {
 public:
  Subscription(TabletContext* ctx, grpc::ServerContext* context, const SubscribeRequest& request,
               grpc::ServerWriter<SubscribeResponse>* writer)
      : ctx_(ctx),
        context_(context),
        request_(request),
        writer_(writer),
        heartbeat_(absl::Milliseconds(request.heartbeat_ms() > 0 ? request.heartbeat_ms() : 1000)),
        decoder_(replication::EngineColumns(*ctx->engine),
                 {request.tables().begin(), request.tables().end()}) {}

  absl::Status Run();

 private:
  // Sets pos_, read_ and the rows to skip. Errors: see the file comment.
  absl::Status Start();
  // The newest entry a subscriber may see now.
  int64_t Visible() const;
  // Waits until an entry past read_ is visible, up to deadline.
  void WaitVisible(absl::Time deadline) const;
  // Cancelled when the client left, Unavailable when the tablet stops.
  absl::Status Ended() const;
  // Sends events (in responses of up to kBatchEvents); moves pos_.
  absl::Status Send(std::vector<ChangeEvent> events);
  absl::Status SendHeartbeat();
  // Reads and sends the next batch. *moved: handed over (the status is the
  // relay's end).
  absl::Status Step(bool* moved);
  // Past the CHANGE_CONFIG `entry` naming another writer: hands the
  // subscription over if this tablet gave its primary role away. Returns
  // false (go on here) if it did not or W cannot be reached.
  bool MaybeHandOver(const LogEntry& entry, const ChangeConfig& cc, absl::Status* status);
  // Relays W's stream; returns how it ended.
  absl::Status Relay(const topodata::TabletAlias& to, TabletClient& client,
                     const ChangePosition& from, bool* reached);
  absl::Status WithPosition(const absl::Status& s) const {
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), " (resume from ", PositionText(pos_), ")"));
  }

  TabletContext* const ctx_;
  grpc::ServerContext* const context_;
  const SubscribeRequest& request_;
  grpc::ServerWriter<SubscribeResponse>* const writer_;
  const absl::Duration heartbeat_;
  replication::ChangeDecoder decoder_;

  ChangePosition pos_;    // delivered up to here
  int64_t read_ = 0;      // entries up to this seq are decoded
  int64_t skip_seq_ = 0;  // resuming mid-entry: skip skip_rows_ events of this entry
  int skip_rows_ = 0;
  bool served_as_primary_ = false;
  absl::Time last_send_ = absl::Now();
};

int64_t Subscription::Visible() const {
  replication::ReplicationManager& r = *ctx_->replication;
  const int64_t durable = r.position().seq();
  if (r.is_primary() && r.log_writer()->semi_sync()) {
    return std::min(durable, r.acks().semi_sync_acked());
  }
  return durable;
}

void Subscription::WaitVisible(absl::Time deadline) const {
  replication::ReplicationManager& r = *ctx_->replication;
  if (r.is_primary() && r.log_writer()->semi_sync()) {
    r.acks().WaitSemiSyncPast(read_, deadline);
  } else {
    r.position().WaitPast(read_, deadline);
  }
}

absl::Status Subscription::Ended() const {
  if (context_->IsCancelled()) return absl::CancelledError("the subscriber went away");
  if (ctx_->stopping.load()) return absl::UnavailableError("the tablet is shutting down");
  return absl::OkStatus();
}

absl::Status Subscription::Start() {
  engine::Engine& engine = *ctx_->engine;
  ASSIGN_OR_RETURN(replication::LogState state, replication::ReadLogState(engine));
  if (request_.from_now()) {
    const int64_t seq = Visible();
    int64_t term = 0;
    if (seq > 0) {
      ASSIGN_OR_RETURN(LogEntry e, replication::ReadEntry(engine, seq));
      term = e.term();
    }
    pos_ = MakePosition(seq, term, 0);
    read_ = seq;
    return absl::OkStatus();
  }
  const ChangePosition& from = request_.from();
  if (from.seq() < 0 || from.row() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid change position ", PositionText(from)));
  }
  if (from.seq() == 0) {
    if (state.first_seq > 1) {
      return absl::OutOfRangeError(
          absl::StrCat("the log no longer starts at entry 1 (oldest retained: ", state.first_seq,
                       "): subscribe from a newer position or from now"));
    }
    pos_ = ChangePosition();
    return absl::OkStatus();
  }
  if (from.seq() > state.position.seq()) {
    if (ctx_->replication->is_primary() ||
        !ctx_->replication->position().WaitFor(from.seq(), absl::Now() + kCatchUpWait)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "diverged: change position ", PositionText(from), " is ahead of this tablet's newest ",
          "log entry ", ctx_->replication->position().seq()));
    }
    ASSIGN_OR_RETURN(state, replication::ReadLogState(engine));
  }
  RETURN_IF_ERROR(replication::CheckLogMatch(engine, state, from.seq(), from.term(),
                                             "the subscriber",
                                             "subscribe from a newer position or from now"));
  pos_ = from;
  if (from.row() > 0) {
    read_ = from.seq() - 1;
    skip_seq_ = from.seq();
    skip_rows_ = from.row();
  } else {
    read_ = from.seq();
  }
  return absl::OkStatus();
}

absl::Status Subscription::Send(std::vector<ChangeEvent> events) {
  for (size_t i = 0; i < events.size(); i += kBatchEvents) {
    SubscribeResponse response;
    const size_t end = std::min(events.size(), i + kBatchEvents);
    for (size_t j = i; j < end; ++j) *response.add_events() = std::move(events[j]);
    if (!writer_->Write(response)) return absl::CancelledError("the subscriber went away");
    pos_ = response.events(response.events_size() - 1).position();
    last_send_ = absl::Now();
  }
  return absl::OkStatus();
}

absl::Status Subscription::SendHeartbeat() {
  ChangeEvent hb;
  hb.set_op(HEARTBEAT_EVENT);
  *hb.mutable_position() = pos_;
  std::vector<ChangeEvent> one;
  one.push_back(std::move(hb));
  return Send(std::move(one));
}

absl::Status Subscription::Step(bool* moved) {
  const int64_t visible = Visible();
  if (visible <= read_) {
    WaitVisible(std::min(last_send_ + heartbeat_, absl::Now() + kPoll));
    if (Visible() <= read_ && absl::Now() >= last_send_ + heartbeat_) return SendHeartbeat();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<LogEntry> entries,
                   replication::ReadEntries(*ctx_->engine, read_, kBatchEntries, kBatchBytes));
  if (entries.empty() || entries.front().seq() != read_ + 1) {
    return absl::OutOfRangeError(
        absl::StrCat("log entry ", read_ + 1, " was purged before it was sent"));
  }
  for (const LogEntry& e : entries) {
    if (e.seq() > visible) break;
    RETURN_IF_ERROR(decoder_.Add(e, e.seq() == skip_seq_ ? skip_rows_ : 0));
    read_ = e.seq();
    if (e.kind() != CHANGE_CONFIG) continue;
    ChangeConfig cc;
    if (!cc.ParseFromString(e.payload())) {
      return absl::DataLossError(
          absl::StrCat("CHANGE_CONFIG at log entry ", e.seq(), " does not parse"));
    }
    if (topo::TabletAlias::FromProto(cc.writer()) ==
        topo::TabletAlias::FromProto(ctx_->state->Snapshot().record.alias())) {
      continue;
    }
    // Everything up to the CHANGE_CONFIG goes out first, so W starts after it.
    RETURN_IF_ERROR(Send(decoder_.Take()));
    absl::Status relayed;
    if (MaybeHandOver(e, cc, &relayed)) {
      *moved = true;
      return relayed;
    }
  }
  return Send(decoder_.Take());
}

bool Subscription::MaybeHandOver(const LogEntry& entry, const ChangeConfig& cc,
                                 absl::Status* status) {
  if (!served_as_primary_ && ctx_->leadership->tunnel() == nullptr) return false;
  // An older CHANGE_CONFIG (a later term is known here): the handover waits
  // for the newest one, which names the current writer.
  if (cc.term() < ctx_->replication->known_term()) return false;
  // A migration switches this tablet to REPLICA right after W acknowledged
  // the CHANGE_CONFIG; wait for that (or give up and go on here).
  const absl::Time deadline = absl::Now() + kHandoverWait;
  int64_t generation = ctx_->state->Snapshot().generation;
  while (ctx_->state->type() == topodata::PRIMARY && absl::Now() < deadline && Ended().ok()) {
    generation = ctx_->state->WaitForChange(generation, kPoll);
  }
  if (ctx_->state->type() == topodata::PRIMARY) return false;
  const topo::TabletAlias to = topo::TabletAlias::FromProto(cc.writer());
  absl::StatusOr<std::unique_ptr<TabletClient>> client = TabletClient::ForTablet(*ctx_->ts, to);
  if (!client.ok()) {
    spdlog::warn(
        "change subscription: cannot reach the new primary {} ({}); going on from "
        "this tablet's log",
        to.ToString(), client.status().ToString());
    return false;
  }
  bool reached = false;
  *status = Relay(cc.writer(), **client, MakePosition(entry.seq(), entry.term(), 0), &reached);
  if (!reached) {
    spdlog::warn(
        "change subscription: the new primary {} did not take it over ({}); going on from this "
        "tablet's log",
        to.ToString(), status->ToString());
    *status = absl::OkStatus();
  }
  return reached;
}

absl::Status Subscription::Relay(const topodata::TabletAlias& to, TabletClient& client,
                                 const ChangePosition& from, bool* reached) {
  // The client call is cancelled with this one (and inherits its deadline).
  std::unique_ptr<grpc::ClientContext> call = grpc::ClientContext::FromServerContext(*context_);
  SubscribeRequest request = request_;
  request.set_from_now(false);
  *request.mutable_from() = from;
  std::unique_ptr<grpc::ClientReader<SubscribeResponse>> reader =
      client.changes().Subscribe(call.get(), request);
  SubscribeResponse response;
  // W sends a heartbeat at once: the first read tells whether it took over.
  if (!reader->Read(&response)) return FromGrpcStatus(reader->Finish());
  *reached = true;
  const std::string name = topo::TabletAlias::FromProto(to).ToString();
  spdlog::info("change subscription moved to {} at log entry {}", name, from.seq());
  SubscribeResponse moved;
  *moved.mutable_moved_to() = to;
  bool open = writer_->Write(moved);
  while (open && writer_->Write(response)) {
    if (!Ended().ok()) break;
    if (!reader->Read(&response)) {
      absl::Status end = FromGrpcStatus(reader->Finish());
      return absl::Status(end.code(), absl::StrCat("from ", name, ": ", end.message()));
    }
  }
  call->TryCancel();
  absl::Status why = Ended();
  reader->Finish().ok();  // the cancellation
  return why.ok() ? absl::CancelledError("the subscriber went away") : why;
}

absl::Status Subscription::Run() {
  RETURN_IF_ERROR(Start());
  RETURN_IF_ERROR(SendHeartbeat());
  while (true) {
    if (ctx_->state->type() == topodata::PRIMARY) served_as_primary_ = true;
    RETURN_IF_ERROR(Ended());
    bool moved = false;
    absl::Status s = Step(&moved);
    if (moved) return s;
    if (!s.ok()) return absl::IsCancelled(s) ? s : WithPosition(s);
  }
}

}  // namespace

grpc::Status ChangesService::Subscribe(grpc::ServerContext* context,
                                       const SubscribeRequest* request,
                                       grpc::ServerWriter<SubscribeResponse>* writer) {
  return RunTabletCall(ctx_, [&] {
    Subscription subscription(ctx_, context, *request, writer);
    absl::Status s = subscription.Run();
    if (!s.ok() && !absl::IsCancelled(s))
      spdlog::info("change subscription ended: {}", s.ToString());
    return s;
  });
}

}  // namespace shale::tablet
