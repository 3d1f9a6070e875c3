#include "changes/event_json.h"

#include "absl/strings/escaping.h"
#include "absl/time/time.h"

namespace shale::changes {
namespace {

nlohmann::json Columns(const google::protobuf::RepeatedPtrField<tablet::ColumnValue>& columns) {
  nlohmann::json out = nlohmann::json::object();
  for (const tablet::ColumnValue& c : columns) out[c.name()] = ValueToJson(c.value());
  return out;
}

}  // namespace

const char* ChangeOpName(tablet::ChangeOp op) {
  switch (op) {
    case tablet::INSERT:
      return "insert";
    case tablet::UPDATE:
      return "update";
    case tablet::DELETE:
      return "delete";
    case tablet::DDL_STATEMENT:
      return "ddl";
    case tablet::HEARTBEAT_EVENT:
      return "heartbeat";
    default:
      return "unknown";
  }
}

nlohmann::json ValueToJson(const tablet::Value& value) {
  switch (value.kind_case()) {
    case tablet::Value::kInt64:
      return value.int64();
    case tablet::Value::kFloat64:
      return value.float64();
    case tablet::Value::kText:
      return value.text();
    case tablet::Value::kBlob:
      return absl::Base64Escape(value.blob());
    default:
      return nullptr;
  }
}

nlohmann::json EventToJson(const MergedEvent& m) {
  const tablet::ChangeEvent& e = m.event;
  nlohmann::json out;
  out["shard"] = m.shard;
  out["position"] = m.position;
  out["op"] = ChangeOpName(e.op());
  if (e.op() != tablet::HEARTBEAT_EVENT && !e.table().empty()) out["table"] = e.table();
  switch (e.op()) {
    case tablet::INSERT:
      out["pk"] = Columns(e.pk());
      out["after"] = Columns(e.after());
      break;
    case tablet::DELETE:
      out["pk"] = Columns(e.pk());
      out["before"] = Columns(e.before());
      break;
    case tablet::UPDATE:
      out["pk"] = Columns(e.pk());
      out["before"] = Columns(e.before());
      out["after"] = Columns(e.after());
      break;
    case tablet::DDL_STATEMENT:
      out["ddl"] = e.ddl();
      break;
    default:
      break;
  }
  if (e.commit_ts_us() > 0) {
    out["commit_ts"] = absl::FormatTime(
        "%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(e.commit_ts_us()), absl::UTCTimeZone());
    out["commit_ts_us"] = e.commit_ts_us();
  }
  return out;
}

}  // namespace shale::changes
