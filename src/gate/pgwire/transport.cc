#include "gate/pgwire/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "base/fiber/io_wait.h"

namespace shale::gate::pgwire {
namespace {

constexpr absl::string_view kConnectionLostUrl = "type.shale.dev/pgwire-connection-lost";

absl::Status SocketError(absl::string_view op, int err) {
  return ConnectionLostError(absl::StrCat(op, ": ", std::strerror(err)));
}

// After an OpenSSL call on a non-blocking socket failed with err: waits for
// what it wants (readable or writable) and returns true to try again, or
// false when it failed for good or the deadline passed.
bool WaitForTls(SSL* ssl, int err, absl::Time deadline) {
  short events;
  if (err == SSL_ERROR_WANT_READ) {
    events = POLLIN;
  } else if (err == SSL_ERROR_WANT_WRITE) {
    events = POLLOUT;
  } else {
    return false;
  }
  return fiber::WaitFd(SSL_get_fd(ssl), events, deadline);
}

// TLS over a socket; owns its SSL object.
class TlsTransport : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  ~TlsTransport() override {
    SSL_shutdown(ssl_);  // best effort close_notify
    SSL_free(ssl_);
  }

  absl::StatusOr<size_t> Read(char* buf, size_t size, absl::Time deadline) override {
    while (true) {
      size_t got = 0;
      int rc = SSL_read_ex(ssl_, buf, size, &got);
      if (rc == 1) return got;
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno != EAGAIN) {
        return 0;  // EOF without close_notify
      }
      if (!WaitForTls(ssl_, err, deadline)) {
        return ConnectionLostError(absl::StrCat("TLS read failed: ", OpenSslErrors()));
      }
    }
  }

  absl::Status Write(absl::string_view data) override {
    while (!data.empty()) {
      size_t written = 0;
      int rc = SSL_write_ex(ssl_, data.data(), data.size(), &written);
      if (rc == 1) {
        data.remove_prefix(written);
      } else if (!WaitForTls(ssl_, SSL_get_error(ssl_, rc), absl::InfiniteFuture())) {
        return ConnectionLostError(absl::StrCat("TLS write failed: ", OpenSslErrors()));
      }
    }
    return absl::OkStatus();
  }

  bool is_tls() const override { return true; }

 private:
  SSL* ssl_;
};

}  // namespace

absl::StatusOr<size_t> PlainTransport::Read(char* buf, size_t size, absl::Time deadline) {
  while (true) {
    ssize_t n = ::recv(fd_, buf, size, MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return SocketError("recv", errno);
    if (!fiber::WaitFd(fd_, POLLIN, deadline)) return SocketError("recv", ETIMEDOUT);
  }
}

absl::Status PlainTransport::Write(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      fiber::WaitFd(fd_, POLLOUT);  // a client that does not read: Stop shuts the socket
    } else if (errno != EINTR) {
      return SocketError("send", errno);
    }
  }
  return absl::OkStatus();
}

absl::Status ConnectionLostError(absl::string_view message) {
  absl::Status status = absl::UnavailableError(message);
  status.SetPayload(kConnectionLostUrl, absl::Cord("1"));
  return status;
}

bool IsConnectionLost(const absl::Status& status) {
  return status.GetPayload(kConnectionLostUrl).has_value();
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  return out.empty() ? "connection closed" : out;
}

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(const std::string& cert_file,
                                                               const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(OpenSslErrors());
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TLS certificate ", cert_file, ": ", OpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TLS key ", key_file, ": ", OpenSslErrors()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key ", key_file, " does not match certificate ", cert_file));
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::unique_ptr<Transport>> TlsContext::Accept(int fd, absl::Time deadline) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return absl::InternalError(OpenSslErrors());
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  bool ok = SSL_set_fd(ssl, fd) == 1;
  while (ok) {
    const int rc = SSL_accept(ssl);
    if (rc == 1) break;
    ok = WaitForTls(ssl, SSL_get_error(ssl, rc), deadline);
  }
  if (!ok) {
    absl::Status status =
        ConnectionLostError(absl::StrCat("TLS handshake failed: ", OpenSslErrors()));
    SSL_free(ssl);
    return status;
  }
  return std::unique_ptr<Transport>(new TlsTransport(ssl));
}

}  // namespace shale::gate::pgwire
