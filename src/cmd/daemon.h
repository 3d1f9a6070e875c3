#pragma once

// What every long-running `shale` process (tablet, ctld) does the same way:
// stop on SIGTERM/SIGINT, and open the topology, waiting for a server that is
// still starting.
//
// StopSignals blocks the two signals in every thread (construct it before
// starting any thread, which inherits the mask) and notifies stop() from a
// waiter thread. Owned by the command's Run function, on the main thread.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "topo/server.h"

namespace shale::cmd {

class StopSignals {
 public:
  StopSignals();
  // Joins the waiter, or leaves it behind when no signal came (the process
  // is ending after a failed start).
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Lives as long as the process: the waiter may outlive the caller's frame.
  absl::Notification& stop() { return *stop_; }

 private:
  absl::Notification* stop_;
  std::thread waiter_;
};

// Reports a failed start or run: one "error: ..." line on stderr (and the
// log), folded onto one line. Returns the exit code, 1.
int FailDaemon(const absl::Status& status);

// Opens the topology at address (creating the default sqlite file and its
// folder when create_if_missing), retrying an unreachable server until
// deadline or until stop is notified. Errors: OpenConn's; Cancelled when
// stopped meanwhile.
absl::StatusOr<std::unique_ptr<topo::Server>> OpenTopologyWithRetry(const std::string& address,
                                                                    bool create_if_missing,
                                                                    absl::Time deadline,
                                                                    const absl::Notification& stop);

}  // namespace shale::cmd
