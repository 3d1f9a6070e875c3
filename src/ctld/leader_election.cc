#include "ctld/leader_election.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/http/html.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace shale::ctld {
namespace {

using google::protobuf::util::TimeUtil;

std::string DefaultHolder() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", getpid());
}

std::string TimeString(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

}  // namespace

LeaderInfo LeaderInfo::FromRecord(const topodata::CtldLeader& record) {
  LeaderInfo info;
  info.holder = record.holder();
  info.grpc_address = record.grpc_address();
  info.http_address = record.http_address();
  if (record.has_elected_at()) {
    info.elected_at = absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(record.elected_at()));
  }
  info.term = record.term();
  return info;
}

nlohmann::json LeaderInfo::ToJson() const {
  return {{"holder", holder},
          {"grpc_address", grpc_address},
          {"http_address", http_address},
          {"elected_at", TimeString(elected_at)},
          {"term", term}};
}

LeaderElection::LeaderElection(topo::Server* ts, LeaderElectionOptions options)
    : ts_(ts),
      options_(std::move(options)),
      holder_(options_.holder.empty() ? DefaultHolder() : options_.holder),
      grpc_address_(options_.grpc_address),
      http_address_(options_.http_address) {
  if (options_.metrics != nullptr) {
    is_leader_gauge_ = options_.metrics->AddGauge(
        "shale_ctld_is_leader", "1 while this ctld is the leader, 0 while it stands by.");
    is_leader_gauge_->Set(0);
    changes_family_ = options_.metrics->AddCounterFamily(
        "shale_ctld_leadership_changes_total",
        "Times this ctld gained or lost the leadership.", {"change"});
    for (const char* c : {"gained", "lost"}) changes_family_->WithLabels({c});
  }
}

LeaderElection::~LeaderElection() { Stop(); }

void LeaderElection::SetAddresses(std::string grpc_address, std::string http_address) {
  absl::MutexLock l(&mu_);
  grpc_address_ = std::move(grpc_address);
  http_address_ = std::move(http_address);
}

