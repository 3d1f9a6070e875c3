#include "gate/tablet_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tablet/client/grpc_status.h"

namespace shale::gate {

TabletStream::TabletStream(std::shared_ptr<tablet::TabletClient> conn, std::string key)
    : conn_(std::move(conn)), key_(std::move(key)) {
  stream_ = conn_->query().Session(&context_);
}

TabletStream::~TabletStream() {
  if (stream_ == nullptr || finished_) return;
  if (!broken_ && !awaiting_) {
    stream_->WritesDone();
  } else {
    context_.TryCancel();
  }
  stream_->Finish().ok();
}

absl::Status TabletStream::Broken(bool after_send) {
  broken_ = true;
  outcome_unknown_ = after_send;
  awaiting_ = false;
  context_.TryCancel();
  grpc::Status s = stream_->Finish();
  finished_ = true;
  absl::Status status = tablet::FromGrpcStatus(s);
  if (status.ok() || status.code() == absl::StatusCode::kCancelled) {
    status = absl::UnavailableError("the tablet closed the query stream");
  }
  return absl::Status(absl::StatusCode::kUnavailable,
                      absl::StrCat("query stream to tablet ", key_, ": ", status.message()));
}

absl::Status TabletStream::Send(tablet::SessionRequest& request) {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  request.set_id(next_id_++);
  if (!stream_->Write(request)) return Broken(false);
  awaiting_ = true;
  return absl::OkStatus();
}

absl::StatusOr<const tablet::SessionResponse*> TabletStream::Receive() {
  if (broken_) return absl::UnavailableError(absl::StrCat("query stream to ", key_, " is broken"));
  if (!stream_->Read(&response_)) return Broken(true);
  awaiting_ = false;
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

std::unique_ptr<TabletStream> StreamPool::Acquire(
    const std::shared_ptr<tablet::TabletClient>& conn, const std::string& key) {
  {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(key);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<TabletStream> s = std::move(it->second.back());
      it->second.pop_back();
      return s;
    }
    ++opened_;
  }
  return std::make_unique<TabletStream>(conn, key);
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
