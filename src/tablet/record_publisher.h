#pragma once

// RecordPublisher writes a tablet's own record to the topology in the
// background (DESIGN §3, "a tablet is the only writer of its own record").
//
// The state manager calls Publish(record) after every change it has already
// applied in memory. Publish never blocks on the topology and never fails: a
// background thread writes the newest record with topo::Server::PutTablet and,
// when that fails (for instance during a topology outage), retries with
// exponential backoff until it succeeds. Intermediate records are skipped:
// only the newest one matters. The publisher never reads the record back.
//
// Lifecycle: construct, Start(), Publish() any number of times, Stop() (or
// the destructor) which tries a last write for at most the given grace and
// joins the thread. Owned by the tablet server; the topo::Server is borrowed
// and must outlive the publisher.
// Thread-safe: every method may be called from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::tablet {

struct RecordPublisherOptions {
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
};

// The publisher's view of the record, for GetState and /debug/status.
struct PublishStatus {
  bool in_sync = false;       // the newest record has been written
  int64_t published = 0;      // generation of the newest Publish
  int64_t written = 0;        // generation of the last successful write
  int64_t failed_attempts = 0;  // failed writes since the last success
  std::string last_error;     // the last failed write, "" after a success
};

class RecordPublisher {
 public:
  RecordPublisher(topo::Server* ts, RecordPublisherOptions options = {});
  ~RecordPublisher();
  RecordPublisher(const RecordPublisher&) = delete;
  RecordPublisher& operator=(const RecordPublisher&) = delete;

  // Starts the writer thread. Call once.
  void Start();

  // Stops the thread after one last attempt to write a pending record,
  // waiting at most grace for it. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(2));

  // Queues record as the one to write; returns at once.
  void Publish(const topodata::Tablet& record);

  PublishStatus Status() const;

  // Blocks until the newest published record is written or timeout passes;
  // true if it was written. For tests and shutdown.
  bool WaitForSync(absl::Duration timeout) const;

 private:
  void Loop();

  topo::Server* const ts_;
  const RecordPublisherOptions options_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::optional<topodata::Tablet> pending_ ABSL_GUARDED_BY(mu_);
  int64_t published_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread thread_;
};

}  // namespace shale::tablet
