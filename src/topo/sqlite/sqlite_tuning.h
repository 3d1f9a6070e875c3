#pragma once

// Tunables of the sqlite topology backend. The defaults are what production
// uses; tests and benchmarks pass others to SqliteConn::Open.

#include <cstdint>

#include "absl/time/time.h"

namespace shale::topo {

struct SqliteTuning {
  // How often the watch poller (and a waiting Lock) checks PRAGMA
  // data_version for commits by other connections: the floor of watch latency.
  absl::Duration poll_interval = absl::Milliseconds(2);
  // How long a writer waits for another process's write transaction before
  // the operation fails with Unavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // The change log keeps at least this many rows; a watcher that falls
  // further behind is sent current values instead (see README.md).
  int64_t keep_changes = 10000;
  // The log is trimmed when a change seq is a multiple of this.
  int64_t trim_every = 256;
  // A watch poller that keeps failing this long reports kError to its watches.
  absl::Duration error_grace = absl::Seconds(1);
};

}  // namespace shale::topo