absl::Status LeaderElection::Start() {
  absl::MutexLock l(&mu_);
  if (started_) return absl::FailedPreconditionError("the leader election was started");
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void LeaderElection::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t LeaderElection::term() const {
  absl::MutexLock l(&mu_);
  return term_;
}

int64_t LeaderElection::changes() const {
  absl::MutexLock l(&mu_);
  return changes_;
}

bool LeaderElection::WaitStop(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return stopping_;
}

void LeaderElection::Loop() {
  spdlog::info("ctld {}: standing by for the leadership", holder_);
  while (!WaitStop(absl::ZeroDuration())) {
    if (TryToLead()) Lead();
  }
}

bool LeaderElection::TryToLead() {
  auto fail = [this](const absl::Status& s) {
    {
      absl::MutexLock l(&mu_);
      if (last_error_ != s.message()) spdlog::warn("ctld election: {}", s.ToString());
      last_error_ = std::string(s.message());
    }
    WaitStop(options_.retry_pause);
    return false;
  };
  std::string grpc_address, http_address;
  {
    absl::MutexLock l(&mu_);
    grpc_address = grpc_address_;
    http_address = http_address_;
  }
  {
    absl::MutexLock l(&mu_);
    ++attempts_;
  }
  absl::StatusOr<std::unique_ptr<topo::LockHandle>> lock = ts_->LockCtldLeadership(
      absl::StrCat("ctld leader ", holder_, " (grpc ", grpc_address, ", http ", http_address,
                   ")"),
      options_.lock_attempt);
  if (absl::IsDeadlineExceeded(lock.status())) return false;  // another ctld leads
  if (!lock.ok()) return fail(lock.status());
  if (WaitStop(absl::ZeroDuration())) {
    (void)(*lock)->Unlock();
    return false;
  }
  // The previous record gives the term; we hold the lock, so only a leader
  // that lost it and has not noticed yet may write meanwhile (it writes
  // conditionally, and so do we).
  absl::StatusOr<topo::CtldLeaderInfo> previous = ts_->GetCtldLeader();
  if (!previous.ok() && !absl::IsNotFound(previous.status())) {
    (void)(*lock)->Unlock();
    return fail(previous.status());
  }
  const absl::Time now = absl::Now();
  topodata::CtldLeader record;
  record.set_holder(holder_);
  record.set_grpc_address(grpc_address);
  record.set_http_address(http_address);
  *record.mutable_elected_at() = ToProto(now);
  record.set_term(previous.ok() ? previous->record.term() + 1 : 1);
  absl::StatusOr<topo::Version> version = ts_->PutCtldLeader(
      record, previous.ok() ? std::optional<topo::Version>(previous->version) : std::nullopt);
  if (!version.ok()) {
    (void)(*lock)->Unlock();
    return fail(version.status());
  }
  lock_ = *std::move(lock);
  record_ = record;
  record_version_ = *version;
  {
    absl::MutexLock l(&mu_);
    term_ = record.term();
    ++changes_;
    last_error_.clear();
  }
  is_leader_.store(true, std::memory_order_release);
  if (is_leader_gauge_ != nullptr) is_leader_gauge_->Set(1);
  if (changes_family_ != nullptr) changes_family_->WithLabels({"gained"})->Inc();
  spdlog::info("ctld {}: elected leader, term {}", holder_, record.term());
  if (options_.on_gained) options_.on_gained(LeaderInfo::FromRecord(record));
  return true;
}

void LeaderElection::Lead() {
  for (;;) {
    if (WaitStop(options_.check_interval)) {
      StepDown(absl::CancelledError("ctld is stopping"));
      return;
    }
    absl::Status held = lock_->Check();
    if (!held.ok()) {
      spdlog::error("ctld {}: lost the leadership of term {}: {}", holder_, record_.term(),
                    held.ToString());
      StepDown(held);
      return;
    }
  }
}

void LeaderElection::StepDown(const absl::Status& why) {
  is_leader_.store(false, std::memory_order_release);
  if (is_leader_gauge_ != nullptr) is_leader_gauge_->Set(0);
  if (changes_family_ != nullptr) changes_family_->WithLabels({"lost"})->Inc();
  {
    absl::MutexLock l(&mu_);
    term_ = 0;
    ++changes_;
    last_loss_ = why.ToString();
  }
  if (options_.on_lost) options_.on_lost(why);
  // The record still names us unless a new leader wrote it: say we resigned.
  *record_.mutable_resigned_at() = ToProto(absl::Now());
  absl::StatusOr<topo::Version> resigned = ts_->PutCtldLeader(record_, record_version_);
  if (!resigned.ok() && !absl::IsAborted(resigned.status())) {
    spdlog::warn("ctld {}: cannot mark the leader record resigned: {}", holder_,
                 resigned.status().ToString());
  }
  if (lock_ != nullptr) (void)lock_->Unlock();
  lock_.reset();
  spdlog::info("ctld {}: stepped down from term {} ({})", holder_, record_.term(),
               std::string(why.message()));
}

absl::StatusOr<LeaderInfo> LeaderElection::CurrentLeader() {
  absl::StatusOr<topo::CtldLeaderInfo> info = ts_->GetCtldLeader();
  if (absl::IsNotFound(info.status())) {
    return absl::NotFoundError("no ctld was ever elected leader");
  }
  if (!info.ok()) return info.status();
  if (info->record.has_resigned_at()) {
    return absl::NotFoundError(absl::StrCat("no ctld leads: the last leader, ",
                                            info->record.holder(), " (term ",
                                            info->record.term(), "), stepped down"));
  }
  return LeaderInfo::FromRecord(info->record);
}

nlohmann::json LeaderElection::StatusJson() const {
  absl::MutexLock l(&mu_);
  return {{"holder", holder_},
          {"is_leader", IsLeader()},
          {"term", term_},
          {"changes", changes_},
          {"attempts", attempts_},
          {"last_loss", last_loss_},
          {"last_error", last_error_},
          {"grpc_address", grpc_address_},
          {"http_address", http_address_}};
}

std::string LeaderElection::StatusHtml() {
  const nlohmann::json self = StatusJson();
  std::string leader;
  absl::StatusOr<LeaderInfo> current = CurrentLeader();
  if (current.ok()) {
    const std::string url = absl::StrCat("http://", current->http_address, "/");
    leader = absl::StrCat(http::HtmlEscape(current->holder), " (term ", current->term,
                          ", elected ", TimeString(current->elected_at), "), gRPC ",
                          http::HtmlEscape(current->grpc_address), ", dashboard <a href=\"",
                          http::HtmlEscape(url), "\">", http::HtmlEscape(url), "</a>");
  } else {
    leader = http::HtmlEscape(current.status().ToString());
  }
  return absl::StrCat(
      "<p>This ctld (", http::HtmlEscape(holder_), ") is <b>",
      self["is_leader"].get<bool>() ? absl::StrCat("the leader, term ", self["term"].get<int64_t>())
                                    : std::string("standing by"),
      "</b>; leadership changes here: ", self["changes"].get<int64_t>(), ".</p><p>Leader: ",
      leader, "</p>");
}

}  // namespace shale::ctld
