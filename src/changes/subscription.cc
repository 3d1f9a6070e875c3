#include "changes/subscription.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/status_macros.h"

namespace shale::changes {
namespace {

// Every shard's position "now", retried until start_timeout.
absl::StatusOr<KeyspacePosition> PositionNow(topo::Server& ts,
                                             const std::vector<std::string>& shards,
                                             const SubscriptionOptions& options) {
  KeyspacePosition out;
  const absl::Time deadline = absl::Now() + options.start_timeout;
  for (const std::string& shard : shards) {
    ShardStreamOptions o = options.stream;
    o.keyspace = options.keyspace;
    o.shard = shard;
    o.tablet_type = options.tablet_type;
    Backoff backoff(absl::Milliseconds(20), absl::Milliseconds(500));
    for (;;) {
      absl::StatusOr<tablet::ChangePosition> p = CurrentShardPosition(ts, o);
      if (p.ok()) {
        out.Set(shard, *p);
        break;
      }
      if (absl::IsNotFound(p.status())) return p.status();
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(
            absl::StrCat("cannot start the subscription from now: ", p.status().message(), " (for ",
                         absl::FormatDuration(options.start_timeout), ")"));
      }
      absl::SleepFor(backoff.Next());
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> KeyspaceShards(topo::Server& ts,
                                                        absl::string_view keyspace,
                                                        absl::string_view cell) {
  RETURN_IF_ERROR(ts.GetKeyspace(keyspace).status());
  std::vector<std::string> shards;
  if (!cell.empty()) {
    absl::StatusOr<topodata::SrvKeyspace> srv = ts.GetSrvKeyspace(cell, keyspace);
    if (srv.ok()) {
      for (const auto& partition : srv->partitions()) {
        if (partition.served_type() != topodata::PRIMARY) continue;
        for (const auto& ref : partition.shard_references()) shards.push_back(ref.name());
      }
    }
  }
  if (shards.empty()) {
    ASSIGN_OR_RETURN(shards, ts.ListShards(keyspace));
  }
  if (shards.empty()) {
    return absl::NotFoundError(absl::StrCat("keyspace ", keyspace, " has no shards"));
  }
  return shards;
}

absl::StatusOr<std::unique_ptr<Subscription>> Subscription::Start(topo::Server* ts,
                                                                  SubscriptionOptions options) {
  if (options.tablet_type == topodata::UNKNOWN) options.tablet_type = topodata::PRIMARY;
  if (options.tablet_type != topodata::PRIMARY && options.tablet_type != topodata::REPLICA) {
    return absl::InvalidArgumentError(
        absl::StrCat("a subscription reads from PRIMARY or REPLICA tablets, not ",
                     topodata::TabletType_Name(options.tablet_type)));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> shards,
                   KeyspaceShards(*ts, options.keyspace, options.cell));
  KeyspacePosition start;
  const std::string from(absl::StripAsciiWhitespace(options.from));
  if (from.empty() || absl::AsciiStrToLower(from) == "now") {
    ASSIGN_OR_RETURN(start, PositionNow(*ts, shards, options));
  } else {
    ASSIGN_OR_RETURN(start, KeyspacePosition::Parse(from));
    RETURN_IF_ERROR(start.CheckShards(shards, options.keyspace));
  }
  std::unique_ptr<Subscription> sub(new Subscription(shards, start, options));
  sub->Launch(ts, options, start);
  return sub;
}

Subscription::Subscription(std::vector<std::string> shards, KeyspacePosition start,
                           const SubscriptionOptions& options)
    : shards_(std::move(shards)), start_(start.ToString()), queue_(start, options.queue) {}

void Subscription::Launch(topo::Server* ts, const SubscriptionOptions& options,
                          const KeyspacePosition& start) {
  for (const std::string& shard : shards_) {
    ShardStreamOptions o = options.stream;
    o.keyspace = options.keyspace;
    o.shard = shard;
    o.tablet_type = options.tablet_type;
    o.tables = options.tables;
    o.heartbeat_ms = options.heartbeat_ms;
    streams_.push_back(std::make_unique<ShardStream>(
        ts, o, *start.Get(shard), [this, shard](std::vector<tablet::ChangeEvent> events) {
          return queue_.Push(shard, std::move(events));
        }));
  }
  for (auto& stream : streams_) {
    threads_.emplace_back([this, s = stream.get()] {
      absl::Status status = s->Run();
      if (!status.ok()) queue_.Close(status);
    });
  }
}

absl::StatusOr<std::vector<MergedEvent>> Subscription::Next(size_t max, absl::Duration timeout) {
  return queue_.Pop(max, timeout);
}

int64_t Subscription::connects() const {
  int64_t n = 0;
  for (const auto& s : streams_) n += s->connects();
  return n;
}

void Subscription::Stop() {
  absl::MutexLock lock(&stop_mu_);
  queue_.Close(absl::OkStatus());
  for (auto& s : streams_) s->Cancel();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

Subscription::~Subscription() { Stop(); }

}  // namespace shale::changes
