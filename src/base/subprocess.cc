#include "base/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace shale {
namespace {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// argv0 itself if it has a slash, else its first executable match in $PATH.
std::string ResolveProgram(const std::string& argv0) {
  if (argv0.find('/') != std::string::npos) return argv0;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", argv0);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

// The parent's environment with `additions` applied, as NAME=VALUE strings.
std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& additions) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    vars[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [name, value] : additions) vars[name] = value;
  std::vector<std::string> result;
  for (const auto& [name, value] : vars) result.push_back(absl::StrCat(name, "=", value));
  return result;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(const char* program, char** argv, char** envp, int stdin_fd,
                            int stdout_fd, int error_fd, bool die_with_parent, pid_t parent) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
  }
  if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0) {
    int err = errno;
    (void)!write(error_fd, &err, sizeof(err));
    _exit(127);
  }
  execve(program, argv, envp);
  int err = errno;
  (void)!write(error_fd, &err, sizeof(err));
  _exit(127);
}

}  // namespace

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  CloseFd(&stdin_fd_);
  CloseFd(&stdout_fd_);
  CloseFd(&pidfd_);
}

void Subprocess::CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

absl::Status Subprocess::Start(const std::vector<std::string>& argv,
                               const SubprocessOptions& options) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("empty argv");
  if (pid_ > 0) return absl::FailedPreconditionError("subprocess already started");
  const std::string program = ResolveProgram(argv[0]);
  if (program.empty()) return absl::NotFoundError(absl::StrCat(argv[0], " not found in $PATH"));

  // Everything the child needs is prepared before fork.
  std::vector<std::string> args = argv;
  std::vector<char*> c_args = CStrings(args);
  std::vector<std::string> env = BuildEnv(options.env);
  std::vector<char*> c_env = CStrings(env);

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    close(in_pipe[0]);
    close(in_pipe[1]);
    return ErrnoStatus("pipe", err);
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) close(fd);
    return ErrnoStatus("pipe", err);
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    ExecChild(program.c_str(), c_args.data(), c_env.data(), in_pipe[0], out_pipe[1], err_pipe[1],
              options.kill_when_parent_dies, parent);
  }
  const int fork_errno = errno;
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return ErrnoStatus("fork", fork_errno);
  }
  pid_ = pid;
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels

  // The error pipe closes on a successful exec, or carries exec's errno.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(err_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(err_pipe[0]);
  if (n == sizeof(exec_errno)) {
    Reap(/*block=*/true);
    CloseFd(&stdin_fd_);
    CloseFd(&stdout_fd_);
    CloseFd(&pidfd_);
    pid_ = -1;
    reaped_ = false;
    return absl::NotFoundError(absl::StrCat("cannot execute ", program, ": ", strerror(exec_errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Subprocess::ReadLine(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("subprocess not started");
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) return absl::OutOfRangeError("end of the subprocess's output");
      return std::exchange(buffer_, "");
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line from pid ", pid_, " within ", absl::FormatDuration(timeout)));
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoStatus("read", errno);
    }
    if (n == 0) {
      eof_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
}

absl::Status Subprocess::WriteLine(absl::string_view line) {
  if (stdin_fd_ < 0) return absl::FailedPreconditionError("subprocess stdin is closed");
  const std::string data = absl::StrCat(line, "\n");
  // Block SIGPIPE in this thread so that a closed pipe shows up as EPIPE; a
  // SIGPIPE left pending by our write is consumed before unblocking.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  size_t written = 0;
  int err = 0;
  while (written < data.size()) {
    ssize_t n = write(stdin_fd_, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (err == EPIPE && !was_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (err == EPIPE) return absl::FailedPreconditionError("subprocess closed its stdin");
  if (err != 0) return ErrnoStatus("write", err);
  return absl::OkStatus();
}

absl::Status Subprocess::CloseStdin() {
  if (stdin_fd_ < 0) return absl::FailedPreconditionError("subprocess stdin is already closed");
  CloseFd(&stdin_fd_);
  return absl::OkStatus();
}

absl::Status Subprocess::Kill(int signal) {
  if (pid_ <= 0 || reaped_) return absl::FailedPreconditionError("no running subprocess");
  if (kill(pid_, signal) != 0) return ErrnoStatus("kill", errno);
  return absl::OkStatus();
}

bool Subprocess::Reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  reaped_ = true;
  exit_status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return true;
}

absl::StatusOr<int> Subprocess::Wait() {
  if (pid_ <= 0) return absl::FailedPreconditionError("subprocess not started");
  Reap(/*block=*/true);
  return exit_status_;
}

absl::StatusOr<int> Subprocess::WaitFor(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("subprocess not started");
  const absl::Time deadline = absl::Now() + timeout;
  while (!Reap(/*block=*/false)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running after ",
                                                      absl::FormatDuration(timeout)));
    }
    if (pidfd_ >= 0) {
      pollfd pfd{pidfd_, POLLIN, 0};
      poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    } else {
      // Kernels without pidfd_open (< 5.3): check again shortly.
      absl::SleepFor(std::min(left, absl::Milliseconds(5)));
    }
  }
  return exit_status_;
}

std::string FindBinary(absl::string_view name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (const char* bin_dir = getenv("SHALE_BIN_DIR"); bin_dir != nullptr && *bin_dir != '\0') {
    dirs.emplace_back(bin_dir);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    dirs.push_back(dir);
    for (fs::path d = dir; !d.empty(); d = d.parent_path()) {
      dirs.push_back(d / "bin");
      if (d == d.root_path()) break;
    }
  }
  for (const fs::path& dir : dirs) {
    std::string candidate = (dir / std::string(name)).string();
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

}  // namespace shale
