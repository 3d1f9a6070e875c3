#pragma once

// The options of an in-process test tablet of app/0 in cell zone1 (the
// tablet's unit tests): data dir DIR/UID, a health message every 200 ms and
// a record publisher that retries at once. Tests change what they need.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "tablet/tablet_server.h"

namespace shale::tablet {

inline TabletServerOptions TestTabletOptions(uint32_t uid, topodata::TabletType type,
                                             const std::string& dir) {
  TabletServerOptions o;
  o.alias = {"zone1", uid};
  o.keyspace = "app";
  o.shard = "0";
  o.init_type = type;
  o.data_dir = dir + "/" + std::to_string(uid);
  o.health_interval = absl::Milliseconds(200);
  o.publisher.initial_backoff = absl::Milliseconds(1);
  o.publisher.max_backoff = absl::Milliseconds(20);
  return o;
}

}  // namespace shale::tablet
