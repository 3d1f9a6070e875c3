// topo::Server methods for keyspace and shard locks.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "topo/paths.h"
#include "topo/server.h"

namespace shale::topo {
namespace {

std::string LockContents(absl::string_view reason, absl::Duration lease_ttl) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  topodata::LockInfo info;
  info.set_holder(absl::StrCat(host, ":", getpid()));
  info.set_reason(std::string(reason));
  *info.mutable_acquired_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::GetCurrentTimeNanos());
  *info.mutable_lease_ttl() = google::protobuf::util::TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(lease_ttl));
  return info.SerializeAsString();
}

absl::StatusOr<std::unique_ptr<LockHandle>> TakeLock(Conn& conn, const std::string& dir,
                                                     absl::string_view what,
                                                     absl::string_view reason,
                                                     absl::Duration lease_ttl,
                                                     absl::Duration timeout) {
  auto lock = conn.Lock(dir, LockContents(reason, lease_ttl), timeout);
  if (absl::IsDeadlineExceeded(lock.status())) {
    return absl::DeadlineExceededError(absl::StrCat(
        what, " is locked by another operation (see TopoCat ", dir, "/locks/...); gave up after ",
        absl::FormatDuration(timeout)));
  }
  return lock;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LockHandle>> Server::LockKeyspace(absl::string_view keyspace,
                                                                 absl::string_view reason,
                                                                 absl::Duration timeout) {
  RETURN_IF_ERROR(GetKeyspace(keyspace).status());
  return TakeLock(*global_, paths::KeyspaceDir(keyspace), absl::StrCat("keyspace ", keyspace),
                  reason, lock_ttl_, timeout);
}

absl::StatusOr<std::unique_ptr<LockHandle>> Server::LockShard(absl::string_view keyspace,
                                                              absl::string_view shard,
                                                              absl::string_view reason,
                                                              absl::Duration timeout) {
  RETURN_IF_ERROR(GetShard(keyspace, shard).status());
  return TakeLock(*global_, paths::ShardDir(keyspace, shard),
                  absl::StrCat("shard ", keyspace, "/", shard), reason, lock_ttl_, timeout);
}

absl::StatusOr<std::unique_ptr<LockHandle>> Server::LockCtldLeadership(absl::string_view reason,
                                                                       absl::Duration timeout) {
  return TakeLock(*global_, paths::CtldDir(), "ctld leadership", reason, lock_ttl_, timeout);
}

}  // namespace shale::topo
