#include "topo/memory/memory_core.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "topo/path.h"

namespace shale::topo::memory_internal {
namespace {

WatchEvent ChangedEvent(absl::string_view path, absl::string_view value, Version version) {
  WatchEvent event;
  event.kind = WatchEvent::Kind::kChanged;
  event.path = std::string(path);
  event.value = std::string(value);
  event.version = version;
  return event;
}

WatchEvent DeletedEvent(absl::string_view path) {
  WatchEvent event;
  event.kind = WatchEvent::Kind::kDeleted;
  event.path = std::string(path);
  return event;
}

absl::Status NoNode(absl::string_view path) {
  return absl::NotFoundError(absl::StrCat("no node at ", path));
}

absl::Status BadVersion(absl::string_view path, Version expected, Version actual) {
  return absl::AbortedError(
      absl::StrCat("version mismatch at ", path, ": expected ", expected, ", found ", actual));
}

}  // namespace

absl::Status MemoryCore::CheckAvailable() const {
  if (unavailable_) return absl::UnavailableError("memory topology server is unavailable");
  return absl::OkStatus();
}

Version MemoryCore::WriteLocked(absl::string_view path, absl::string_view value) {
  Version version = ++revision_;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) it = nodes_.emplace(std::string(path), Node{}).first;
  it->second.value = std::string(value);
  it->second.version = version;
  NotifyLocked(ChangedEvent(path, value, version));
  return version;
}

void MemoryCore::EraseLocked(std::map<std::string, Node, std::less<>>::iterator it) {
  ++revision_;
  std::string path = it->first;
  nodes_.erase(it);
  NotifyLocked(DeletedEvent(path));
}

void MemoryCore::NotifyLocked(const WatchEvent& event) {
  if (unavailable_) return;  // watchers catch up when the server comes back
  for (auto& [id, watch] : watches_) {
    if (watch.dir) {
      if (!absl::StartsWith(event.path, DirPrefix(watch.path))) continue;
      if (event.kind == WatchEvent::Kind::kDeleted) {
        watch.known.erase(event.path);
      } else {
        watch.known.insert(event.path);
      }
    } else if (watch.path != event.path) {
      continue;
    }
    watch.queue->Push(event);
  }
}

absl::StatusOr<Version> MemoryCore::Create(absl::string_view path, absl::string_view value) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  if (nodes_.contains(path)) return absl::AlreadyExistsError(absl::StrCat("node exists at ", path));
  return WriteLocked(path, value);
}

absl::StatusOr<Versioned> MemoryCore::Get(absl::string_view path) {
  ++read_count_;
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return NoNode(path);
  return Versioned{it->second.value, it->second.version};
}

absl::StatusOr<Version> MemoryCore::Update(absl::string_view path, absl::string_view value,
                                           std::optional<Version> expected) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  if (expected.has_value()) {
    auto it = nodes_.find(path);
    if (it == nodes_.end()) return NoNode(path);
    if (it->second.version != *expected) return BadVersion(path, *expected, it->second.version);
  }
  return WriteLocked(path, value);
}

absl::Status MemoryCore::Delete(absl::string_view path, std::optional<Version> expected) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return NoNode(path);
  if (expected.has_value() && it->second.version != *expected) {
    return BadVersion(path, *expected, it->second.version);
  }
  EraseLocked(it);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DirEntry>> MemoryCore::ListDir(absl::string_view dir) {
  ++read_count_;
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  const std::string prefix = DirPrefix(dir);
  // Collected by name: the path order ("/a/b-c" < "/a/b/x") is not the name order.
  std::map<std::string, DirEntry> entries;
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && absl::StartsWith(it->first, prefix); ++it) {
    absl::string_view rest = absl::string_view(it->first).substr(prefix.size());
    size_t slash = rest.find('/');
    std::string name(rest.substr(0, slash));
    DirEntry& entry = entries[name];
    entry.name = name;
    if (slash == absl::string_view::npos) {
      entry.has_value = true;
    } else {
      entry.has_children = true;
    }
  }
  if (entries.empty()) return absl::NotFoundError(absl::StrCat("nothing stored below ", dir));
  std::vector<DirEntry> result;
  result.reserve(entries.size());
  for (auto& [name, entry] : entries) result.push_back(std::move(entry));
  return result;
}

