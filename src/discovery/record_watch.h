#pragma once

// RecordWatch keeps the last known values of one topology record, or of every
// record below a directory, up to date through a watch, so callers read them
// from memory instead of the topology (DESIGN §5: nothing is polled).
//
//   - One record (Spec::path set): Watch(path). A record that does not exist
//     yet cannot be watched by path, so then the watch is WatchDir(Spec::dir)
//     (a directory holding path) filtered to path; its creation is seen there.
//   - A directory (Spec::path empty): WatchDir(Spec::dir), every value below.
// on_change(path) is called after each real change of a value (created,
// updated, deleted); a value written again unchanged (as a watch replays the
// state after an outage) is not a change. An outage (kError) keeps every
// value and only sets in_outage() until the watch reports again.
//
// Lifecycle: Start() makes the watch; destroying the RecordWatch cancels it
// and, once the destructor returns, on_change is not called again. Owned by
// the SrvKeyspaceWatcher. Thread-safe; on_change runs on the backend's watch
// thread, one call at a time, without any RecordWatch lock held, and must not
// destroy the RecordWatch.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "topo/conn.h"

namespace shale::discovery {

class RecordWatch {
 public:
  struct Spec {
    std::string path;  // the record; "" to watch every value below dir
    std::string dir;   // a directory holding path (or the directory to watch)
  };
  using OnChange = std::function<void(const std::string& path)>;

  // Errors of Watch / WatchDir (Unavailable when the topology is down).
  static absl::StatusOr<std::unique_ptr<RecordWatch>> Start(topo::Conn& conn, Spec spec,
                                                            OnChange on_change);
  ~RecordWatch();
  RecordWatch(const RecordWatch&) = delete;
  RecordWatch& operator=(const RecordWatch&) = delete;

  // The value at path, or nullopt when there is none.
  std::optional<std::string> Get(const std::string& path) const;
  // Spec::path's value (one-record watches).
  std::optional<std::string> value() const { return Get(spec_.path); }
  // Every value, by path.
  std::map<std::string, std::string> values() const;
  bool in_outage() const;

 private:
  RecordWatch(Spec spec, OnChange on_change)
      : spec_(std::move(spec)), on_change_(std::move(on_change)) {}
  void OnEvent(const topo::WatchEvent& event);
  bool Wanted(const std::string& path) const;

  const Spec spec_;
  const OnChange on_change_;
  std::unique_ptr<topo::WatchHandle> handle_;  // set once by Start

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::map<std::string, std::string> values_ ABSL_GUARDED_BY(mu_);
  bool outage_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shale::discovery
