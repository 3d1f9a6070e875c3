#include "tablet/session_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <thread>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/fiber/io_wait.h"
#include "spdlog/spdlog.h"
#include "tablet/client/grpc_status.h"
#include "tablet/client/session_socket.h"
#include "tablet/session_handler.h"

namespace shale::tablet {

absl::Status SessionServer::Start(const std::string& bind_address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string where = absl::StrCat(bind_address, ":", port);
  if (int rc = ::getaddrinfo(bind_address.empty() ? nullptr : bind_address.c_str(),
                             service.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for sessions on ", where, ": ", ::gai_strerror(rc)));
  }
  std::string error = "no address";
  for (const addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for sessions on ", where, ": ", error));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  // Half the CPUs: the quick reads a worker runs are short, and fewer
  // workers find more requests waiting per wake-up (the gateway, the other
  // tablets and the clients need the rest). On 2 CPUs one worker took the
  // tablets' CPU per select from 32 to 20 us (docs/bench.md).
  const int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  fibers_ = std::make_unique<fiber::Scheduler>(
      fiber::SchedulerOptions{.threads = threads, .name = "session"});
  // The same sessions for clients on this machine, without TCP/IP
  // (SessionSocketName). Not fatal: such clients fall back to TCP.
  const int local = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  const socklen_t sun_len = FillSessionSocketAddress(port_, &sun);
  if (local >= 0 && ::bind(local, reinterpret_cast<sockaddr*>(&sun), sun_len) == 0 &&
      ::listen(local, SOMAXCONN) == 0) {
    local_fd_ = local;
  } else {
    spdlog::warn("session port: no local socket @{} ({}); local clients use TCP",
                 SessionSocketName(port_), std::strerror(errno));
    if (local >= 0) ::close(local);
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void SessionServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the acceptor's poll
  if (local_fd_ >= 0) ::shutdown(local_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (local_fd_ >= 0) ::close(local_fd_);
  listen_fd_ = -1;
  local_fd_ = -1;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int64_t* threads) { return *threads == 0; }, &threads_));
  }
  if (fibers_ != nullptr) fibers_->Join();
}

int64_t SessionServer::connections() const {
  absl::MutexLock lock(&mu_);
  return open_fds_.size();
}

void SessionServer::AcceptLoop() {
  pollfd listeners[2] = {{listen_fd_, POLLIN, 0}, {local_fd_, POLLIN, 0}};
  const int count = local_fd_ >= 0 ? 2 : 1;
  for (;;) {
    int fd = -1;
    bool tcp = true;
    if (::poll(listeners, count, -1) > 0) {
      tcp = listeners[0].revents != 0;
      fd = ::accept4(tcp ? listen_fd_ : local_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    } else {
      errno = EINTR;
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE && errno != ENFILE) {
        spdlog::error("session port: accept failed: {}", std::strerror(errno));
        return;
      }
      continue;
    }
    if (tcp) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    open_fds_.insert(fd);
    ++threads_;
    accepted_.fetch_add(1);
    fibers_->Spawn([this, fd] { Serve(fd); });
  }
}

void SessionServer::Serve(int fd) {
  {
    SessionSocket socket(fd);
    absl::StatusOr<std::string> preface = socket.ReadRaw(kSessionPreface.size());
    if (preface.ok() && *preface == kSessionPreface) {
      std::optional<SessionHandler> handler(std::in_place, ctx_);
      SessionRequest request;
      SessionResponse response;
      for (;;) {
        absl::Status s = socket.Read(&request);
        if (!s.ok()) {
          if (!absl::IsOutOfRange(s)) spdlog::warn("session port: connection ended: {}", s.ToString());
          break;
        }
        if (SessionHandler::IsQuickRead(request)) {
          handler->Run(request, &response);
        } else {
          fiber::RunBlocking([&] { handler->Run(request, &response); });
        }
        s = socket.Write(response);
        if (absl::IsResourceExhausted(s)) {  // too large a result: answer with the error
          const int64_t id = response.id();
          response.Clear();
          response.set_id(id);
          *response.mutable_error() = ToQueryError(s);
          s = socket.Write(response);
        }
        if (!s.ok()) break;
      }
      fiber::RunBlocking([&] { handler.reset(); });  // rolls back what the session left open
    } else if (preface.ok()) {
      spdlog::warn("session port: a connection did not start with the session preface; closed");
    }
    absl::MutexLock lock(&mu_);
    open_fds_.erase(fd);
  }  // the socket closes here, after leaving open_fds_ (no shutdown of a reused fd)
  absl::MutexLock lock(&mu_);
  --threads_;
}

}  // namespace shale::tablet
