#pragma once

// Server is the gateway's PostgreSQL front end: it listens on a TCP port and
// serves each client connection on its own fiber (base/fiber), calling a
// Session that the SessionFactory opens for it. The connection code is
// written as if it blocked; a fiber parks instead while it waits for its
// socket (or a tablet's), so a few worker threads serve every connection and
// a busy gateway takes many messages per wake-up. Session methods therefore
// must wait for sockets through fiber::WaitFd and put any other long wait in
// fiber::RunBlocking (base/fiber/scheduler.h has the rules).
//
//   ServerOptions options;
//   options.port = 0;  // any free port
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(options, &factory));
//   ... server->port() ...
//   server->Stop();
//
// Lifecycle: Start() binds and starts the acceptor thread; Stop() (also run
// by the destructor) closes the listener, then every connection (their
// sessions are cancelled and clients get FATAL 57P01 admin_shutdown), and
// joins every thread. The caller owns the Server; the factory must outlive
// it. port() and stats() are thread-safe; Stop may be called from any thread
// but a connection's fiber (it waits for them).

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gate/pgwire/session.h"
#include "gate/pgwire/stats.h"

namespace shale::gate::pgwire {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 15432;  // 0: pick a free port
  // Both set: SSLRequest is answered 'S' and TLS (1.2+) negotiated.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Set: every connection must pass SCRAM-SHA-256 with a user of this file
  // (auth_file.h). Empty: trust.
  std::string auth_file;
  int max_connections = 1000;  // beyond: FATAL 53300
  std::string server_version = "15.0 (Shale)";
  int threads = 0;  // worker threads for the connections' fibers; 0: one per CPU
};

class Server {
 public:
  // InvalidArgument for bad options or an unreadable auth file / TLS files;
  // Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       SessionFactory* factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the chosen one when options.port was 0).
  int port() const;
  void Stop();
  ServerStats stats() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shale::gate::pgwire
