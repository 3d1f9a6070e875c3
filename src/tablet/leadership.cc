#include "tablet/leadership.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/proto_time.h"
#include "tablet/replication/log_store.h"

namespace shale::tablet {
namespace {

constexpr char kMovedPayload[] = "type.shale.dev/moved";

std::string Name(const topodata::TabletAlias& a) {
  return topo::TabletAlias::FromProto(a).ToString();
}

bool SameAlias(const topodata::TabletAlias& a, const topodata::TabletAlias& b) {
  return a.cell() == b.cell() && a.uid() == b.uid();
}

}  // namespace

absl::Status MovedStatus() {
  absl::Status s = absl::FailedPreconditionError(
      "the primary moved while this write waited; it is forwarded to the new primary");
  s.SetPayload(kMovedPayload, absl::Cord("1"));
  return s;
}

bool IsMoved(const absl::Status& status) {
  return status.GetPayload(kMovedPayload).has_value();
}

Leadership::Leadership(topo::Server* ts, StateManager* state, engine::Engine* engine,
                       replication::ReplicationManager* replication, engine::WriteGate* gate)
    : ts_(ts), state_(state), engine_(engine), replication_(replication), gate_(gate) {}

absl::Status Leadership::StartRole() {
  const topodata::Tablet r = state_->Snapshot().record;
  replication_->SetAcksCount(r.type() == topodata::REPLICA);
  if (r.type() != topodata::PRIMARY) {
    const bool follow = r.type() == topodata::REPLICA || r.type() == topodata::RDONLY ||
                        r.type() == topodata::SPARE || r.type() == topodata::DRAINED;
    replication_->BecomeReplica(follow);
    return absl::OkStatus();
  }
  replication_->BecomePrimary(r.primary_term());
  if (replication_->position().Get().term() < r.primary_term()) {
    ChangeConfig cc;
    cc.set_term(r.primary_term());
    *cc.mutable_writer() = r.alias();
    ASSIGN_OR_RETURN(LogPosition p, replication_->log_writer()->AppendControl(
                                        *engine_, CHANGE_CONFIG, cc.SerializeAsString(),
                                        r.primary_term()));
    spdlog::info("primary term {} starts at log entry {}", r.primary_term(), p.seq());
  }
  return absl::OkStatus();
}

absl::Status Leadership::WriteShardRecord(int64_t term, absl::Time start) {
  const topodata::Tablet r = state_->Snapshot().record;
  return ts_
      ->UpdateShardFields(r.keyspace(), r.shard(),
                          [&](topodata::Shard& shard) -> absl::Status {
                            if (shard.primary_term() > term ||
                                (shard.primary_term() == term && shard.has_primary_alias() &&
                                 !shard.primary_alias().cell().empty() &&
                                 !SameAlias(shard.primary_alias(), r.alias()))) {
                              return absl::FailedPreconditionError(absl::StrCat(
                                  "the Shard record already names primary ",
                                  Name(shard.primary_alias()), " with term ",
                                  shard.primary_term(), " (asked for term ", term, ")"));
                            }
                            *shard.mutable_primary_alias() = r.alias();
                            shard.set_primary_term(term);
                            *shard.mutable_primary_term_start_time() = ToProtoTime(start);
                            return absl::OkStatus();
                          })
      .status();
}

absl::StatusOr<LogPosition> Leadership::Promote(int64_t term) {
  absl::MutexLock lock(&mu_);
  const topodata::Tablet r = state_->Snapshot().record;
  if (r.type() == topodata::PRIMARY) {
    if (r.primary_term() == term) return replication_->position().Get();
    return absl::FailedPreconditionError(absl::StrCat(
        "tablet ", Name(r.alias()), " is already the primary with term ", r.primary_term()));
  }
  if (r.type() != topodata::REPLICA) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", Name(r.alias()), " is ", topodata::TabletType_Name(r.type()),
                     ": only a REPLICA can be promoted"));
  }
  if (term <= replication_->known_term()) {
    return absl::FailedPreconditionError(
        absl::StrCat("term ", term, " is not newer than term ", replication_->known_term(),
                     " that tablet ", Name(r.alias()), " already knows"));
  }
  replication_->BecomePrimary(term);
  ChangeConfig cc;
  cc.set_term(term);
  *cc.mutable_writer() = r.alias();
  absl::StatusOr<LogPosition> pos = replication_->log_writer()->AppendControl(
      *engine_, CHANGE_CONFIG, cc.SerializeAsString(), term);
  if (!pos.ok()) {
    replication_->BecomeReplica(true);
    return pos.status();
  }
  {
    absl::MutexLock tl(&tunnel_mu_);
    tunnel_.reset();
  }
  state_->BecomePrimary(term, absl::Now());
  spdlog::info("promoted to primary with term {} at log entry {}", term, pos->seq());
  return *pos;
}

