#include "gate/tablet_stream.h"

#include <poll.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/fiber/io_wait.h"
#include "tablet/client/grpc_status.h"

namespace shale::gate {

namespace {
constexpr absl::Duration kConnectTimeout = absl::Seconds(3);
}  // namespace

TabletStream::TabletStream(std::string host, int session_port, std::string key)
    : host_(std::move(host)), port_(session_port), key_(std::move(key)) {}

TabletStream::TabletStream(std::shared_ptr<tablet::TabletClient> grpc, std::string key)
    : port_(0), key_(std::move(key)), grpc_client_(std::move(grpc)) {}

TabletStream::~TabletStream() = default;  // closing the socket ends the session

void TabletStream::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (socket_ != nullptr) socket_->Shutdown();
  if (grpc_ != nullptr) grpc_->Shutdown();
}

absl::Status TabletStream::Connect() {
  if (grpc_client_ != nullptr) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("the statement was cancelled");
    grpc_ = std::make_unique<tablet::GrpcSession>(grpc_client_);
    grpc_session_ = grpc_.get();
    return absl::OkStatus();
  }
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("tablet ", key_, " publishes no session port (port_map[\"session\"])"));
  }
  absl::StatusOr<std::unique_ptr<tablet::SessionSocket>> socket =
      tablet::SessionSocket::Connect(host_, port_, kConnectTimeout);
  if (!socket.ok()) return socket.status();
  absl::MutexLock lock(&mu_);
  if (cancelled_) return absl::CancelledError("the statement was cancelled");
  socket_ = *std::move(socket);
  sock_ = socket_.get();
  return absl::OkStatus();
}

bool TabletStream::LooksAlive() const {
  // Not connected yet; or gRPC, whose broken stream shows at the next Write
  // (before anything was sent, so the request is retried elsewhere).
  if (sock_ == nullptr) return true;
  // An idle session has nothing to read: readable means the tablet closed it.
  pollfd p{sock_->fd(), POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

absl::Status TabletStream::Broken(bool after_send, const absl::Status& cause) {
  broken_ = true;
  outcome_unknown_ = after_send;
  return absl::UnavailableError(
      absl::StrCat("query stream to tablet ", key_, ": ", cause.message()));
}

absl::Status TabletStream::Send(tablet::SessionRequest& request) {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  if (sock_ == nullptr && grpc_session_ == nullptr) {
    if (absl::Status s = Connect(); !s.ok()) return Broken(false, s);
  }
  request.set_id(next_id_++);
  // A failed send may have put part of the frame on the wire; the tablet
  // never runs a partial frame, so the request did not run.
  if (absl::Status s = WriteFrame(request); !s.ok()) return Broken(false, s);
  return absl::OkStatus();
}

absl::Status TabletStream::WriteFrame(const tablet::SessionRequest& request) {
  if (sock_ != nullptr) return sock_->Write(request);
  // gRPC blocks its caller: off the fiber (base/fiber rules).
  absl::Status s;
  fiber::RunBlocking([&] { s = grpc_session_->Write(request); });
  return s;
}

absl::Status TabletStream::ReadFrame() {
  if (sock_ != nullptr) return sock_->Read(&response_);
  absl::Status s;
  fiber::RunBlocking([&] { s = grpc_session_->Read(&response_); });
  return s;
}

absl::StatusOr<const tablet::SessionResponse*> TabletStream::Receive() {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  if (absl::Status s = ReadFrame(); !s.ok()) {
    if (absl::IsOutOfRange(s)) s = absl::UnavailableError("the tablet closed the session");
    return Broken(true, s);
  }
  used_ = true;
  return &response_;
}

absl::StatusOr<const tablet::SessionResponse*> TabletStream::Call(tablet::SessionRequest& request) {
  if (absl::Status s = Send(request); !s.ok()) return s;
  absl::StatusOr<const tablet::SessionResponse*> r = Receive();
  if (!r.ok()) return r;
  if ((*r)->error().code() != 0) return tablet::FromQueryError((*r)->error());
  return r;
}

StreamPool::~StreamPool() {
  absl::flat_hash_map<std::string, std::deque<std::unique_ptr<TabletStream>>> doomed;
  absl::MutexLock lock(&mu_);
  doomed.swap(idle_);
}

std::unique_ptr<TabletStream> StreamPool::Acquire(const discovery::TabletHealth& tablet) {
  const auto& ports = tablet.tablet.port_map();
  auto port = ports.find("session");
  int session_port = port == ports.end() ? 0 : port->second;
  bool via_grpc = false;
  if (session_port == 0) {
    // Internal TLS: the session port is loopback-only. From this machine use
    // it; from elsewhere carry the session over the (TLS) gRPC port.
    auto local = ports.find(std::string(tablet::kLocalSessionPortName));
    if (local != ports.end() && tablet::IsThisMachine(tablet.tablet.hostname())) {
      session_port = local->second;
    } else if (local != ports.end()) {
      via_grpc = true;
    }
  }
  // The key names the session endpoint, so a tablet restarted on a new port
  // never gets its old idle streams back.
  std::string key =
      absl::StrCat(tablet.address, "/", via_grpc ? "grpc" : absl::StrCat(session_port));
  for (;;) {
    std::unique_ptr<TabletStream> s;
    {
      absl::MutexLock lock(&mu_);
      auto it = idle_.find(key);
      if (it == idle_.end() || it->second.empty()) break;
      s = std::move(it->second.back());
      it->second.pop_back();
    }
    if (s->LooksAlive()) return s;
    // The tablet closed this idle session (it restarted or stopped): drop it
    // here rather than find out after sending a request.
  }
  {
    absl::MutexLock lock(&mu_);
    ++opened_;
  }
  if (via_grpc) return std::make_unique<TabletStream>(tablet.conn, std::move(key));
  return std::make_unique<TabletStream>(tablet.tablet.hostname(), session_port, std::move(key));
}

void StreamPool::Release(std::unique_ptr<TabletStream> stream) {
  if (stream == nullptr || stream->broken()) return;
  {
    absl::MutexLock lock(&mu_);
    auto& list = idle_[stream->key()];
    if (static_cast<int>(list.size()) < max_idle_) {
      list.push_back(std::move(stream));
      return;
    }
  }
  // Over the idle limit: the stream closes here, outside the lock.
}

void StreamPool::Drop(const std::string& key) {
  std::deque<std::unique_ptr<TabletStream>> doomed;
  {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return;
    doomed = std::move(it->second);
    idle_.erase(it);
  }
}

int64_t StreamPool::opened() const {
  absl::MutexLock lock(&mu_);
  return opened_;
}

int64_t StreamPool::idle() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace shale::gate
