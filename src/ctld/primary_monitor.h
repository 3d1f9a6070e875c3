#pragma once

// PrimaryMonitor tells whether one primary tablet answers (DESIGN §4
// "auto-failover"). It keeps a StreamHealth stream open to the tablet and
// pings it whenever the stream is down or has been quiet for ping_interval,
// so a dead process (the stream breaks) and a hung one (pings time out) are
// both noticed. The tablet is found through its record, re-read after every
// failure, so a primary that restarted on another port is found again.
//
// "Down" starts at the first failed contact (a broken stream, a failed or
// timed-out ping, a tablet answering with another alias) and ends at the next
// health message or successful ping. FailoverController acts once a primary
// has been down for --failover-after.
//
// Lifecycle: construct, Start(), Stop() (idempotent; the destructor calls
// it). Owned by the FailoverController. Thread-safe: two threads of its own
// (stream, pings); Health() may be called from any thread.

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctl/shard_tablets.h"
#include "grpcpp/client_context.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::ctld {

struct PrimaryMonitorOptions {
  absl::Duration ping_interval = absl::Milliseconds(300);
  absl::Duration ping_timeout = absl::Milliseconds(500);
  // Pause between attempts to reopen a broken stream (doubles up to 1s).
  absl::Duration reconnect_pause = absl::Milliseconds(100);
  ctl::TabletDialer dial;  // null: ctl::DialTablet
};

// What the monitor knows about its primary at one moment.
struct PrimaryHealth {
  topo::TabletAlias alias;
  bool stream_open = false;                 // a health message came on the current stream
  absl::Time last_contact = absl::InfinitePast();  // last health message or good ping
  std::optional<absl::Time> down_since;     // first failed contact since the last good one
  std::string last_error;
  std::string address;
  topodata::TabletType type = topodata::UNKNOWN;  // from the last health message
  bool serving = false;
  int64_t term = 0;
  int64_t messages = 0;  // health messages received

  // How long it has been down at now; zero while up.
  absl::Duration DownFor(absl::Time now) const {
    return down_since.has_value() ? now - *down_since : absl::ZeroDuration();
  }
};

class PrimaryMonitor {
 public:
  // ts is borrowed and must outlive the monitor.
  PrimaryMonitor(topo::Server* ts, topo::TabletAlias alias, PrimaryMonitorOptions options);
  ~PrimaryMonitor();
  PrimaryMonitor(const PrimaryMonitor&) = delete;
  PrimaryMonitor& operator=(const PrimaryMonitor&) = delete;

  void Start();
  // Cancels the stream and joins the threads.
  void Stop();

  const topo::TabletAlias& alias() const { return alias_; }
  PrimaryHealth Health() const;

 private:
  void StreamLoop();
  void PingLoop();
  // The client for the tablet; with refresh, re-reads its record first.
  absl::StatusOr<std::shared_ptr<tablet::TabletClient>> Client(bool refresh);
  void MarkUp(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkDown(absl::Time attempt_start, const std::string& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits up to d or until Stop; true if stopping.
  bool WaitStop(absl::Duration d);

  topo::Server* const ts_;
  const topo::TabletAlias alias_;
  const PrimaryMonitorOptions options_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool ping_now_ ABSL_GUARDED_BY(mu_) = false;  // the stream broke: ping at once
  PrimaryHealth health_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<tablet::TabletClient> client_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(mu_) = nullptr;  // owned by StreamLoop
  std::thread stream_thread_;
  std::thread ping_thread_;
};

}  // namespace shale::ctld