bool Leadership::OnChangeConfig(const ChangeConfig& cc, const LogPosition& position) {
  const topodata::Tablet r = state_->Snapshot().record;
  if (!SameAlias(cc.writer(), r.alias())) {
    if (tunnel() != nullptr) OpenTunnel(cc.writer());
    return false;
  }
  // DESIGN §4 step 3: the Shard record, then write mode, then the health
  // stream (the state change bumps its generation).
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  absl::Status s = WriteShardRecord(cc.term(), start);
  if (!s.ok()) {
    spdlog::error("CHANGE_CONFIG at entry {} names this tablet for term {}, but: {}",
                  position.seq(), cc.term(), s.ToString());
    return false;
  }
  replication_->BecomePrimary(cc.term());
  {
    absl::MutexLock tl(&tunnel_mu_);
    tunnel_.reset();
  }
  state_->BecomePrimary(cc.term(), start);
  spdlog::info("became primary with term {} (CHANGE_CONFIG at log entry {})", cc.term(),
               position.seq());
  return true;
}

absl::StatusOr<LogPosition> Leadership::Demote() {
  absl::MutexLock lock(&mu_);
  state_->BecomeReplica();
  replication_->BecomeReplica(/*start=*/false);
  replication_->SetAcksCount(true);
  return replication_->position().Get();
}

void Leadership::AfterStateChange() {
  const topodata::Tablet r = state_->Snapshot().record;
  if (r.type() != topodata::PRIMARY && replication_->is_primary()) {
    spdlog::warn("no longer the primary: following the shard's primary");
    replication_->BecomeReplica(/*start=*/true);
  }
}

std::shared_ptr<TabletClient> Leadership::tunnel() const {
  absl::MutexLock tl(&tunnel_mu_);
  return tunnel_;
}

void Leadership::OpenTunnel(const topodata::TabletAlias& to) {
  absl::StatusOr<std::unique_ptr<TabletClient>> client =
      TabletClient::ForTablet(*ts_, topo::TabletAlias::FromProto(to));
  if (!client.ok()) {
    spdlog::warn("cannot open the tunnel to {}: {}", Name(to), client.status().ToString());
    return;
  }
  absl::MutexLock tl(&tunnel_mu_);
  tunnel_ = std::shared_ptr<TabletClient>(std::move(*client));
}

absl::StatusOr<MigratePrimaryResponse> Leadership::Migrate(const MigratePrimaryRequest& request) {
  absl::MutexLock lock(&mu_);
  migrating_.store(true);
  absl::StatusOr<MigratePrimaryResponse> r = MigrateLocked(request);
  migrating_.store(false);
  return r;
}

void Leadership::OnShardRecord(const topodata::Shard& shard) {
  if (migrating_.load()) return;
  if (state_->ApplyShardRecord(shard)) AfterStateChange();
}

absl::StatusOr<int> Leadership::FreezeAndFlushLocked(absl::Duration grace, absl::Duration timeout,
                                                      absl::string_view why) {
  int rolled_back = 0;
  gate_->Freeze();
  if (!gate_->WaitDrained(absl::Now() + grace)) {
    rolled_back = engine_->AbortWriteTxns(engine::SqlError(
        absl::StatusCode::kAborted, engine::sqlstate::kSerializationFailure,
        absl::StrCat("the transaction was rolled back because ", why, " (open longer than the ",
                     absl::FormatDuration(grace), " grace period); retry it")));
    spdlog::info("{}: rolled back {} open transactions after the grace period",
                 std::string(why), rolled_back);
  }
  // Flush the commit queue: admitted writes finish, with their acknowledgements.
  if (!gate_->WaitDrained(absl::Now() + timeout)) {
    gate_->Thaw();
    return absl::DeadlineExceededError(
        absl::StrCat("writes in flight did not finish within ", absl::FormatDuration(timeout),
                     "; the freeze is abandoned"));
  }
  return rolled_back;
}

absl::StatusOr<LogPosition> Leadership::FreezeWrites(absl::Duration grace, absl::Duration timeout,
                                                     absl::string_view why) {
  absl::MutexLock lock(&mu_);
  const topodata::Tablet r = state_->Snapshot().record;
  if (r.type() != topodata::PRIMARY) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tablet ", Name(r.alias()), " is ", topodata::TabletType_Name(r.type()),
        ", not the primary: only a primary freezes its writes"));
  }
  RETURN_IF_ERROR(FreezeAndFlushLocked(grace, timeout, why).status());
  return replication_->position().Get();
}

