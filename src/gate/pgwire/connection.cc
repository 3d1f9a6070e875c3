#include "gate/pgwire/connection.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/fiber/io_wait.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/pgwire/query_processor.h"
#include "gate/pgwire/scram.h"

namespace shale::gate::pgwire {
namespace {

constexpr int kStartupTimeoutSeconds = 60;  // like authentication_timeout
constexpr int kLingerSeconds = 1;
constexpr size_t kLingerMaxBytes = 1 << 20;

absl::Status Fatal(absl::string_view sqlstate, absl::string_view message) {
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate, message);
}

// The next message, which must be a PasswordMessage ('p').
absl::StatusOr<absl::string_view> ReadPasswordMessage(MessageStream& stream) {
  ASSIGN_OR_RETURN(MessageStream::Message m, stream.ReadMessage());
  if (m.type != 'p') {
    return ProtocolError(absl::StrCat("expected SASL response, got message type ",
                                      static_cast<int>(static_cast<unsigned char>(m.type))));
  }
  return m.body;
}

}  // namespace

Connection::Connection(const ConnectionContext& context, int fd, std::string peer, bool reject)
    : context_(context),
      fd_(fd),
      peer_(std::move(peer)),
      reject_(reject),
      stream_(std::make_unique<MessageStream>(std::make_unique<PlainTransport>(fd))) {}

Connection::~Connection() { CloseSocket(); }

void Connection::CloseSocket() {
  stream_.reset();  // a TLS transport says close_notify first
  absl::MutexLock lock(&mu_);
  if (socket_open_) ::close(fd_);
  socket_open_ = false;
}

void Connection::RequestStop() {
  stopping_ = true;
  CancelKey key;
  {
    absl::MutexLock lock(&mu_);
    if (socket_open_) ::shutdown(fd_, SHUT_RD);
    key = key_;
  }
  if (key.pid != 0) context_.cancels->Cancel(key);
}

void Connection::ForceClose() {
  absl::MutexLock lock(&mu_);
  if (socket_open_) ::shutdown(fd_, SHUT_RDWR);
}

void Connection::SetReceiveTimeout(int seconds) {
  stream_->set_read_timeout(seconds > 0 ? absl::Seconds(seconds) : absl::InfiniteDuration());
}

void Connection::SendFatal(const absl::Status& status) {
  EncodeStatusError(status, "FATAL", &stream_->out());
  stream_->Flush().IgnoreError();
}

void Connection::Linger() {
  ::shutdown(fd_, SHUT_WR);
  const absl::Time deadline = absl::Now() + absl::Seconds(kLingerSeconds);
  char buf[4096];
  size_t drained = 0;
  while (drained < kLingerMaxBytes) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!fiber::WaitFd(fd_, POLLIN, deadline)) break;
      continue;
    }
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

void Connection::Run() {
  // OpenSSL writes with write(2): a client gone away must not kill the
  // process. A SIGPIPE left pending on this thread dies with it.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  absl::StatusOr<std::unique_ptr<Session>> session = Startup();
  absl::Status status = session.status();
  if (session.ok() && *session != nullptr) {
    CancelKey key = context_.cancels->Register(session->get());
    {
      absl::MutexLock lock(&mu_);
      key_ = key;
    }
    if (stopping_) context_.cancels->Cancel(key);  // Stop came during startup
    status = SendStartupReply(**session, key);
    if (status.ok()) {
      QueryProcessor processor(session->get(), stream_.get(), context_.stats);
      status = processor.Serve();
    }
    {
      absl::MutexLock lock(&mu_);
      key_ = CancelKey{};
    }
    context_.cancels->Unregister(key);
    session->reset();
  }
  if (stopping_) {
    SendFatal(Fatal(sqlstate::kAdminShutdown,
                    "terminating connection due to administrator command"));
    Linger();
  } else if (!status.ok() && !IsConnectionLost(status)) {
    if (SqlStateOrDefault(status) == sqlstate::kProtocolViolation) {
      context_.stats->protocol_errors.fetch_add(1);
    }
    SendFatal(status);
    Linger();
  }
  CloseSocket();  // now: a CancelRequest's client waits for the close
  context_.stats->connections_open.fetch_sub(1);
  done_ = true;
}

absl::StatusOr<StartupPacket> Connection::Negotiate() {
  bool ssl_answered = false;
  bool gss_answered = false;
  while (true) {
    ASSIGN_OR_RETURN(absl::string_view body, stream_->ReadStartupPacket());
    ASSIGN_OR_RETURN(StartupPacket packet, DecodeStartupPacket(body));
    switch (packet.kind) {
      case StartupPacket::Kind::kSslRequest: {
        if (ssl_answered) return ProtocolError("SSL negotiation requested twice");
        ssl_answered = true;
        // Bytes sent after the request but before the handshake would not be
        // protected by it: refuse them.
        if (stream_->has_buffered_input()) {
          return ProtocolError("received unencrypted data after SSL request");
        }
        bool tls = context_.tls != nullptr;
        stream_->out().PutByte(tls ? 'S' : 'N');
        RETURN_IF_ERROR(stream_->Flush());
        if (tls) {
          ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport, context_.tls->Accept(fd_, absl::Now() + absl::Seconds(kStartupTimeoutSeconds)));
          stream_->SetTransport(std::move(transport));
        }
        break;
      }
      case StartupPacket::Kind::kGssEncRequest:
        if (gss_answered) return ProtocolError("GSSAPI negotiation requested twice");
        gss_answered = true;
        stream_->out().PutByte('N');
        RETURN_IF_ERROR(stream_->Flush());
        break;
      default:
        return packet;
    }
  }
}

