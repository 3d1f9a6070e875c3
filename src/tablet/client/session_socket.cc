#include "tablet/client/session_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/fiber/io_wait.h"

namespace shale::tablet {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// One non-blocking connect attempt to addr, waiting up to timeout.
absl::StatusOr<int> ConnectOne(const addrinfo& addr, absl::Duration timeout) {
  const int fd = ::socket(addr.ai_family, addr.ai_socktype | SOCK_CLOEXEC, addr.ai_protocol);
  if (fd < 0) return Errno("socket");
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  absl::Status status;
  if (::connect(fd, addr.ai_addr, addr.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      status = Errno("connect");
    } else {
      int err = 0;
      socklen_t len = sizeof(err);
      if (!fiber::WaitFd(fd, POLLOUT, absl::Now() + timeout)) {
        status = absl::UnavailableError(
            absl::StrCat("connect timed out after ", absl::FormatDuration(timeout)));
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        errno = err;
        status = Errno("connect");
      }
    }
  }
  if (!status.ok()) {
    ::close(fd);
    return status;
  }
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (addr.ai_family != AF_UNIX) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

// The tablet's abstract Unix socket on this machine, or an error.
absl::StatusOr<int> ConnectLocal(int port, absl::Duration timeout) {
  sockaddr_un sun{};
  const socklen_t len = FillSessionSocketAddress(port, &sun);
  addrinfo addr{};
  addr.ai_family = AF_UNIX;
  addr.ai_socktype = SOCK_STREAM;
  addr.ai_addr = reinterpret_cast<sockaddr*>(&sun);
  addr.ai_addrlen = len;
  return ConnectOne(addr, timeout);
}

}  // namespace

bool IsThisMachine(const std::string& host) {
  if (host == "localhost" || host == "::1" || absl::StartsWith(host, "127.")) return true;
  char name[256] = {};
  return ::gethostname(name, sizeof(name) - 1) == 0 && host == name;
}

SessionSocket::SessionSocket(int fd) : fd_(fd) {}

SessionSocket::~SessionSocket() { ::close(fd_); }

std::string SessionSocketName(int port) { return absl::StrCat("shale-session-", port); }

socklen_t FillSessionSocketAddress(int port, sockaddr_un* sun) {
  const std::string name = SessionSocketName(port);
  sun->sun_family = AF_UNIX;
  sun->sun_path[0] = '\0';  // abstract: no file to create or clean up
  std::memcpy(sun->sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

absl::Status SessionSocket::SendPreface() {
  size_t sent = 0;
  while (sent < kSessionPreface.size()) {
    const ssize_t n =
        ::send(fd_, kSessionPreface.data() + sent, kSessionPreface.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("send");
    sent += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SessionSocket>> SessionSocket::Connect(const std::string& host,
                                                                      int port,
                                                                      absl::Duration timeout,
                                                                      SessionRoute route) {
  if (route == SessionRoute::kLocalSocketFirst && IsThisMachine(host)) {
    // A tablet too old to listen there, or in another network namespace:
    // TCP below.
    if (absl::StatusOr<int> fd = ConnectLocal(port, timeout); fd.ok()) {
      auto socket = std::make_unique<SessionSocket>(*fd);
      if (socket->SendPreface().ok()) return socket;
    }
  }
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);  // an IPv6 literal in brackets
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  absl::Status last = absl::UnavailableError("no address");
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    absl::StatusOr<int> fd = ConnectOne(*a, timeout);
    if (!fd.ok()) {
      last = fd.status();
      continue;
    }
    auto socket = std::make_unique<SessionSocket>(*fd);
    if (absl::Status s = socket->SendPreface(); !s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("session port ", host, ":", port, ": ", s.message()));
    }
    return socket;
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to the session port ", host, ":", port, ": ", last.message()));
}

absl::Status SessionSocket::Write(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  if (size > kMaxSessionFrame) {
    return absl::ResourceExhaustedError(
        absl::StrCat("message of ", size, " bytes exceeds the ", kMaxSessionFrame, "-byte limit"));
  }
  out_.resize(4 + size);
  auto* p = reinterpret_cast<uint8_t*>(out_.data());
  p[0] = static_cast<uint8_t>(size >> 24);
  p[1] = static_cast<uint8_t>(size >> 16);
  p[2] = static_cast<uint8_t>(size >> 8);
  p[3] = static_cast<uint8_t>(size);
  message.SerializeWithCachedSizesToArray(p + 4);
  // On a fiber the socket is used without blocking and waited for through
  // its worker's epoll; on a thread it blocks.
  const int dontwait = fiber::InFiber() ? MSG_DONTWAIT : 0;
  size_t sent = 0;
  while (sent < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL | dontwait);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && dontwait != 0) {
      fiber::WaitFd(fd_, POLLOUT);
      continue;
    }
    if (n <= 0) return Errno("send");
    sent += n;
  }
  if (out_.capacity() > (1 << 20)) std::string().swap(out_);  // do not pin a huge buffer
  return absl::OkStatus();
}

absl::Status SessionSocket::Fill(size_t n) {
  const int dontwait = fiber::InFiber() ? MSG_DONTWAIT : 0;
  while (in_.size() < n) {
    char* space = in_.Space();
    const ssize_t r = ::recv(fd_, space, in_.space_size(), dontwait);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && dontwait != 0) {
      fiber::WaitFd(fd_, POLLIN);  // Shutdown() wakes it too
      continue;
    }
    if (r < 0) return Errno("recv");
    if (r == 0) {
      if (in_.size() == 0) return absl::OutOfRangeError("the peer closed the session");
      return absl::UnavailableError("the peer closed the session in the middle of a frame");
    }
    in_.Commit(r);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SessionSocket::ReadRaw(size_t n) {
  if (absl::Status s = Fill(n); !s.ok()) return s;
  std::string out(in_.data(), n);
  in_.Consume(n);
  return out;
}

absl::Status SessionSocket::Read(google::protobuf::MessageLite* message) {
  if (absl::Status s = Fill(4); !s.ok()) return s;
  const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
  const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
  if (size > kMaxSessionFrame) {
    return absl::DataLossError(
        absl::StrCat("frame of ", size, " bytes exceeds the ", kMaxSessionFrame, "-byte limit"));
  }
  if (absl::Status s = Fill(4 + size); !s.ok()) {
    return absl::IsOutOfRange(s) ? absl::UnavailableError("the peer closed mid-frame") : s;
  }
  const bool parsed = message->ParseFromArray(in_.data() + 4, static_cast<int>(size));
  in_.Consume(4 + size);
  if (!parsed) return absl::DataLossError("undecodable frame");
  return absl::OkStatus();
}

void SessionSocket::Shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace shale::tablet
