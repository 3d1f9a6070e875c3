#include "gate/pgwire/pg_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"

namespace shale::gate::pgwire {

TestServer::TestServer(ServerOptions options) {
  options.host = "127.0.0.1";
  options.port = 0;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, &factory_);
  if (!server.ok()) {
    std::fprintf(stderr, "TestServer: %s\n", server.status().ToString().c_str());
    std::abort();
  }
  server_ = *std::move(server);
}

TestServer::~TestServer() { server_->Stop(); }

std::string TestServer::ConnInfo(absl::string_view extra) const {
  return absl::StrCat("host=127.0.0.1 port=", port(),
                      " user=u dbname=db connect_timeout=10 ", extra);
}

PgConn TestServer::Connect(absl::string_view extra) const {
  return PgConn(PQconnectdb(ConnInfo(extra).c_str()));
}

PgResult Exec(PGconn* conn, const char* sql) { return PgResult(PQexec(conn, sql)); }

bool WaitFor(absl::FunctionRef<bool()> predicate, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!predicate()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::map<char, std::string> ErrorFields(absl::string_view body) {
  std::map<char, std::string> fields;
  while (!body.empty() && body[0] != '\0') {
    char code = body[0];
    size_t nul = body.find('\0', 1);
    if (nul == absl::string_view::npos) break;
    fields[code] = std::string(body.substr(1, nul - 1));
    body.remove_prefix(nul + 1);
  }
  return fields;
}

absl::StatusOr<std::unique_ptr<RawClient>> RawClient::Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError("connect");
  }
  return std::unique_ptr<RawClient>(new RawClient(fd));
}

RawClient::~RawClient() { ::close(fd_); }

absl::Status RawClient::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) return absl::UnavailableError("send failed");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RawClient::ReadMore(absl::Time deadline) {
  pollfd p{fd_, POLLIN, 0};
  int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
  if (ms <= 0 || ::poll(&p, 1, ms) <= 0) return absl::DeadlineExceededError("no data");
  char buf[8192];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return absl::OutOfRangeError("closed by the server");
  buffer_.append(buf, static_cast<size_t>(n));
  return absl::OkStatus();
}

absl::StatusOr<char> RawClient::ReadByte(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (buffer_.empty()) RETURN_IF_ERROR(ReadMore(deadline));
  char c = buffer_[0];
  buffer_.erase(0, 1);
  return c;
}

absl::StatusOr<std::vector<BackendMessage>> RawClient::ReadUntil(char until,
                                                                 absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::vector<BackendMessage> out;
  while (true) {
    while (buffer_.size() >= 5 && buffer_.size() >= 1 + LoadBig32(buffer_.data() + 1)) {
      uint32_t len = LoadBig32(buffer_.data() + 1);
      out.push_back({buffer_[0], buffer_.substr(5, len - 4)});
      buffer_.erase(0, 1 + len);
      if (out.back().type == until) return out;
    }
    RETURN_IF_ERROR(ReadMore(deadline));
  }
}

bool RawClient::ClosedByServer(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Status s = ReadMore(deadline);
    if (absl::IsOutOfRange(s)) return true;
    if (!s.ok()) return false;
  }
}

absl::Status RawClient::Startup(absl::string_view user, absl::string_view database) {
  FrontendBuilder b;
  b.Startup({{"user", std::string(user)}, {"database", std::string(database)}});
  RETURN_IF_ERROR(Send(b.bytes()));
  ASSIGN_OR_RETURN(std::vector<BackendMessage> messages, ReadUntil('Z'));
  for (const BackendMessage& m : messages) {
    if (m.type == 'E') return absl::FailedPreconditionError(ErrorFields(m.body)['M']);
  }
  return absl::OkStatus();
}

TempDir::TempDir() {
  std::string tmpl = "/tmp/pgwire_test_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::WriteFile(absl::string_view name, absl::string_view contents) const {
  std::string path = absl::StrCat(path_, "/", name);
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

}  // namespace shale::gate::pgwire