absl::StatusOr<MigratePrimaryResponse> Leadership::MigrateLocked(
    const MigratePrimaryRequest& request) {
  const topodata::Tablet r = state_->Snapshot().record;
  if (r.type() != topodata::PRIMARY) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", Name(r.alias()), " is not the primary"));
  }
  if (request.new_term() != r.primary_term() + 1) {
    return absl::FailedPreconditionError(absl::StrCat("the new term must be ",
                                                      r.primary_term() + 1, ", got ",
                                                      request.new_term()));
  }
  if (request.candidate().cell().empty() || SameAlias(request.candidate(), r.alias())) {
    return absl::InvalidArgumentError("the candidate must be another tablet of the shard");
  }
  const std::string candidate = Name(request.candidate());
  const absl::Duration grace =
      request.grace_ms() > 0 ? absl::Milliseconds(request.grace_ms()) : absl::Milliseconds(500);
  const absl::Duration timeout =
      request.timeout_ms() > 0 ? absl::Milliseconds(request.timeout_ms()) : absl::Seconds(10);
  // Open the tunnel's channel before the freeze, so forwarding starts at once.
  absl::StatusOr<std::unique_ptr<TabletClient>> tunnel =
      TabletClient::ForTablet(*ts_, topo::TabletAlias::FromProto(request.candidate()));
  RETURN_IF_ERROR(tunnel.status());
  {
    GetStateRequest req;
    ASSIGN_OR_RETURN(GetStateResponse st, (*tunnel)->Call((*tunnel)->manager(),
                                                          &TabletManager::Stub::GetState, req,
                                                          absl::Seconds(2)));
    if (st.state().target().tablet_type() != topodata::REPLICA ||
        st.state().target().shard() != r.shard() ||
        st.state().target().keyspace() != r.keyspace()) {
      return absl::FailedPreconditionError(absl::StrCat("candidate ", candidate,
                                                        " is not a REPLICA of ", r.keyspace(),
                                                        "/", r.shard()));
    }
  }

  if (gate_->frozen()) {
    return absl::FailedPreconditionError(
        "writes are frozen for a resharding switch (FreezeWrites); thaw them first");
  }
  MigratePrimaryResponse response;
  const absl::Time frozen_at = absl::Now();
  spdlog::info("migration to {}: freezing the write queue", candidate);
  ASSIGN_OR_RETURN(const int rolled_back,
                   FreezeAndFlushLocked(grace, timeout,
                                        absl::StrCat("the primary moved to ", candidate)));
  response.set_rolled_back(rolled_back);
  state_->SetReadOnly().IgnoreError();
  ChangeConfig cc;
  cc.set_term(request.new_term());
  *cc.mutable_writer() = request.candidate();
  absl::StatusOr<LogPosition> pos = replication_->log_writer()->AppendControl(
      *engine_, CHANGE_CONFIG, cc.SerializeAsString(), request.new_term());
  if (!pos.ok()) {
    state_->SetReadWrite().IgnoreError();
    gate_->Thaw();
    return pos.status();
  }
  *response.mutable_change_config() = *pos;
  absl::Status acked =
      replication_->acks().WaitForAckFrom(candidate, pos->seq(), absl::Now() + timeout);
  if (!acked.ok()) {
    // The candidate may still take over later; make sure exactly one of us
    // writes: take a newer term here unless the Shard record moved on.
    absl::StatusOr<topo::ShardInfo> shard = ts_->GetShard(r.keyspace(), r.shard());
    const bool taken = shard.ok() && SameAlias(shard->record.primary_alias(), request.candidate());
    if (!taken) {
      const int64_t term = request.new_term() + 1;
      absl::Status w = WriteShardRecord(term, absl::Now());
      if (w.ok()) {
        ChangeConfig back;
        back.set_term(term);
        *back.mutable_writer() = r.alias();
        replication_->BecomePrimary(term);
        absl::StatusOr<LogPosition> p = replication_->log_writer()->AppendControl(
            *engine_, CHANGE_CONFIG, back.SerializeAsString(), term);
        if (p.ok()) {
          state_->BecomePrimary(term, absl::Now());
          gate_->Thaw();
          return absl::DeadlineExceededError(
              absl::StrCat("candidate ", candidate, " did not take over in time (",
                           acked.message(), "); this tablet stays primary with term ", term));
        }
      }
      gate_->Thaw(absl::UnavailableError("the primary change failed; retry"));
      return absl::DeadlineExceededError(
          absl::StrCat("candidate ", candidate, " did not take over in time: ", acked.message()));
    }
  }
  // The candidate is the primary: become its replica and open the tunnel.
  {
    absl::MutexLock tl(&tunnel_mu_);
    tunnel_ = std::shared_ptr<TabletClient>(std::move(*tunnel));
  }
  state_->BecomeReplica();
  replication_->SetAcksCount(true);
  replication_->BecomeReplica(/*start=*/false);
  replication_->FollowWriter(request.candidate());
  gate_->Thaw(MovedStatus());
  const absl::Duration stall = absl::Now() - frozen_at;
  response.set_stall_us(absl::ToInt64Microseconds(stall));
  response.set_forwarded(forwarded_.load());
  spdlog::info("migration to {} done: term {} from log entry {}, writes frozen for {}", candidate,
               request.new_term(), pos->seq(), absl::FormatDuration(stall));
  return response;
}

}  // namespace shale::tablet
