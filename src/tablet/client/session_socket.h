#pragma once

// The tablet's session port: the gateway's query path without gRPC (DESIGN
// §5, "the query path is the hot path"; docs/bench.md shows why). One TCP
// connection carries one session, exactly like one Query.Session stream: the
// client writes an 8-byte preface, then SessionRequest frames; the tablet
// answers each with one SessionResponse frame, in order. A frame is a 4-byte
// big-endian length followed by that many bytes of serialized protobuf.
//
// SessionSocket: a connected socket with buffered frame reads and writes
// that block a thread, or park a fiber (base/fiber) until the socket is
// ready. Owned by one side of the connection (it closes the descriptor);
// Read and Write are called from one thread at a time, Shutdown from any
// thread (it wakes a blocked Read).

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/read_buffer.h"
#include "google/protobuf/message_lite.h"

namespace shale::tablet {

// What a client sends first, so that a stray connection (psql, a port
// scanner) is told apart from a gateway.
inline constexpr absl::string_view kSessionPreface("SHALEQS1", 8);
// The largest frame either side accepts (the gRPC services' limit too).
inline constexpr size_t kMaxSessionFrame = 64u << 20;

// Besides its TCP port P, a tablet listens on the abstract Unix socket
// named SessionSocketName(P) (Linux; no file). A client on the same machine
// connects there: the same protocol without the TCP/IP stack, which on
// loopback costs the sender most of a message's CPU (docs/bench.md).
std::string SessionSocketName(int port);
// Fills *sun with that socket's address; returns the address length.
socklen_t FillSessionSocketAddress(int port, sockaddr_un* sun);

// Whether host names this machine (so its tablets' Unix sockets are here).
bool IsThisMachine(const std::string& host);

// The port_map key of a session port that listens on loopback only (a
// tablet with internal TLS): usable from the tablet's own machine; gateways
// elsewhere carry sessions over gRPC (grpc_session.h).
inline constexpr absl::string_view kLocalSessionPortName = "session-local";

// How SessionSocket::Connect reaches the tablet.
enum class SessionRoute {
  kLocalSocketFirst,  // the Unix socket when host is this machine, else (or failing that) TCP
  kTcpOnly,
};

class SessionSocket {
 public:
  // Takes ownership of a connected stream socket.
  explicit SessionSocket(int fd);
  ~SessionSocket();
  SessionSocket(const SessionSocket&) = delete;
  SessionSocket& operator=(const SessionSocket&) = delete;

  // Connects to host:port within timeout (TCP with TCP_NODELAY, or the
  // tablet's Unix socket, see SessionRoute) and sends the preface.
  // Unavailable when the tablet cannot be reached.
  static absl::StatusOr<std::unique_ptr<SessionSocket>> Connect(
      const std::string& host, int port, absl::Duration timeout,
      SessionRoute route = SessionRoute::kLocalSocketFirst);

  // Sends one frame. Unavailable when the connection failed.
  absl::Status Write(const google::protobuf::MessageLite& message);
  // Reads one frame into message. OutOfRange when the peer closed the
  // connection cleanly between frames; Unavailable when it failed (or closed
  // mid-frame); DataLoss for an oversized or undecodable frame.
  absl::Status Read(google::protobuf::MessageLite* message);
  // Reads exactly n raw bytes (the preface); errors as for Read.
  absl::StatusOr<std::string> ReadRaw(size_t n);

  // Shuts the connection down in both directions; a blocked Read returns.
  void Shutdown();
  int fd() const { return fd_; }

 private:
  // Writes kSessionPreface. Unavailable when the connection failed.
  absl::Status SendPreface();
  // Makes at least n unread bytes available in in_; errors as for Read.
  absl::Status Fill(size_t n);

  const int fd_;
  ReadBuffer in_;    // received, not yet read
  std::string out_;  // the frame being written (kept to reuse its buffer)
};

}  // namespace shale::tablet
