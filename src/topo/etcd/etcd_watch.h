#pragma once

// Internal to topo/etcd: one Watch or WatchDir over etcd's Watch service.
//
// Revisions make the watch exact. Conn::Watch reads the current state with a
// Range (at revision R) and hands it to EtcdWatch, whose thread then opens a
// Watch stream from R+1: nothing between the read and the stream is missed or
// reported twice. Every event advances last_rev_ (the newest revision
// delivered).
//
// When the stream breaks (server stopped, network gone) the watch:
//   1. pushes one kError(Unavailable) event;
//   2. retries with backoff (100ms growing to 2s), failing over to the next
//      endpoint of the address;
//   3. once a server answers, reads the current state (revision R') and
//      resumes the stream from last_rev_+1, so every change made meanwhile
//      is delivered in order. Values that did not change meanwhile are
//      reported again with kChanged (and a still-missing watched node with
//      kDeleted), so the watcher sees the current value after every outage;
//   4. if last_rev_+1 was compacted away, it falls back to the state at R':
//      kDeleted for every path that disappeared, kChanged for every value,
//      and resumes from R'+1.
//
// Lifecycle: constructed running (its thread starts at once); the destructor
// cancels the stream, joins the thread, and drops undelivered events, so the
// callback is never called after it returns. Owned by the caller of Watch /
// WatchDir as a WatchHandle; holds the EtcdClient alive. Thread-safe
// destruction from any thread but the callback's own.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "base/backoff.h"
#include "etcd/etcd_rpc.pb.h"
#include "topo/conn.h"
#include "topo/etcd/etcd_client.h"
#include "topo/etcd/etcd_keys.h"
#include "topo/watch_queue.h"

namespace shale::topo::etcd_internal {

class EtcdWatch : public WatchHandle {
 public:
  // What to watch: one key (range_end empty) or a key range (a directory).
  struct Target {
    std::string path;  // the watched path or directory, for kError events
    std::string key;
    std::string range_end;
    bool is_dir() const { return !range_end.empty(); }
  };

  // `initial` is the Range of target that the caller already returned to the
  // user; the watch reports every change after its revision.
  EtcdWatch(std::shared_ptr<EtcdClient> client, EtcdKeys keys, Target target,
            const etcdserverpb::RangeResponse& initial, WatchCallback cb);
  ~EtcdWatch() override;
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

 private:
  // The watch thread: streams, and reconnects after a break, until cancelled.
  void Run();
  // One stream's life: opens it from last_rev_+1 (first reading the current
  // state when `reconnect`), delivers its events, and returns why it ended.
  absl::Status Stream(bool reconnect);
  absl::StatusOr<etcdserverpb::RangeResponse> ReadCurrent();
  bool SendCreate(EtcdClient::WatchStream* stream);
  void Deliver(const mvccpb::Event& event);
  // After a resumed stream was created: re-announces what did not change.
  void Reannounce(const etcdserverpb::RangeResponse& current);
  // After a compaction: reports the difference to `current` and restarts from it.
  void ResetTo(const etcdserverpb::RangeResponse& current);

  const std::shared_ptr<EtcdClient> client_;
  const EtcdKeys keys_;
  const Target target_;
  CallCanceller canceller_;  // stops the thread: cancels its call, ends its sleeps
  WatchQueue queue_;         // declared before thread_: outlives it

  // Touched by the watch thread only (and the constructor before it starts).
  int64_t last_rev_ = 0;           // newest revision reflected in what was delivered
  std::set<std::string> known_;    // keys the watcher believes hold a value
  bool error_reported_ = false;    // a kError went out since the last good stream
  Backoff backoff_{absl::Milliseconds(100), absl::Seconds(2)};  // between reconnects

  std::thread thread_;
};

}  // namespace shale::topo::etcd_internal
