#pragma once

// The JSON form of a change event that `shale ctl Subscribe` prints, one
// object a line (issue 9):
//   {"shard":"-80","position":"-80:12.2.0,80-:9.2.0","table":"t","op":"update",
//    "pk":{"id":1},"before":{"v":"a"},"after":{"v":"b"},
//    "commit_ts":"2026-11-22T16:00:00.123456Z","commit_ts_us":1795..}
// Values: int64 and float as numbers, text as strings, blobs as base64
// strings, NULL as null. "ddl" carries a DDL event's statement; a heartbeat
// has no table, pk, before or after. Stateless; thread-safe.

#include "changes/merge_queue.h"
#include "nlohmann/json.hpp"

namespace shale::changes {

// "insert", "update", "delete", "ddl", "heartbeat" ("unknown" otherwise).
const char* ChangeOpName(tablet::ChangeOp op);

nlohmann::json ValueToJson(const tablet::Value& value);
nlohmann::json EventToJson(const MergedEvent& event);

}  // namespace shale::changes
