#include "ctl/record_json.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "topodata.pb.h"

namespace shale::ctl {
namespace {

// The record type stored under a given last path component.
std::unique_ptr<google::protobuf::Message> RecordFor(absl::string_view path) {
  absl::string_view name = path.substr(path.rfind('/') + 1);
  absl::string_view parent = path.substr(0, path.rfind('/'));
  if (absl::EndsWith(parent, "/locks")) return std::make_unique<topodata::LockInfo>();
  if (name == "Keyspace") return std::make_unique<topodata::Keyspace>();
  if (name == "Shard") return std::make_unique<topodata::Shard>();
  if (name == "Tablet") return std::make_unique<topodata::Tablet>();
  if (name == "ShardReplication") return std::make_unique<topodata::ShardReplication>();
  if (name == "SrvKeyspace") return std::make_unique<topodata::SrvKeyspace>();
  if (name == "CellInfo") return std::make_unique<topodata::CellInfo>();
  if (name == "VSchema") return std::make_unique<topodata::VSchema>();
  if (name == "RoutingPolicy") return std::make_unique<topodata::RoutingPolicy>();
  if (name == "CtldLeader") return std::make_unique<topodata::CtldLeader>();
  return nullptr;
}

bool IsUtf8Text(absl::string_view v) {
  try {
    (void)nlohmann::json(std::string(v)).dump();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  for (unsigned char c : v) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Key ranges print as hex bounds ("80", "" for open), as shard names spell
// them, instead of proto JSON's decimal uint64 strings.
void KeyRangesToHex(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) KeyRangesToHex(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    nlohmann::json& v = it.value();  // a plain reference: clang 14 cannot capture bindings
    if (it.key() == "key_range" && v.is_object()) {
      auto bound = [&](const char* name) -> std::string {
        uint64_t n = 0;
        if (!v.contains(name) || !absl::SimpleAtoi(v[name].get<std::string>(), &n) || n == 0) {
          return "";
        }
        std::string hex = absl::StrFormat("%016x", n);
        while (hex.size() > 2 && hex.substr(hex.size() - 2) == "00") hex.resize(hex.size() - 2);
        return hex;
      };
      v = nlohmann::json{{"start", bound("start")}, {"end", bound("end")}};
    } else {
      KeyRangesToHex(v);
    }
  }
}

// The field of d named key in JSON: by its proto name or its JSON (lowerCamel) name.
const google::protobuf::FieldDescriptor* FieldNamed(const google::protobuf::Descriptor* d,
                                                    const std::string& key) {
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->name() == key || f->json_name() == key) return f;
  }
  return nullptr;
}

// The path (e.g. tables["t"].tabel_id) of the first key in j, the JSON of a
// message d, that names no field; empty when there is none. Looks into our
// own message fields, repeated ones and string-keyed maps of them; the
// well-known types (google.protobuf.*) are left to the protobuf parser.
std::string UnknownField(const nlohmann::json& j, const google::protobuf::Descriptor* d,
                         const std::string& path) {
  if (!j.is_object() || absl::StartsWith(d->full_name(), "google.protobuf.")) return "";
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string at = path.empty() ? it.key() : absl::StrCat(path, ".", it.key());
    const google::protobuf::FieldDescriptor* f = FieldNamed(d, it.key());
    if (f == nullptr) return at;
    if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) continue;
    const nlohmann::json& v = it.value();
    std::string found;
    if (f->is_map()) {
      const google::protobuf::Descriptor* value = f->message_type()->map_value()->message_type();
      if (value == nullptr || !v.is_object()) continue;
      for (auto e = v.begin(); e != v.end() && found.empty(); ++e) {
        found = UnknownField(e.value(), value, absl::StrCat(at, "[\"", e.key(), "\"]"));
      }
    } else if (f->is_repeated()) {
      if (!v.is_array()) continue;
      for (size_t i = 0; i < v.size() && found.empty(); ++i) {
        found = UnknownField(v[i], f->message_type(), absl::StrCat(at, "[", i, "]"));
      }
    } else {
      found = UnknownField(v, f->message_type(), at);
    }
    if (!found.empty()) return found;
  }
  return "";
}

}  // namespace

nlohmann::json RecordToJson(const google::protobuf::Message& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail; the fallback keeps output valid JSON.
  if (!google::protobuf::util::MessageToJsonString(record, &out, options).ok()) return {};
  nlohmann::json j = nlohmann::json::parse(out);
  KeyRangesToHex(j);
  return j;
}

absl::StatusOr<nlohmann::json> DecodeTopoValue(absl::string_view path, absl::string_view value) {
  std::unique_ptr<google::protobuf::Message> record = RecordFor(path);
  if (record != nullptr) {
    if (!record->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat("value at ", path, " does not parse as ",
                                              record->GetDescriptor()->full_name()));
    }
    return RecordToJson(*record);
  }
  if (IsUtf8Text(value)) return nlohmann::json(std::string(value));
  return nlohmann::json{{"hex", absl::BytesToHexString(value)}};
}

absl::Status JsonToRecord(absl::string_view json, google::protobuf::Message* record) {
  const std::string what = absl::StrCat("invalid ", record->GetDescriptor()->name(), " JSON: ");
  // nlohmann first: it is strict (protobuf accepts trailing commas) and says
  // where the syntax breaks (line and column).
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::parse_error& e) {
    absl::string_view reason = e.what();
    if (size_t at = reason.find("] "); at != absl::string_view::npos) {
      reason.remove_prefix(at + 2);  // "[json.exception.parse_error.101] "
    }
    return absl::InvalidArgumentError(absl::StrCat(what, reason));
  }
  if (std::string field = UnknownField(j, record->GetDescriptor(), ""); !field.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, "unknown field ", field));
  }
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), record, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, std::string(status.message())));
  }
  return absl::OkStatus();
}

}  // namespace shale::ctl
