#pragma once

// Internal to topo/etcd: gRPC access to one etcd cluster.
//
// EtcdClient holds one channel per endpoint of an etcd:// address and makes
// the unary calls of etcd's v3 KV and Lease services with a per-call deadline,
// failing over to the next endpoint when one is unreachable. Watch streams are
// opened by the callers (EtcdWatch, the lock waiter) on preferred() and report
// a broken endpoint with ReportFailure().
//
// Error mapping (one line each, naming the endpoint):
//   gRPC UNAVAILABLE, DEADLINE_EXCEEDED  -> Unavailable (after every endpoint was tried)
//   CANCELLED (by a CallCanceller)       -> Cancelled
//   anything else                        -> the same absl code (e.g. NotFound for a
//                                           lease that is gone), not retried
//
// Each call first waits (up to connect_timeout) for its endpoint's channel to
// be connected. Waiting is what drives a (re)connection forward: a call that
// failed fast on a disconnected channel would leave reconnecting to gRPC's 5s
// backup poller.
//
// Lifecycle: Create() returns a ready client; channels connect lazily and
// reconnect with a short backoff (100ms growing to 1s). Shared
// (shared_ptr) by an EtcdConn and its watch and lock handles.
// Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcd_rpc.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace shale::topo {

struct EtcdClientOptions {
  // Deadline of each unary call on one endpoint. A server that does not answer
  // within it counts as unreachable.
  absl::Duration call_timeout = absl::Seconds(5);
  // How long a call waits for a connection to an endpoint (while it is
  // connecting or reconnecting) before trying the next one.
  absl::Duration connect_timeout = absl::Seconds(1);
};

namespace etcd_internal {

// Lets one thread cancel the gRPC call another thread is blocked in, and
// doubles as a stop flag with an interruptible sleep. Thread-safe.
class CallCanceller {
 public:
  // Registers ctx as the call in flight. False (and nothing registered) once
  // Cancel() has run.
  bool Begin(grpc::ClientContext* ctx);
  // Unregisters the call in flight; call before destroying its context.
  void End();
  // Cancels the call in flight, and every later Begin() fails.
  void Cancel();
  bool cancelled();
  // Sleeps up to d; true if cancelled (at once or meanwhile).
  bool SleepUnlessCancelled(absl::Duration d);

 private:
  absl::Mutex mu_;  // protects the following
  grpc::ClientContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// A deadline d from now, for grpc::ClientContext::set_deadline.
std::chrono::system_clock::time_point DeadlineIn(absl::Duration d);

class EtcdClient {
 public:
  using WatchStream =
      grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

  // endpoints: "host:port" strings, at least one.
  static std::shared_ptr<EtcdClient> Create(std::vector<std::string> endpoints,
                                            EtcdClientOptions options);
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Unary calls, tried on each endpoint in turn starting with the preferred
  // one (see the error mapping above). `canceller`, if given, may abort the
  // call from another thread (Cancelled).
  absl::StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request,
                                                    CallCanceller* canceller = nullptr);
  absl::StatusOr<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& request);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> DeleteRange(
      const etcdserverpb::DeleteRangeRequest& request);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(int64_t ttl_seconds);
  // NotFound if the lease no longer exists (expired or revoked).
  absl::Status LeaseRevoke(int64_t lease_id);
  // Renews the lease once over a short-lived LeaseKeepAlive stream, waiting
  // at most timeout per endpoint. Returns the new TTL in seconds, <= 0 if the
  // lease has expired.
  absl::StatusOr<int64_t> LeaseKeepAliveOnce(int64_t lease_id, absl::Duration timeout,
                                             CallCanceller* canceller);

  // The endpoint new streams should use, and its Watch stub.
  size_t preferred() const { return preferred_.load(); }
  etcdserverpb::Watch::Stub* watch_stub(size_t endpoint) { return endpoints_[endpoint].watch.get(); }
  // A stream on `endpoint` broke because the server is unreachable: move the
  // preferred endpoint on to the next one (no-op if already moved).
  void ReportFailure(size_t endpoint);
  // The absl status for a failed call `what` on `endpoint` (see the mapping).
  absl::Status ToStatus(const grpc::Status& status, size_t endpoint, absl::string_view what) const;

  const std::string& endpoint(size_t i) const { return endpoints_[i].target; }
  size_t endpoint_count() const { return endpoints_.size(); }
  absl::Duration call_timeout() const { return options_.call_timeout; }

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  };
  using CallFn = std::function<grpc::Status(Endpoint&, grpc::ClientContext*)>;

  // Waits until the endpoint's channel is connected, driving the connection
  // attempt. False after `wait`, or once canceller is cancelled.
  bool WaitConnected(Endpoint& endpoint, absl::Duration wait, CallCanceller* canceller);

  EtcdClient(std::vector<Endpoint> endpoints, EtcdClientOptions options);
  // Runs fn on each endpoint in turn until one answers; see the class comment.
  absl::Status CallWithFailover(absl::string_view what, absl::Duration timeout,
                                CallCanceller* canceller, const CallFn& fn);

  const EtcdClientOptions options_;
  std::vector<Endpoint> endpoints_;  // immutable after construction
  std::atomic<size_t> preferred_{0};
};

}  // namespace etcd_internal
}  // namespace shale::topo
