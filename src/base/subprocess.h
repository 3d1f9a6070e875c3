#pragma once

// Subprocess runs a child program for multi-process tests and benchmarks,
// talking to it line by line over its stdin and stdout (stderr is inherited,
// so the child's logs show up in the test output).
//
//   Subprocess helper;
//   RETURN_IF_ERROR(helper.Start({FindBinary("topo_conformance_helper"), "lock", addr, "/ks"}));
//   ASSIGN_OR_RETURN(std::string line, helper.ReadLine(absl::Seconds(10)));  // "LOCKED"
//   RETURN_IF_ERROR(helper.CloseStdin());
//   ASSIGN_OR_RETURN(int exit_status, helper.Wait());
//
// Lifecycle: default-constructed idle; Start() once; the child is reaped by
// Wait()/WaitFor(). The destructor SIGKILLs and reaps a child that is still
// running, so a failing test never leaves a process behind. By default the
// child also gets SIGKILL if the thread that started it dies
// (PR_SET_PDEATHSIG), which covers a crashing test process.
//
// Not thread-safe: use one Subprocess from one thread at a time. The owner
// owns the child process.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shale {

struct SubprocessOptions {
  // Variables added to the parent's environment (overriding same-named ones).
  std::vector<std::pair<std::string, std::string>> env;
  // Send the child SIGKILL when the thread that called Start() exits. Turn it
  // off when starting a long-lived child from a short-lived thread.
  bool kill_when_parent_dies = true;
};

class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] (looked up in $PATH when it has no slash) with arguments
  // argv. InvalidArgument for an empty argv; FailedPrecondition if already
  // started; NotFound if the program does not exist or cannot be executed;
  // Internal if a pipe or fork fails.
  absl::Status Start(const std::vector<std::string>& argv, const SubprocessOptions& options = {});

  // The child's process id, or -1 before Start().
  pid_t pid() const { return pid_; }

  // The next line the child wrote to stdout, without its '\n' (a last line
  // without '\n' is returned as is at EOF). DeadlineExceeded if no full line
  // arrives within timeout; OutOfRange at EOF; FailedPrecondition before Start().
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

  // Writes line + '\n' to the child's stdin. FailedPrecondition if stdin is
  // closed or the child stopped reading (no SIGPIPE is raised in the caller).
  absl::Status WriteLine(absl::string_view line);

  // Closes the child's stdin so that it reads EOF. FailedPrecondition if already closed.
  absl::Status CloseStdin();

  // Sends signal to the child. FailedPrecondition if it was already reaped or never started.
  absl::Status Kill(int signal);

  // Waits for the child to exit and reaps it. Returns its exit code, or
  // 128 + the signal number if a signal ended it (as shells report it).
  // Repeated calls return the same value. FailedPrecondition before Start().
  absl::StatusOr<int> Wait();

  // Like Wait, but DeadlineExceeded if the child is still running after timeout.
  absl::StatusOr<int> WaitFor(absl::Duration timeout);

 private:
  // Reaps the child if it has exited (or blocks when `block`); true once reaped.
  bool Reap(bool block);
  void CloseFd(int* fd);

  pid_t pid_ = -1;
  int pidfd_ = -1;      // readable once the child exits; -1 if unsupported
  int stdin_fd_ = -1;   // write end of the child's stdin
  int stdout_fd_ = -1;  // read end of the child's stdout
  std::string buffer_;  // read from stdout, not yet returned
  bool eof_ = false;
  bool reaped_ = false;
  int exit_status_ = 0;
};

// The path of a program built by this project: the first executable `name`
// found in $SHALE_BIN_DIR, next to the running program (/proc/self/exe), or in
// the bin/ directory of the running program's directory or of any of its
// ancestors (so that <build>/bin is found from <build>/src/topo/...). Empty if
// none is found.
std::string FindBinary(absl::string_view name);

}  // namespace shale
