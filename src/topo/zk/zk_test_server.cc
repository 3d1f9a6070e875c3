#include "topo/zk/zk_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "topo/zk/zk_server_command.h"

namespace shale::topo {
namespace {

constexpr int kTickMs = 100;

std::string TempRoot() {
  const char* tmp = getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

void PutInt32(std::string* out, int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
void PutInt64(std::string* out, int64_t v) {
  PutInt32(out, static_cast<int32_t>(v >> 32));
  PutInt32(out, static_cast<int32_t>(v));
}

// True if a server on 127.0.0.1:port serves clients. It speaks the client
// protocol: a ConnectRequest gets a ConnectResponse with a session id only
// once the server runs (four-letter words answer earlier, and make the server
// log errors while it loads its data). The probe's session is closed again.
bool Serves(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{0, 200 * 1000};  // a server still starting may not answer at all
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string request;
  PutInt32(&request, 0);                  // protocolVersion
  PutInt64(&request, 0);                  // lastZxidSeen
  PutInt32(&request, 2 * kTickMs);        // timeOut (ms)
  PutInt64(&request, 0);                  // sessionId: a new session
  PutInt32(&request, 16);                 // passwd
  request.append(16, '\0');
  request.push_back('\0');                // readOnly
  std::string framed;
  PutInt32(&framed, static_cast<int32_t>(request.size()));
  framed += request;
  bool serves = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size())) {
    // length(4) protocolVersion(4) timeOut(4) sessionId(8): a session id means it serves.
    unsigned char reply[20];
    if (recv(fd, reply, sizeof(reply), MSG_WAITALL) == sizeof(reply)) {
      int64_t session = 0;
      for (int i = 12; i < 20; ++i) session = (session << 8) | reply[i];
      serves = session != 0;
    }
    if (serves) {
      std::string close_session;
      PutInt32(&close_session, 8);
      PutInt32(&close_session, 1);    // xid
      PutInt32(&close_session, -11);  // OpCode.closeSession
      send(fd, close_session.data(), close_session.size(), MSG_NOSIGNAL);
    }
  }
  close(fd);
  return serves;
}

}  // namespace

absl::StatusOr<int> ZkTestServer::FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError("could not bind a loopback port");
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<std::unique_ptr<ZkTestServer>> ZkTestServer::Start(absl::Duration start_timeout) {
  std::unique_ptr<ZkTestServer> server(new ZkTestServer());
  std::string pattern = TempRoot() + "/shale_zk_test_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = pattern;
  absl::StatusOr<int> port = FreePort();
  if (!port.ok()) return port.status();
  server->port_ = *port;
  std::ofstream cfg(server->dir_ + "/zoo.cfg");
  cfg << "tickTime=" << kTickMs << "\n"
      << "initLimit=10\nsyncLimit=5\n"
      << "dataDir=" << server->dir_ << "/data\n"
      << "clientPort=" << server->port_ << "\n"
      << "clientPortAddress=127.0.0.1\n"
      << "admin.enableServer=false\n"
      << "4lw.commands.whitelist=srvr,stat,ruok,cons\n"
      << "minSessionTimeout=" << 2 * kTickMs << "\n"
      << "maxSessionTimeout=60000\n"
      << "forceSync=no\n"
      << "maxClientCnxns=0\n";
  cfg.close();
  if (!cfg) return absl::InternalError(absl::StrCat("cannot write ", server->dir_, "/zoo.cfg"));
  if (absl::Status s = server->Launch(start_timeout); !s.ok()) return s;
  return server;
}

ZkTestServer::~ZkTestServer() {
  Stop().IgnoreError();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

absl::Status ZkTestServer::Launch(absl::Duration start_timeout) {
  absl::StatusOr<std::vector<std::string>> argv = ZkServerArgv(dir_ + "/zoo.cfg");
  if (!argv.ok()) return argv.status();
  auto process = std::make_unique<Subprocess>();
  if (absl::Status s = process->Start(*argv); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + start_timeout;
  while (!Serves(port_)) {
    if (process->WaitFor(absl::ZeroDuration()).ok()) {
      return absl::InternalError(absl::StrCat("ZooKeeper on port ", port_, " exited at start (",
                                              *process->Wait(), "); see its stderr above"));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "ZooKeeper on port ", port_, " did not answer within ", absl::FormatDuration(start_timeout)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
  }
  process_ = std::move(process);
  return absl::OkStatus();
}

absl::Status ZkTestServer::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  std::unique_ptr<Subprocess> process = std::move(process_);
  process->Kill(SIGKILL).IgnoreError();
  absl::StatusOr<int> status = process->WaitFor(absl::Seconds(30));
  return status.ok() ? absl::OkStatus() : status.status();
}

absl::Status ZkTestServer::Restart(absl::Duration start_timeout) {
  if (process_ != nullptr) return absl::FailedPreconditionError("ZooKeeper is running");
  return Launch(start_timeout);
}

std::string ZkTestServer::hosts() const { return absl::StrCat("127.0.0.1:", port_); }

std::string ZkTestServer::Address(absl::string_view root) const {
  return absl::StrCat("zk://", hosts(), root);
}

}  // namespace shale::topo