absl::StatusOr<std::unique_ptr<Session>> Connection::Startup() {
  SetReceiveTimeout(kStartupTimeoutSeconds);
  ASSIGN_OR_RETURN(StartupPacket packet, Negotiate());
  if (packet.kind == StartupPacket::Kind::kCancelRequest) {
    context_.cancels->Cancel(CancelKey{packet.cancel_pid, packet.cancel_secret});
    return nullptr;
  }
  StartupInfo info;
  info.peer = peer_;
  std::vector<std::string> unrecognized;  // protocol options (_pq_.*) we do not know
  for (const auto& param : packet.params) {
    if (absl::StartsWith(param.first, "_pq_.")) {
      unrecognized.push_back(param.first);
      continue;
    }
    info.params[param.first] = param.second;
  }
  info.user = info.params["user"];
  info.database = info.params["database"];
  info.application_name = info.params["application_name"];
  if (info.user.empty()) {
    return Fatal(sqlstate::kInvalidAuthorization,
                 "no PostgreSQL user name specified in startup packet");
  }
  if (info.database.empty()) info.database = info.user;
  if (reject_) {
    context_.stats->connections_rejected.fetch_add(1);
    return Fatal(sqlstate::kTooManyConnections, "sorry, too many clients already");
  }
  if ((packet.protocol & 0xffff) != 0 || !unrecognized.empty()) {
    EncodeNegotiateProtocolVersion(0, unrecognized, &stream_->out());
  }
  RETURN_IF_ERROR(Authenticate(info.user));
  EncodeAuthenticationOk(&stream_->out());
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session, context_.factory->Open(info));
  SetReceiveTimeout(0);
  startup_info_ = std::move(info);
  return session;
}

absl::Status Connection::Authenticate(const std::string& user) {
  if (context_.auth == nullptr) return absl::OkStatus();  // trust
  const ScramVerifier* verifier = context_.auth->Find(user);
  ScramServer scram(verifier != nullptr ? *verifier : context_.auth->FakeVerifier(user),
                    verifier != nullptr);
  const absl::string_view mechanisms[] = {kScramSha256};
  EncodeAuthenticationSasl(mechanisms, &stream_->out());
  RETURN_IF_ERROR(stream_->Flush());

  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(absl::string_view body, ReadPasswordMessage(*stream_));
    ASSIGN_OR_RETURN(SaslInitialResponse initial, DecodeSaslInitial(body));
    if (initial.mechanism != kScramSha256 || !initial.data.has_value()) {
      return ProtocolError("client selected an invalid SASL authentication mechanism");
    }
    ASSIGN_OR_RETURN(std::string server_first, scram.HandleClientFirst(*initial.data));
    EncodeAuthenticationSaslContinue(server_first, &stream_->out());
    RETURN_IF_ERROR(stream_->Flush());
    ASSIGN_OR_RETURN(absl::string_view client_final, ReadPasswordMessage(*stream_));
    ASSIGN_OR_RETURN(std::string server_final, scram.HandleClientFinal(client_final));
    EncodeAuthenticationSaslFinal(server_final, &stream_->out());
    return absl::OkStatus();
  }();
  if (status.ok() || IsConnectionLost(status)) return status;
  context_.stats->auth_failures.fetch_add(1);
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    return SqlError(absl::StatusCode::kUnauthenticated, sqlstate::kInvalidPassword,
                    absl::StrCat("password authentication failed for user \"", user, "\""));
  }
  return status;
}

absl::Status Connection::SendStartupReply(const Session& session, const CancelKey& key) {
  const StartupInfo& info = startup_info_;
  WireBuffer& out = stream_->out();
  const std::pair<absl::string_view, absl::string_view> statuses[] = {
      {"application_name", info.application_name},
      {"client_encoding", "UTF8"},
      {"DateStyle", "ISO, MDY"},
      {"integer_datetimes", "on"},
      {"IntervalStyle", "postgres"},
      {"is_superuser", "off"},
      {"server_encoding", "UTF8"},
      {"server_version", context_.server_version},
      {"session_authorization", info.user},
      {"standard_conforming_strings", "on"},
      {"TimeZone", "UTC"},
  };
  for (const auto& s : statuses) EncodeParameterStatus(s.first, s.second, &out);
  EncodeBackendKeyData(key.pid, key.secret, &out);
  EncodeReadyForQuery(static_cast<char>(session.txn_status()), &out);
  return stream_->Flush();
}

}  // namespace shale::gate::pgwire
