#include "gate/meta_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/grpc_tls/credentials.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "topo/paths.h"

namespace shale::gate {
namespace {

using Method = grpc::Status (meta::Meta::Stub::*)(grpc::ClientContext*, const meta::DdlRequest&,
                                                  meta::DdlResponse*);

Method MethodFor(sql::StatementKind kind) {
  switch (kind) {
    case sql::StatementKind::kCreateTable:
      return &meta::Meta::Stub::CreateTable;
    case sql::StatementKind::kDropTable:
      return &meta::Meta::Stub::DropTable;
    case sql::StatementKind::kAlterTable:
      return &meta::Meta::Stub::AlterTable;
    case sql::StatementKind::kCreateIndex:
      return &meta::Meta::Stub::CreateIndex;
    default:
      return &meta::Meta::Stub::OtherDdl;
  }
}

// The leader is gone or is not the leader any more: ask the next one.
bool LeaderChanged(const absl::Status& s) {
  return absl::IsUnavailable(s) ||
         (absl::IsFailedPrecondition(s) && absl::StrContains(s.message(), "standby"));
}

}  // namespace

absl::StatusOr<std::optional<topodata::CtldLeader>> MetaClient::Leader() {
  absl::MutexLock lock(&mu_);
  if (watch_ == nullptr) {
    absl::StatusOr<std::unique_ptr<discovery::RecordWatch>> watch = discovery::RecordWatch::Start(
        ts_->global(), {topo::paths::CtldLeader(), topo::paths::CtldDir()},
        [this](const std::string&) {
          absl::MutexLock l(&mu_);
          ++changes_;
        });
    if (!watch.ok()) return watch.status();
    watch_ = *std::move(watch);
  }
  std::optional<std::string> value = watch_->value();
  if (!value.has_value()) return std::optional<topodata::CtldLeader>();
  topodata::CtldLeader record;
  if (!record.ParseFromString(*value)) {
    return absl::DataLossError(absl::StrCat(topo::paths::CtldLeader(), " does not parse"));
  }
  return std::optional<topodata::CtldLeader>(record);
}

std::shared_ptr<grpc::Channel> MetaClient::ChannelTo(const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (channel_ == nullptr || channel_address_ != address) {
    channel_ = grpc_tls::NewChannel(address);  // TLS when the process set it up
    channel_address_ = address;
  }
  return channel_;
}

absl::StatusOr<meta::DdlResponse> MetaClient::Run(sql::StatementKind kind,
                                                  const std::string& keyspace,
                                                  const std::string& sql) {
  const absl::Time deadline = absl::Now() + timeout_;
  meta::DdlRequest request;
  request.set_keyspace(keyspace);
  request.set_sql(sql);
  absl::Status last;
  for (;;) {
    int64_t seen;
    {
      absl::MutexLock lock(&mu_);
      seen = changes_;
    }
    absl::StatusOr<std::optional<topodata::CtldLeader>> leader = Leader();
    if (!leader.ok()) return leader.status();
    const bool leads = leader->has_value() && !(*leader)->has_resigned_at() &&
                       !(*leader)->grpc_address().empty();
    if (!leads && last.ok()) {
      return SqlError(absl::StatusCode::kUnavailable, sqlstate::kConnectionFailure,
                      "schema changes go through ctld's meta service, and no ctld leads this "
                      "cluster now: start `shale ctld --topo ...`");
    }
    if (leads) {
      meta::Meta::Stub stub(ChannelTo((*leader)->grpc_address()));
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      meta::DdlResponse response;
      absl::Status s = tablet::FromGrpcStatus((stub.*MethodFor(kind))(&context, request, &response));
      if (s.ok()) return response;
      if (!LeaderChanged(s)) return s;
      spdlog::warn("meta service at {} ({}): {}; waiting for the next ctld leader",
                   (*leader)->grpc_address(), (*leader)->holder(), s.ToString());
      last = s;
    }
    // Wait for the leader record to change (a new election), then retry.
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return changes_ != seen; };
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() ||
        (!mu_.AwaitWithTimeout(absl::Condition(&changed), std::min(left, absl::Seconds(1))) &&
         absl::Now() >= deadline)) {
      return absl::Status(last.code(), absl::StrCat("no ctld leader took the schema change within ",
                                                    absl::FormatDuration(timeout_), ": ",
                                                    last.message()));
    }
  }
}

}  // namespace shale::gate
