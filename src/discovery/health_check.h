#pragma once

// HealthCheck keeps one Health.StreamHealth stream open to every known tablet
// and maintains the HealthCache from what they say (DESIGN §5, "Health").
//
// Tablets come and go through AddTablet / ReplaceTablet / RemoveTablet (the
// TopologyWatchers call them; tests may too). For each tablet it keeps one
// connection (TabletHealth::conn, shared with the gateway's query path) and
// one stream on the gRPC callback API, so hundreds of tablets need no thread
// each. A tablet is not serving until its first health message; then it
// serves as it reports. It is marked not serving when:
//   - its stream fails or ends: reconnect after a backoff (base/backoff.h);
//   - no message came within Options::health_timeout: the stream is cancelled
//     and reopened;
//   - it reports another alias than its record's (a reused host:port): the
//     stream is closed and stays closed until the record changes.
// Every change builds a new TabletHealth snapshot, updates the HealthCache and
// is handed to the subscribers on the HealthCheck's own thread.
//
// Lifecycle: construct, Start(), use, Stop() (idempotent; the destructor calls
// it): Stop cancels every stream and waits for their ends, and joins the
// thread. Owned by the gateway (or test); TopologyWatchers borrow it.
// Threads: one of its own (subscriber calls, reconnects, timeouts); gRPC
// callback threads for the streams; every public method may be called from
// any thread, except that a subscriber callback must not call Stop.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/backoff.h"
#include "discovery/health_cache.h"
#include "discovery/health_stream.h"
#include "discovery/subscriber_list.h"
#include "discovery/tablet_health.h"

namespace shale::discovery {

// Makes the connection to the tablet at address "host:port". Tests inject one
// to count connections.
using TabletConnector =
    std::function<std::shared_ptr<tablet::TabletClient>(const std::string& address)>;

struct HealthCheckOptions {
  // No health message for this long marks a tablet not serving. The tablet
  // sends at least every --health-interval (5 s): 3 missed intervals.
  absl::Duration health_timeout = absl::Seconds(15);
  // Reconnect delays after a stream error: doubling from initial up to max.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
  // After this many attempts in a row that got no message, each further
  // attempt uses a new connection: a gRPC channel whose tablet was down backs
  // off its own reconnects up to 2 minutes, which would hide a tablet
  // restarted on the same port. 0: always the same connection.
  int fresh_connection_after = 3;
  TabletConnector connect;  // null: tablet::TabletClient::Connect
};

// Counters for /metrics.
struct HealthCheckStats {
  int64_t tablets = 0;         // known now
  int64_t streams_open = 0;    // streams that have received a message and are still up
  int64_t stream_starts = 0;   // streams started, in total
  int64_t stream_errors = 0;   // streams that ended or timed out (not counting our own closes)
  int64_t health_updates = 0;  // health messages received
  int64_t alias_mismatches = 0;
  int64_t connections = 0;     // connections made with Options::connect
};

class HealthCheck : private HealthStreamSink {
 public:
  explicit HealthCheck(HealthCheckOptions options = {});
  ~HealthCheck() override;
  HealthCheck(const HealthCheck&) = delete;
  HealthCheck& operator=(const HealthCheck&) = delete;

  void Start();
  void Stop();

  // Starts watching a tablet. A record already known is handled as
  // ReplaceTablet. InvalidArgument for an incomplete record (IsCompleteRecord).
  absl::Status AddTablet(const topodata::Tablet& record);
  // The tablet's record changed. A new address (or a tablet closed for an
  // alias mismatch) reconnects; any other change keeps the stream. Unknown
  // tablets are added. InvalidArgument for an incomplete record.
  absl::Status ReplaceTablet(const topodata::Tablet& record);
  // Forgets the tablet and closes its stream. Unknown aliases are ignored.
  void RemoveTablet(const topo::TabletAlias& alias);

