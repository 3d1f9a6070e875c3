#include "topo/etcd/etcd_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/base/const_init.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/backoff.h"
#include "etcd/etcd_rpc.pb.h"
#include "topo/etcd/etcd_client.h"
#include "topo/etcd/etcd_server_command.h"

namespace shale::topo {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

// Binds n loopback sockets to port 0 at once (so the ports differ), notes
// their ports and closes them.
absl::StatusOr<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < n && status.ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      status = absl::InternalError("socket() failed");
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::InternalError("could not bind a free loopback port");
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

std::string Url(int port) { return absl::StrCat("http://127.0.0.1:", port); }

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdTestServer>> EtcdTestServer::Start(int members) {
  std::unique_ptr<EtcdTestServer> server(new EtcdTestServer());
  server->binary_ = FindEtcdBinary();
  if (server->binary_.empty()) {
    return absl::NotFoundError(
        "no etcd binary: install Debian's etcd-server (scripts/install-deps) or set "
        "SHALE_ETCD_BINARY");
  }
  const char* tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                     "/shale_etcd_XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, " failed"));
  }
  server->dir_ = pattern;
  auto ports = FreePorts(2 * members);
  if (!ports.ok()) return ports.status();
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = absl::StrCat("m", i);
    m.client_port = (*ports)[2 * i];
    m.peer_port = (*ports)[2 * i + 1];
    server->members_.push_back(std::move(m));
  }
  for (int i = 0; i < members; ++i) {
    absl::Status launched = server->Launch(i);
    if (!launched.ok()) return launched;
  }
  for (int i = 0; i < members; ++i) {
    absl::Status ready = server->WaitReady(i);
    if (!ready.ok()) return ready;
  }
  return server;
}

absl::StatusOr<EtcdTestServer*> EtcdTestServer::Shared() {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static EtcdTestServer* shared = nullptr;
  static absl::Status* failure = nullptr;
  absl::MutexLock l(&mu);
  if (shared != nullptr) return shared;
  if (failure != nullptr) return *failure;
  auto started = Start();
  if (!started.ok()) {
    failure = new absl::Status(started.status());
    return *failure;
  }
  shared = started->release();
  std::atexit([] { delete shared; });
  return shared;
}

EtcdTestServer::~EtcdTestServer() {
  for (Member& m : members_) m.process.reset();  // SIGKILL and reap
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string EtcdTestServer::endpoint(int member) const {
  return absl::StrCat("127.0.0.1:", members_[member].client_port);
}

std::string EtcdTestServer::Address(absl::string_view root) const {
  std::vector<int> all;
  for (int i = 0; i < size(); ++i) all.push_back(i);
  return AddressOf(all, root);
}

std::string EtcdTestServer::AddressOf(const std::vector<int>& members,
                                      absl::string_view root) const {
  std::vector<std::string> endpoints;
  for (int i : members) endpoints.push_back(endpoint(i));
  return absl::StrCat("etcd://", absl::StrJoin(endpoints, ","), root);
}

bool EtcdTestServer::running(int member) const { return members_[member].process != nullptr; }

std::string EtcdTestServer::InitialCluster() const {
  std::vector<std::string> parts;
  for (const Member& m : members_) parts.push_back(absl::StrCat(m.name, "=", Url(m.peer_port)));
  return absl::StrJoin(parts, ",");
}

absl::Status EtcdTestServer::Launch(int member) {
  Member& m = members_[member];
  std::vector<std::string> argv = {
      binary_,
      "--name", m.name,
      "--data-dir", absl::StrCat(dir_, "/", m.name),
      "--listen-client-urls", Url(m.client_port),
      "--advertise-client-urls", Url(m.client_port),
      "--listen-peer-urls", Url(m.peer_port),
      "--initial-advertise-peer-urls", Url(m.peer_port),
      "--initial-cluster", InitialCluster(),
      "--initial-cluster-state", "new",
      "--initial-cluster-token", absl::StrCat("shale-test-", getpid()),
      "--heartbeat-interval", "50",
      "--election-timeout", "500",
      "--logger", "zap",
      "--log-outputs", "stderr",
      "--log-level", "error",
  };
  auto process = std::make_unique<Subprocess>();
  absl::Status started = process->Start(argv);
  if (!started.ok()) return started;
  m.process = std::move(process);
  return absl::OkStatus();
}

absl::Status EtcdTestServer::WaitReady(int member) {
  EtcdClientOptions options;
  options.call_timeout = absl::Milliseconds(500);
  auto client = etcd_internal::EtcdClient::Create({endpoint(member)}, options);
  etcdserverpb::RangeRequest probe;
  probe.set_key("/");
  const absl::Time deadline = absl::Now() + kStartTimeout;
  Backoff backoff(absl::Milliseconds(10), absl::Milliseconds(100));
  absl::Status last;
  while (absl::Now() < deadline) {
    last = client->Range(probe).status();
    if (last.ok()) return absl::OkStatus();
    auto exited = members_[member].process->WaitFor(absl::ZeroDuration());
    if (exited.ok()) {
      members_[member].process.reset();
      return absl::UnavailableError(absl::StrCat("etcd member ", members_[member].name,
                                                 " exited with status ", *exited,
                                                 " before serving (see its log above)"));
    }
    absl::SleepFor(backoff.Next());  // poll interval while waiting for the condition
  }
  return absl::UnavailableError(absl::StrCat("etcd member ", members_[member].name, " at ",
                                             endpoint(member), " not serving after ",
                                             absl::FormatDuration(kStartTimeout), ": ",
                                             last.message()));
}

absl::Status EtcdTestServer::Stop(int member, int signal) {
  Member& m = members_[member];
  if (m.process == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("etcd member ", m.name, " is not running"));
  }
  (void)m.process->Kill(signal);
  if (!m.process->WaitFor(kStopTimeout).ok()) {
    (void)m.process->Kill(SIGKILL);
    (void)m.process->Wait();
  }
  m.process.reset();
  return absl::OkStatus();
}

absl::Status EtcdTestServer::Restart(int member) {
  if (members_[member].process != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("etcd member ", members_[member].name, " is already running"));
  }
  absl::Status launched = Launch(member);
  if (!launched.ok()) return launched;
  return WaitReady(member);
}

}  // namespace shale::topo
