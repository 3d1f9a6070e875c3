#pragma once

// The gateway's connections to tablets for queries (DESIGN §5: the query path
// is the hot path). A TabletStream is one long-lived session on the tablet's
// session port (tablet/client/session_socket.h: the Query.Session protocol
// as length-prefixed frames on a TCP connection, without gRPC's thread
// hand-offs; docs/bench.md has the measurements); a StreamPool keeps idle
// streams per tablet so a statement borrows one instead of connecting.
//
// TabletStream: owned by whoever borrowed it from the pool; used by one thread
// at a time, except Cancel(), which any thread may call. StreamPool: owned by
// the Gateway; thread-safe.

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/tablet_health.h"
#include "tablet/client/grpc_session.h"
#include "tablet/client/session_socket.h"
#include "tablet_data.pb.h"

namespace shale::gate {

class TabletStream {
 public:
  // Connects (on the first Send) to host:session_port; key names the tablet
  // for the pool. A session_port of 0 means the tablet publishes none.
  TabletStream(std::string host, int session_port, std::string key);
  // A session over the tablet's gRPC port instead (a tablet whose session
  // port is loopback-only, on another machine): tablet/client/grpc_session.h.
  TabletStream(std::shared_ptr<tablet::TabletClient> grpc, std::string key);
  ~TabletStream();
  TabletStream(const TabletStream&) = delete;
  TabletStream& operator=(const TabletStream&) = delete;

  // Sends one request (its id is set here). Unavailable when the stream is
  // broken or cannot connect; the request then did not reach the tablet.
  absl::Status Send(tablet::SessionRequest& request);
  // Waits for the answer to the last request sent. The pointer stays valid
  // until the next Receive. Unavailable when the stream broke after the
  // request was sent: its outcome is unknown (see outcome_unknown()).
  absl::StatusOr<const tablet::SessionResponse*> Receive();
  // Send then Receive, with the answer's own error (if any) as the status.
  absl::StatusOr<const tablet::SessionResponse*> Call(tablet::SessionRequest& request);

  // False when the tablet has closed this idle stream (checked before reuse).
  bool LooksAlive() const;
  // True once the stream failed; it must not be returned to the pool.
  bool broken() const { return broken_; }
  // True when the last failure happened after a request was written, so
  // the tablet may have run it.
  bool outcome_unknown() const { return outcome_unknown_; }
  // True when the stream has answered at least once (it really connected).
  bool used() const { return used_; }
  const std::string& key() const { return key_; }

  // Ends the stream from another thread; a blocked Receive returns.
  void Cancel();

 private:
  absl::Status Connect();
  absl::Status Broken(bool after_send, const absl::Status& cause);

  // Write/Read on whichever transport the stream has.
  absl::Status WriteFrame(const tablet::SessionRequest& request);
  absl::Status ReadFrame();

  const std::string host_;
  const int port_;
  const std::string key_;
  const std::shared_ptr<tablet::TabletClient> grpc_client_;  // null: the session port
  absl::Mutex mu_;  // guards the transport's creation against Cancel
  std::unique_ptr<tablet::SessionSocket> socket_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<tablet::GrpcSession> grpc_ ABSL_GUARDED_BY(mu_);
  tablet::GrpcSession* grpc_session_ = nullptr;  // grpc_, for the owner thread
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  tablet::SessionSocket* sock_ = nullptr;  // socket_, for the owner thread without the lock
  tablet::SessionResponse response_;
  int64_t next_id_ = 1;
  bool broken_ = false;
  bool outcome_unknown_ = false;
  bool used_ = false;
};

class StreamPool {
 public:
  explicit StreamPool(int max_idle_per_tablet = 64) : max_idle_(max_idle_per_tablet) {}
  ~StreamPool();

  // An idle stream to the tablet, or a new one.
  std::unique_ptr<TabletStream> Acquire(const discovery::TabletHealth& tablet);
  // Returns a stream for reuse; a broken one (or one over the idle limit) is closed.
  void Release(std::unique_ptr<TabletStream> stream);
  // Closes the idle streams of one tablet (it went away or changed address).
  void Drop(const std::string& key);

  int64_t opened() const;
  int64_t idle() const;

 private:
  const int max_idle_;
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  absl::flat_hash_map<std::string, std::deque<std::unique_ptr<TabletStream>>> idle_
      ABSL_GUARDED_BY(mu_);
  int64_t opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::gate
