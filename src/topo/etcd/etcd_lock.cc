#include "topo/etcd/etcd_lock.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/etcd_rpc.pb.h"

namespace shale::topo::etcd_internal {
namespace {

constexpr absl::Duration kMinRetry = absl::Milliseconds(200);

// Waits until etcd reports a DELETE of key at a revision >= from_revision.
// OK once deleted (or if the history was compacted: the caller re-checks);
// DeadlineExceeded at deadline; Unavailable if the stream breaks.
absl::Status WaitForDeletion(EtcdClient& client, const std::string& key, int64_t from_revision,
                             absl::Time deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  const size_t endpoint = client.preferred();
  std::unique_ptr<EtcdClient::WatchStream> stream = client.watch_stub(endpoint)->Watch(&ctx);
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(key);
  create->set_start_revision(from_revision);
  create->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  if (stream->Write(request)) {
    etcdserverpb::WatchResponse response;
    while (stream->Read(&response)) {
      bool done = response.canceled();
      for (const mvccpb::Event& event : response.events()) {
        if (event.type() == mvccpb::Event::DELETE) done = true;
      }
      if (done) {
        ctx.TryCancel();
        (void)stream->Finish();
        return absl::OkStatus();
      }
    }
  }
  grpc::Status finished = stream->Finish();
  if (finished.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED || absl::Now() >= deadline) {
    return absl::DeadlineExceededError("lock wait timed out");
  }
  client.ReportFailure(endpoint);
  if (finished.ok()) return absl::UnavailableError("etcd closed the lock watch");
  return client.ToStatus(finished, endpoint, "Watch (lock wait)");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdLease>> EtcdLease::Grant(std::shared_ptr<EtcdClient> client,
                                                            absl::Duration ttl) {
  const int64_t seconds =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(ttl))));
  auto granted = client->LeaseGrant(seconds);
  if (!granted.ok()) return granted.status();
  const absl::Duration actual = absl::Seconds(std::max(seconds, granted->ttl()));
  return std::unique_ptr<EtcdLease>(new EtcdLease(std::move(client), granted->id(), actual));
}

EtcdLease::EtcdLease(std::shared_ptr<EtcdClient> client, int64_t id, absl::Duration ttl)
    : client_(std::move(client)), id_(id), ttl_(ttl), renewer_([this] { RenewLoop(); }) {}

EtcdLease::~EtcdLease() { StopRenewing(); }

bool EtcdLease::lost() {
  absl::MutexLock l(&mu_);
  return lost_;
}

void EtcdLease::StopRenewing() {
  stop_.Cancel();
  absl::MutexLock l(&join_mu_);
  if (!joined_) {
    renewer_.join();
    joined_ = true;
  }
}

absl::Status EtcdLease::Revoke() {
  StopRenewing();
  return client_->LeaseRevoke(id_);
}

void EtcdLease::RenewLoop() {
  const absl::Duration interval = ttl_ / 3;
  const absl::Duration call_timeout = std::min(client_->call_timeout(), std::max(interval, kMinRetry));
  absl::Time last_renewed = absl::Now();  // no later than the grant
  absl::Duration wait = interval;
  while (!stop_.SleepUnlessCancelled(wait)) {
    const absl::Time sent = absl::Now();
    absl::StatusOr<int64_t> remaining = client_->LeaseKeepAliveOnce(id_, call_timeout, &stop_);
    if (stop_.cancelled()) return;
    if (remaining.ok() && *remaining > 0) {
      last_renewed = sent;
      wait = interval;
      continue;
    }
    // Expired for sure, or not renewed for a whole TTL: etcd may have let it go.
    if (remaining.ok() || absl::Now() - last_renewed >= ttl_) {
      absl::MutexLock l(&mu_);
      lost_ = true;
      return;
    }
    wait = std::min(interval, kMinRetry);
  }
}

absl::StatusOr<std::unique_ptr<LockHandle>> AcquireEtcdLock(std::shared_ptr<EtcdClient> client,
                                                            std::string dir, std::string key,
                                                            absl::string_view contents,
                                                            absl::Duration ttl,
                                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto lease = EtcdLease::Grant(client, ttl);
  if (!lease.ok()) return lease.status();
  auto give_up = [&](absl::Status status) {
    (void)(*lease)->Revoke();
    return status;
  };

  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* free = txn.add_compare();
  free->set_key(key);
  free->set_target(etcdserverpb::Compare::CREATE);
  free->set_result(etcdserverpb::Compare::EQUAL);
  free->set_create_revision(0);  // the key does not exist
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(std::string(contents));
  put->set_lease((*lease)->id());
  txn.add_failure()->mutable_request_range()->set_key(key);

  for (;;) {
    if ((*lease)->lost()) {
      return give_up(absl::UnavailableError(
          absl::StrCat("lost the etcd lease while waiting for the lock of ", dir)));
    }
    auto attempt = client->Txn(txn);
    if (!attempt.ok()) return give_up(attempt.status());
    if (attempt->succeeded()) {
      return std::unique_ptr<LockHandle>(new EtcdLockHandle(
          std::move(client), std::move(dir), std::move(key), *std::move(lease)));
    }
    const etcdserverpb::RangeResponse& holder = attempt->responses(0).response_range();
    if (holder.kvs_size() == 0) continue;  // released meanwhile: try again
    absl::Status waited =
        absl::Now() >= deadline
            ? absl::DeadlineExceededError("")
            : WaitForDeletion(*client, key, attempt->header().revision() + 1, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return give_up(absl::DeadlineExceededError(
          absl::StrCat("lock of ", dir, " still held after ", absl::FormatDuration(timeout),
                       " by '", holder.kvs(0).value(), "'")));
    }
    if (!waited.ok()) return give_up(waited);
  }
}

EtcdLockHandle::EtcdLockHandle(std::shared_ptr<EtcdClient> client, std::string dir,
                               std::string key, std::unique_ptr<EtcdLease> lease)
    : client_(std::move(client)), dir_(std::move(dir)), key_(std::move(key)),
      lease_(std::move(lease)) {}

EtcdLockHandle::~EtcdLockHandle() {
  bool released;
  {
    absl::MutexLock l(&mu_);
    released = released_;
  }
  if (!released) (void)Unlock();
}

absl::Status EtcdLockHandle::Unlock() {
  absl::MutexLock l(&mu_);
  if (released_) return absl::AbortedError(absl::StrCat("lock of ", dir_, " already released"));
  released_ = true;
  const bool was_lost = lease_->lost();
  absl::Status revoked = lease_->Revoke();
  if (was_lost || absl::IsNotFound(revoked)) {
    return absl::AbortedError(absl::StrCat("lock of ", dir_, " was lost: its lease expired"));
  }
  return revoked;
}

absl::Status EtcdLockHandle::Check() {
  {
    absl::MutexLock l(&mu_);
    if (released_) return absl::AbortedError(absl::StrCat("lock of ", dir_, " was released"));
  }
  if (lease_->lost()) {
    return absl::AbortedError(absl::StrCat("lock of ", dir_, " was lost: its lease expired"));
  }
  etcdserverpb::RangeRequest request;
  request.set_key(key_);
  auto current = client_->Range(request);
  if (!current.ok()) return current.status();
  if (current->kvs_size() == 0 || current->kvs(0).lease() != lease_->id()) {
    return absl::AbortedError(
        absl::StrCat("lock of ", dir_, " was lost: its node is gone or was replaced"));
  }
  return absl::OkStatus();
}

}  // namespace shale::topo::etcd_internal
