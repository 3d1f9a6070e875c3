#include "gate/pgwire/server.h"

#include <unistd.h>

#include <list>
#include <system_error>
#include <thread>

#include <asio.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/fiber/scheduler.h"
#include "base/status_macros.h"
#include "gate/pgwire/auth_file.h"
#include "gate/pgwire/cancel_registry.h"
#include "gate/pgwire/connection.h"
#include "gate/pgwire/transport.h"

namespace shale::gate::pgwire {
namespace {

// Connections past max_connections are still read up to their startup
// packet so they can be told 53300; at most this many at once.
constexpr int kMaxRejecting = 64;
// How long Stop lets connections say goodbye before shutting their sockets.
constexpr absl::Duration kStopGrace = absl::Seconds(5);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

}  // namespace

// The listener (Asio, on the acceptor thread) and the connections' fibers.
class Server::Impl {
 public:
  Impl(const ServerOptions& options, SessionFactory* factory)
      : options_(options), acceptor_(io_), retry_timer_(io_) {
    context_.server_version = options.server_version;
    context_.factory = factory;
    context_.cancels = &cancels_;
    context_.stats = &stats_;
  }
  ~Impl() { Stop(); }

  absl::Status Init();
  int port() const { return port_; }
  ServerStats stats() const { return stats_.Snapshot(); }
  void Stop();

 private:
  // A connection; lives in workers_ until its fiber has finished with it.
  struct Worker {
    std::unique_ptr<Connection> connection;
    bool finished = false;  // guarded by mu_: the fiber no longer touches it
  };

  absl::Status Listen();
  void AcceptNext();
  void OnAccepted(asio::ip::tcp::socket socket);
  // Frees finished connections.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ServerOptions options_;
  std::unique_ptr<AuthFile> auth_;
  std::unique_ptr<TlsContext> tls_;
  CancelRegistry cancels_;
  StatsCounters stats_;
  ConnectionContext context_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;  // used on the acceptor thread once it runs
  asio::steady_timer retry_timer_;
  std::thread acceptor_thread_;
  std::unique_ptr<fiber::Scheduler> fibers_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // connection fibers not yet finished
  std::list<Worker> workers_ ABSL_GUARDED_BY(mu_);
};

absl::Status Server::Impl::Init() {
  if (!options_.auth_file.empty()) {
    ASSIGN_OR_RETURN(AuthFile auth, AuthFile::Load(options_.auth_file));
    auth_ = std::make_unique<AuthFile>(std::move(auth));
    context_.auth = auth_.get();
  }
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  if (!options_.tls_cert_file.empty()) {
    ASSIGN_OR_RETURN(tls_, TlsContext::Create(options_.tls_cert_file, options_.tls_key_file));
    context_.tls = tls_.get();
  }
  if (options_.port < 0 || options_.port > 65535 || options_.max_connections < 1) {
    return absl::InvalidArgumentError("bad port or max_connections");
  }
  RETURN_IF_ERROR(Listen());
  fibers_ = std::make_unique<fiber::Scheduler>(
      fiber::SchedulerOptions{.threads = options_.threads, .name = "pgwire"});
  AcceptNext();
  acceptor_thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

absl::Status Server::Impl::Listen() {
  std::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port),
                                    asio::ip::resolver_base::passive, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", options_.host, ": ", ec.message()));
  }
  asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                               options_.port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void Server::Impl::AcceptNext() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {  // e.g. out of descriptors: try again shortly
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([this](std::error_code wait_ec) {
        if (!wait_ec) AcceptNext();
      });
      return;
    }
    OnAccepted(std::move(socket));
    AcceptNext();
  });
}

void Server::Impl::OnAccepted(asio::ip::tcp::socket socket) {
  stats_.connections_accepted.fetch_add(1);
  std::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  asio::ip::tcp::endpoint remote = socket.remote_endpoint(ec);
  std::string peer = "unknown";
  if (!ec) {
    std::string address = remote.address().to_string();
    if (remote.address().is_v6()) address = absl::StrCat("[", address, "]");
    peer = absl::StrCat(address, ":", remote.port());
  }
  int fd = socket.release(ec);
  if (ec) return;

  absl::MutexLock lock(&mu_);
  if (stopped_) {
    ::close(fd);
    return;
  }
  ReapLocked();
  int serving = 0, rejecting = 0;
  for (const Worker& w : workers_) {
    if (w.connection->done()) continue;
    ++(w.connection->rejecting() ? rejecting : serving);
  }
  bool reject = serving >= options_.max_connections;
  if (reject && rejecting >= kMaxRejecting) {
    stats_.connections_rejected.fetch_add(1);
    ::close(fd);
    return;
  }
  Worker* worker = &workers_.emplace_back();
  worker->connection = std::make_unique<Connection>(context_, fd, std::move(peer), reject);
  stats_.connections_open.fetch_add(1);  // Run() takes it back when it ends
  ++running_;  // the fiber cannot finish before we release mu_
  fibers_->Spawn([this, worker] {
    worker->connection->Run();
    absl::MutexLock done_lock(&mu_);
    worker->finished = true;
    --running_;
  });
}

void Server::Impl::ReapLocked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->finished) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::Impl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (acceptor_thread_.joinable()) {
    asio::post(io_, [this] {
      std::error_code ec;
      acceptor_.close(ec);
      retry_timer_.cancel();
    });
    acceptor_thread_.join();
  }
  std::list<Worker> workers;
  {
    absl::MutexLock lock(&mu_);
    for (Worker& w : workers_) w.connection->RequestStop();
    auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ == 0; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&all_done), kStopGrace)) {
      for (Worker& w : workers_) w.connection->ForceClose();
    }
    workers.swap(workers_);
  }
  // Waits for the last fibers; the connections they use die after them.
  if (fibers_ != nullptr) fibers_->Join();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      SessionFactory* factory) {
  auto impl = std::make_unique<Impl>(options, factory);
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port(); }

void Server::Stop() { impl_->Stop(); }

ServerStats Server::stats() const { return impl_->stats(); }

}  // namespace shale::gate::pgwire
