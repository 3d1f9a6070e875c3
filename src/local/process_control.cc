#include "local/process_control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/wait_for.h"

namespace shale::local {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<pid_t> StartDetached(const std::vector<std::string>& argv,
                                    const std::string& log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command line");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];  // the child writes errno here if exec fails; EOF means it exec'd
  if (null_fd < 0 || pipe2(report, O_CLOEXEC) != 0) {
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(log_fd);
    close(null_fd);
    close(report[0]);
    close(report[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(e)));
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    setsid();
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != report[1]) close(fd);
    }
    execvp(cargv[0], cargv.data());
    int e = errno;
    (void)!write(report[1], &e, sizeof(e));
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == sizeof(child_errno)) {
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0], ": ", strerror(child_errno)));
  }
  return pid;
}

bool IsAlive(pid_t pid, const std::vector<std::string>& argv) {
  if (pid <= 0) return false;
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  const char state = stat[paren + 2];
  if (state == 'Z' || state == 'X') return false;
  std::string expected;
  for (const std::string& a : argv) {
    expected += a;
    expected.push_back('\0');
  }
  return ReadFile(absl::StrCat("/proc/", pid, "/cmdline")) == expected;
}

std::vector<std::string> StopAll(const std::vector<StopTarget>& targets, absl::Duration timeout,
                                 const std::function<void(const std::string&)>& say) {
  std::vector<StopTarget> running;
  for (const StopTarget& t : targets) {
    if (IsAlive(t.pid, t.argv) && kill(t.pid, SIGTERM) == 0) running.push_back(t);
  }
  const absl::Time start = absl::Now();
  std::vector<bool> reported(running.size(), false);
  auto report_exited = [&] {
    bool all = true;
    for (size_t i = 0; i < running.size(); ++i) {
      if (reported[i]) continue;
      if (IsAlive(running[i].pid, running[i].argv)) {
        all = false;
        continue;
      }
      reported[i] = true;
      say(absl::StrFormat("stopped %s (pid %d) in %.1fs", running[i].name, running[i].pid,
                          absl::ToDoubleSeconds(absl::Now() - start)));
    }
    return all;
  };
  if (WaitFor(timeout, report_exited)) return {};
  for (size_t i = 0; i < running.size(); ++i) {
    if (reported[i]) continue;
    say(absl::StrFormat("%s (pid %d) did not stop within %s: killing it (SIGKILL)", running[i].name,
                        running[i].pid, absl::FormatDuration(timeout)));
    kill(running[i].pid, SIGKILL);
  }
  WaitFor(absl::Seconds(10), report_exited);
  std::vector<std::string> left;
  for (size_t i = 0; i < running.size(); ++i) {
    if (!reported[i]) left.push_back(running[i].name);
  }
  return left;
}

absl::Status CheckPortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int e = errno;
  close(fd);
  if (rc != 0) return absl::FailedPreconditionError(strerror(e));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& data_dir) {
  const std::string path = data_dir + "/local.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "another `shale local` command is working on ", data_dir, " (it holds ", path, ")"));
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() { close(fd_); }

}  // namespace shale::local
