#pragma once

// Starting, watching and stopping the detached processes of a local cluster
// (`shale local`), and the checks around them: is a port free, is a recorded
// pid still the process we started. The processes outlive the command that
// started them: each runs in its own session (setsid) with stdin from
// /dev/null and stdout and stderr appended to its log file. Free functions;
// thread-compatible (they touch only the processes and files they are given).

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shale::local {

// Starts argv detached (argv[0] looked up in $PATH when it has no slash),
// logging to log_path (created, or appended to). Returns its pid once it has
// exec'd. NotFound when argv[0] cannot be executed; Internal when fork or the
// log file fails.
absl::StatusOr<pid_t> StartDetached(const std::vector<std::string>& argv,
                                    const std::string& log_path);

// True if pid runs (not a zombie) with exactly the command line argv, so a
// pid reused by another program does not count.
bool IsAlive(pid_t pid, const std::vector<std::string>& argv);

// One process to stop, for StopAll.
struct StopTarget {
  std::string name;
  pid_t pid = 0;
  std::vector<std::string> argv;  // as started, for IsAlive
};

// Sends SIGTERM to every target still alive (IsAlive), waits
// until they have all exited or timeout passes, then SIGKILLs the rest and
// waits for them too. say receives one line per stopped process ("stopped
// gate (pid 123) in 0.2s", "... did not stop within 20s: killed (SIGKILL)").
// Returns the names that are still alive at the end (normally none).
std::vector<std::string> StopAll(const std::vector<StopTarget>& targets, absl::Duration timeout,
                                 const std::function<void(const std::string&)>& say);

// OK if nothing listens on 127.0.0.1:port (a test bind succeeds);
// otherwise the errno's message (FailedPrecondition).
absl::Status CheckPortFree(int port);

// An exclusive lock on DIR/local.lock held by this object, so two `shale
// local` commands never act on one data dir at once. Released on
// destruction (or when the process exits).
class DirLock {
 public:
  // FailedPrecondition when another command holds it; Internal on I/O errors.
  static absl::StatusOr<std::unique_ptr<DirLock>> Acquire(const std::string& data_dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace shale::local
