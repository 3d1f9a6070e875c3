#pragma once

// Byte streams under a PostgreSQL connection: the plain TCP socket, or TLS
// over it (after an SSLRequest). Reads and writes wait for the socket through
// fiber::WaitFd: a connection served on a fiber parks, one on a plain thread
// blocks.
//
// A Transport borrows the descriptor; the Connection owns and closes it.
// TlsContext holds the server certificate; the Server owns one (when
// configured) and shares it, read-only, with every connection thread.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shale::gate::pgwire {

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads at least one byte into buf (up to size); 0 at end of stream.
  // Unavailable when the connection fails or nothing came by the deadline.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t size, absl::Time deadline) = 0;
  // Writes all of data. Unavailable when the connection fails.
  virtual absl::Status Write(absl::string_view data) = 0;
  virtual bool is_tls() const { return false; }
};

// recv/send on a socket (send never raises SIGPIPE).
class PlainTransport : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  absl::StatusOr<size_t> Read(char* buf, size_t size, absl::Time deadline) override;
  absl::Status Write(absl::string_view data) override;

 private:
  int fd_;
};

// The server side of TLS (1.2 or later) with one certificate and key.
class TlsContext {
 public:
  // InvalidArgument when the files cannot be loaded or do not match.
  static absl::StatusOr<std::unique_ptr<TlsContext>> Create(const std::string& cert_file,
                                                            const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Runs the server handshake on fd, which it makes non-blocking (TLS
  // reads and writes then wait through fiber::WaitFd). Unavailable when it
  // fails or has not finished by the deadline. The calling thread must not
  // take SIGPIPE (OpenSSL writes with write(2)): connection threads block it.
  absl::StatusOr<std::unique_ptr<Transport>> Accept(int fd, absl::Time deadline) const;

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// The status of a connection that failed or ended (Unavailable, marked so
// that it is not taken for an error a Session returned).
absl::Status ConnectionLostError(absl::string_view message);
bool IsConnectionLost(const absl::Status& status);

// The last OpenSSL errors of this thread as text (and clears them).
std::string OpenSslErrors();

}  // namespace shale::gate::pgwire