absl::StatusOr<Version> MemoryCore::AcquireLock(const std::string& lock_path,
                                                absl::string_view contents, absl::Time deadline) {
  absl::MutexLock l(&mu_);
  auto free_or_down = [this, &lock_path]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return unavailable_ || !nodes_.contains(lock_path);
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&free_or_down), deadline)) {
    return absl::DeadlineExceededError(absl::StrCat("lock ", lock_path, " is held by '",
                                                    nodes_.find(lock_path)->second.value, "'"));
  }
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  return WriteLocked(lock_path, contents);
}

absl::Status MemoryCore::ReleaseLock(const std::string& lock_path, Version version) {
  absl::MutexLock l(&mu_);
  auto it = nodes_.find(lock_path);
  if (it == nodes_.end() || it->second.version != version) {
    return absl::AbortedError(absl::StrCat("lock ", lock_path, " was lost before Unlock"));
  }
  EraseLocked(it);  // while down, watchers learn of it when the server is back
  return CheckAvailable();
}

absl::Status MemoryCore::CheckLock(const std::string& lock_path, Version version) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  auto it = nodes_.find(lock_path);
  if (it == nodes_.end() || it->second.version != version) {
    return absl::AbortedError(absl::StrCat("lock ", lock_path, " is no longer held"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryCore::AddNodeWatch(absl::string_view path, WatchQueue* queue,
                                                 Versioned* current) {
  ++read_count_;
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return NoNode(path);
  *current = Versioned{it->second.value, it->second.version};
  int64_t id = next_watch_id_++;
  watches_[id] = Watch{std::string(path), /*dir=*/false, queue, {}};
  return id;
}

absl::StatusOr<int64_t> MemoryCore::AddDirWatch(absl::string_view dir, WatchQueue* queue,
                                                std::vector<PathValue>* current) {
  ++read_count_;
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAvailable(); !s.ok()) return s;
  Watch watch{std::string(dir), /*dir=*/true, queue, {}};
  const std::string prefix = DirPrefix(dir);
  current->clear();
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && absl::StartsWith(it->first, prefix); ++it) {
    current->push_back(PathValue{it->first, it->second.value, it->second.version});
    watch.known.insert(it->first);
  }
  int64_t id = next_watch_id_++;
  watches_[id] = std::move(watch);
  return id;
}

void MemoryCore::RemoveWatch(int64_t id) {
  absl::MutexLock l(&mu_);
  watches_.erase(id);
}

void MemoryCore::SetUnavailable(bool unavailable) {
  absl::MutexLock l(&mu_);
  if (unavailable == unavailable_) return;
  unavailable_ = unavailable;
  if (unavailable) {
    for (auto& [id, watch] : watches_) {
      WatchEvent event;
      event.kind = WatchEvent::Kind::kError;
      event.path = watch.path;
      event.error = absl::UnavailableError("memory topology server is unavailable");
      watch.queue->Push(std::move(event));
    }
  } else {
    CatchUpLocked();
  }
}

void MemoryCore::CatchUpLocked() {
  for (auto& [id, watch] : watches_) {
    if (!watch.dir) {
      auto it = nodes_.find(watch.path);
      watch.queue->Push(it == nodes_.end()
                            ? DeletedEvent(watch.path)
                            : ChangedEvent(it->first, it->second.value, it->second.version));
      continue;
    }
    const std::string prefix = DirPrefix(watch.path);
    std::set<std::string> now;
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && absl::StartsWith(it->first, prefix); ++it) {
      now.insert(it->first);
    }
    // Deletions first, then the current values, each in path order.
    for (const std::string& path : watch.known) {
      if (!now.contains(path)) watch.queue->Push(DeletedEvent(path));
    }
    for (const std::string& path : now) {
      const Node& node = nodes_.find(path)->second;
      watch.queue->Push(ChangedEvent(path, node.value, node.version));
    }
    watch.known = std::move(now);
  }
}

}  // namespace shale::topo::memory_internal
