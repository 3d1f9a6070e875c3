#include "discovery/record_watch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shale::discovery {

absl::StatusOr<std::unique_ptr<RecordWatch>> RecordWatch::Start(topo::Conn& conn, Spec spec,
                                                                OnChange on_change) {
  std::unique_ptr<RecordWatch> w(new RecordWatch(std::move(spec), std::move(on_change)));
  RecordWatch* self = w.get();
  auto cb = [self](const topo::WatchEvent& event) { self->OnEvent(event); };
  // Events wait for mu_ until the first answer is stored, so none is applied
  // before it.
  absl::MutexLock l(&w->mu_);
  if (!w->spec_.path.empty()) {
    absl::StatusOr<topo::WatchStart> start = conn.Watch(w->spec_.path, cb);
    if (start.ok()) {
      w->values_[w->spec_.path] = std::move(start->current.value);
      w->handle_ = std::move(start->handle);
      return w;
    }
    if (!absl::IsNotFound(start.status())) return start.status();
  }
  absl::StatusOr<topo::DirWatchStart> start = conn.WatchDir(w->spec_.dir, cb);
  if (!start.ok()) return start.status();
  for (topo::PathValue& pv : start->current) {
    if (w->Wanted(pv.path)) w->values_[pv.path] = std::move(pv.value);
  }
  w->handle_ = std::move(start->handle);
  return w;
}

RecordWatch::~RecordWatch() {
  // Not under mu_: the watch's last callback may be waiting for it.
  handle_.reset();
}

bool RecordWatch::Wanted(const std::string& path) const {
  if (!spec_.path.empty()) return path == spec_.path;
  return absl::StartsWith(path, absl::StrCat(spec_.dir, "/"));
}

void RecordWatch::OnEvent(const topo::WatchEvent& event) {
  {
    absl::MutexLock l(&mu_);
    if (event.kind == topo::WatchEvent::Kind::kError) {
      outage_ = true;
      return;
    }
    outage_ = false;
    if (!Wanted(event.path)) return;
    auto it = values_.find(event.path);
    if (event.kind == topo::WatchEvent::Kind::kDeleted) {
      if (it == values_.end()) return;
      values_.erase(it);
    } else {
      if (it != values_.end() && it->second == event.value) return;
      values_[event.path] = event.value;
    }
  }
  on_change_(event.path);
}

std::optional<std::string> RecordWatch::Get(const std::string& path) const {
  absl::MutexLock l(&mu_);
  auto it = values_.find(path);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> RecordWatch::values() const {
  absl::MutexLock l(&mu_);
  return values_;
}

bool RecordWatch::in_outage() const {
  absl::MutexLock l(&mu_);
  return outage_;
}

}  // namespace shale::discovery
