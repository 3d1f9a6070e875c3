#pragma once

// Connection serves one client socket from accept to close on its own thread:
// SSL/GSS negotiation, the startup packet (or a CancelRequest), password
// authentication, opening the Session, then the QueryProcessor.
//
// The Server makes a Connection per accepted socket, runs Run() on a new
// thread, and owns the Connection until that thread is joined. Run() is the
// only method that runs on the connection's thread; RequestStop and
// ForceClose may be called from any thread while it runs.

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gate/pgwire/auth_file.h"
#include "gate/pgwire/cancel_registry.h"
#include "gate/pgwire/frontend_messages.h"
#include "gate/pgwire/message_stream.h"
#include "gate/pgwire/session.h"
#include "gate/pgwire/stats.h"
#include "gate/pgwire/transport.h"

namespace shale::gate::pgwire {

// What every connection of a server shares; owned by the Server, all of it
// outlives the connections.
struct ConnectionContext {
  std::string server_version;
  SessionFactory* factory = nullptr;
  const AuthFile* auth = nullptr;  // null: trust
  const TlsContext* tls = nullptr;  // null: no TLS
  CancelRegistry* cancels = nullptr;
  StatsCounters* stats = nullptr;
};

class Connection {
 public:
  // Takes ownership of the connected socket fd, which Run closes when done. reject: the server is full,
  // answer the startup packet with FATAL 53300.
  Connection(const ConnectionContext& context, int fd, std::string peer, bool reject);
  ~Connection();  // closes the socket
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The connection's whole life; returns when it is closed.
  void Run();

  // Asks a running connection to end: its reads stop, its session is
  // cancelled, and it says FATAL 57P01 to the client. Any thread.
  void RequestStop();
  // Shuts the socket down both ways (a client that does not read). Any thread.
  void ForceClose();

  bool done() const { return done_.load(); }
  bool rejecting() const { return reject_; }

 private:
  // The startup phase; returns the session, or null when the connection is
  // over (a CancelRequest, or an error that was already sent).
  absl::StatusOr<std::unique_ptr<Session>> Startup();
  // Answers SSLRequest/GSSENCRequest until a StartupMessage or CancelRequest.
  absl::StatusOr<StartupPacket> Negotiate();
  // Password authentication for user (trust when there is no auth file).
  absl::Status Authenticate(const std::string& user);
  // ParameterStatus, BackendKeyData and the first ReadyForQuery.
  absl::Status SendStartupReply(const Session& session, const CancelKey& key);
  // Sends a FATAL ErrorResponse and flushes (errors ignored: we are closing).
  void SendFatal(const absl::Status& status);
  // Half-closes, reads what the client still sends for a moment, so that
  // closing does not reset the connection before it read the last message.
  void Linger();
  void SetReceiveTimeout(int seconds);
  // Ends the transport and closes the socket (once).
  void CloseSocket();

  const ConnectionContext context_;
  const int fd_;
  const std::string peer_;
  const bool reject_;
  std::unique_ptr<MessageStream> stream_;  // used by Run's thread only
  StartupInfo startup_info_;               // used by Run's thread only
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};

  absl::Mutex mu_;
  CancelKey key_ ABSL_GUARDED_BY(mu_);  // pid 0 while no session is registered
  bool socket_open_ ABSL_GUARDED_BY(mu_) = true;  // fd_ is not closed yet
};

}  // namespace shale::gate::pgwire
