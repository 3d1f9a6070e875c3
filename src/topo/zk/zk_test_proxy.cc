#include "topo/zk/zk_test_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shale::topo {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Writes all of buf; false on error.
bool WriteAll(int fd, const char* buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    buf += w;
    n -= w;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZkTestProxy>> ZkTestProxy::Start(int target_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  int wake[2];
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(wake, O_CLOEXEC) != 0) {
    close(fd);
    return absl::InternalError("could not listen on a loopback port");
  }
  std::unique_ptr<ZkTestProxy> proxy(
      new ZkTestProxy(fd, ntohs(addr.sin_port), target_port, wake[0], wake[1]));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

ZkTestProxy::ZkTestProxy(int listen_fd, int port, int target_port, int wake_read,
                         int wake_write)
    : listen_fd_(listen_fd), port_(port), target_port_(target_port), wake_read_(wake_read),
      wake_write_(wake_write) {}

ZkTestProxy::~ZkTestProxy() {
  std::vector<std::thread> forwarders;
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  char byte = 0;
  (void)!write(wake_write_, &byte, 1);
  acceptor_.join();
  {
    absl::MutexLock l(&mu_);
    forwarders.swap(forwarders_);
  }
  for (std::thread& t : forwarders) t.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

void ZkTestProxy::Partition() {
  absl::MutexLock l(&mu_);
  partitioned_ = true;
  for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
}

void ZkTestProxy::Heal() {
  absl::MutexLock l(&mu_);
  partitioned_ = false;
}

void ZkTestProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in target = Loopback(target_port_);
    absl::MutexLock l(&mu_);
    if (stopping_ || partitioned_ || server < 0 ||
        connect(server, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) {
      close(client);
      if (server >= 0) close(server);
      continue;
    }
    open_fds_.insert(client);
    open_fds_.insert(server);
    forwarders_.emplace_back([this, client, server] { Forward(client, server); });
  }
}

void ZkTestProxy::Forward(int client_fd, int server_fd) {
  char buf[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = recv(fds[i].fd, buf, sizeof(buf), 0);
      done = n <= 0 || !WriteAll(fds[1 - i].fd, buf, n);
    }
    if (done) break;
  }
  absl::MutexLock l(&mu_);
  shutdown(client_fd, SHUT_RDWR);
  shutdown(server_fd, SHUT_RDWR);
  open_fds_.erase(client_fd);
  open_fds_.erase(server_fd);
  close(client_fd);
  close(server_fd);
}

}  // namespace shale::topo
