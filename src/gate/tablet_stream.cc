#include "gate/tablet_stream.h"

#include <poll.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tablet/client/grpc_status.h"

namespace shale::gate {

namespace {
constexpr absl::Duration kConnectTimeout = absl::Seconds(3);
}  // namespace

TabletStream::TabletStream(std::string host, int session_port, std::string key)
    : host_(std::move(host)), port_(session_port), key_(std::move(key)) {}

TabletStream::~TabletStream() = default;  // closing the socket ends the session

void TabletStream::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (socket_ != nullptr) socket_->Shutdown();
}

absl::Status TabletStream::Connect() {
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
  if (sock_ == nullptr) return true;  // not connected yet
  // An idle session has nothing to read: readable means the tablet closed it.
  pollfd p{sock_->fd(), POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

absl::Status TabletStream::Broken(bool after_send, const absl::Status& cause) {
  broken_ = true;
  outcome_unknown_ = after_send;
  return absl::UnavailableError(absl::StrCat("query stream to tablet ", key_, ": ",
                                             cause.message()));
}

absl::Status TabletStream::Send(tablet::SessionRequest& request) {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  if (sock_ == nullptr) {
    if (absl::Status s = Connect(); !s.ok()) return Broken(false, s);
  }
  request.set_id(next_id_++);
  // A failed send may have put part of the frame on the wire; the tablet
  // never runs a partial frame, so the request did not run.
  if (absl::Status s = sock_->Write(request); !s.ok()) return Broken(false, s);
  return absl::OkStatus();
}

absl::StatusOr<const tablet::SessionResponse*> TabletStream::Receive() {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  if (absl::Status s = sock_->Read(&response_); !s.ok()) {
    if (absl::IsOutOfRange(s)) s = absl::UnavailableError("the tablet closed the session");
    return Broken(true, s);
  }
  used_ = true;
  return &response_;
}

absl::StatusOr<const tablet::SessionResponse*> TabletStream::Call(
    tablet::SessionRequest& request) {
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
  auto port = tablet.tablet.port_map().find("session");
  const int session_port = port == tablet.tablet.port_map().end() ? 0 : port->second;
  // The key names the session endpoint, so a tablet restarted on a new port
  // never gets its old idle streams back.
  std::string key = absl::StrCat(tablet.address, "/", session_port);
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