  // Serving tablets of (keyspace, shard, type), from the HealthCache: a
  // shared_ptr copy under a short lock. Never null.
  TabletList GetHealthy(absl::string_view keyspace, absl::string_view shard,
                        topodata::TabletType type) const;
  // The serving PRIMARY of the shard with the newest term ever claimed for
  // it, wherever it is. Unavailable naming the shard and what is known when
  // there is none (e.g. the newest primary is down and an older one still
  // claims PRIMARY).
  absl::StatusOr<TabletHealthPtr> GetPrimary(absl::string_view keyspace,
                                             absl::string_view shard) const;
  // Every known tablet, sorted by alias.
  std::vector<TabletHealthPtr> GetAll() const;
  // The tablet's current snapshot, or null.
  TabletHealthPtr Get(const topo::TabletAlias& alias) const;
  const HealthCache& cache() const { return cache_; }

  // Calls cb with the new snapshot on every change of a tablet's health
  // (each health message, stream error, timeout, record change; on removal a
  // last snapshot that is not serving), on the HealthCheck's thread, one at a
  // time. Returns an id for Unsubscribe.
  int Subscribe(std::function<void(const TabletHealthPtr&)> cb);
  // After it returns cb is not called again (see SubscriberList).
  void Unsubscribe(int id);

  // Waits until at least n tablets serve (keyspace, shard, type). For tests
  // and startup. DeadlineExceeded naming the target and what is seen.
  absl::Status WaitForTablets(absl::string_view keyspace, absl::string_view shard,
                              topodata::TabletType type, int n, absl::Duration timeout) const;

  HealthCheckStats Stats() const;

 private:
  struct Entry;

  // HealthStreamSink, on gRPC threads.
  void OnHealthMessage(uint64_t stream_id, const tablet::StreamHealthResponse& msg) override;
  void OnStreamDone(std::shared_ptr<HealthStream> stream, const grpc::Status& status) override;

  std::unique_ptr<Entry> NewEntry(const topodata::Tablet& record, std::string address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds e's next snapshot from its current one changed by fn, and
  // publishes it to the cache and the subscribers.
  void Publish(Entry& e, const std::function<void(TabletHealth&)>& fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyMessage(Entry& e, const tablet::StreamHealthResponse& msg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens a new stream for e (started by FlushStreams).
  void OpenStream(Entry& e, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cancels e's stream, if any; its end is then ignored.
  void CloseStream(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // e's stream is gone (ended, timed out): not serving, and with retry a
  // reconnect after the backoff.
  void StreamDown(Entry& e, const std::string& error, bool retry, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the thread for a timer due at t.
  void ScheduleTimer(absl::Time t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<tablet::TabletClient> Connect(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void Loop();
  // Reconnects due tablets and closes quiet streams; returns the next due time.
  absl::Time RunTimers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs the stream starts and cancels queued under mu_. gRPC calls never run
  // under mu_: every method that opens or closes streams calls this after
  // releasing it.
  void FlushStreams() ABSL_LOCKS_EXCLUDED(mu_);

  const HealthCheckOptions options_;
  HealthCache cache_;
  SubscriberList<TabletHealthPtr> subscribers_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::map<topo::TabletAlias, std::unique_ptr<Entry>> tablets_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, topo::TabletAlias> streams_ ABSL_GUARDED_BY(mu_);  // open stream -> tablet
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t live_streams_ ABSL_GUARDED_BY(mu_) = 0;  // made, OnStreamDone not yet returned
  struct StreamCall {
    std::shared_ptr<HealthStream> stream;
    bool start = false;  // else cancel
  };
  std::vector<StreamCall> stream_calls_ ABSL_GUARDED_BY(mu_);  // for FlushStreams
  // Streams done with, destroyed on the HealthCheck's thread (or by Stop),
  // never on a gRPC thread (see HealthStreamSink::OnStreamDone).
  std::vector<std::shared_ptr<HealthStream>> graveyard_ ABSL_GUARDED_BY(mu_);
  std::deque<TabletHealthPtr> notifications_ ABSL_GUARDED_BY(mu_);
  absl::Time next_timer_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool timers_changed_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  HealthCheckStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::discovery
