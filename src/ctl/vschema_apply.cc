#include "ctl/vschema_apply.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ctl/record_json.h"
#include "ctl/vschema_check.h"

namespace shale::ctl {
namespace {

using VSchema = topodata::VSchema;

constexpr char kLockReason[] = "ApplyVSchema";

std::string ColumnVindexes(const VSchema::Table& t) {
  if (t.column_vindexes_size() == 0) return "none";
  std::vector<std::string> parts;
  for (const VSchema::ColumnVindex& cv : t.column_vindexes()) {
    parts.push_back(absl::StrCat(cv.column(), ":", cv.name()));
  }
  return absl::StrJoin(parts, ",");
}

std::string TableId(int64_t id) {
  return id == 0 ? std::string("to be allocated") : absl::StrCat(id);
}

std::string DescribeTable(const VSchema::Table& t) {
  return absl::StrCat(VSchema::TableType_Name(t.type()), ", table_id ", TableId(t.table_id()),
                      ", column_vindexes ", ColumnVindexes(t));
}

// "type A -> B, ..." for the fields that differ; empty when none does.
std::string TableChanges(const VSchema::Table& a, const VSchema::Table& b) {
  std::vector<std::string> parts;
  if (a.type() != b.type()) {
    parts.push_back(absl::StrCat("type ", VSchema::TableType_Name(a.type()), " -> ",
                                 VSchema::TableType_Name(b.type())));
  }
  if (a.table_id() != b.table_id()) {
    parts.push_back(
        absl::StrCat("table_id ", TableId(a.table_id()), " -> ", TableId(b.table_id())));
  }
  if (ColumnVindexes(a) != ColumnVindexes(b)) {
    parts.push_back(absl::StrCat("column_vindexes ", ColumnVindexes(a), " -> ", ColumnVindexes(b)));
  }
  return absl::StrJoin(parts, ", ");
}

// The sorted union of two protobuf maps' keys.
template <typename Map>
std::set<std::string> Keys(const Map& a, const Map& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  return keys;
}

}  // namespace

nlohmann::json ApplyVSchemaResult::ToJson() const {
  return nlohmann::json{
      {"dry_run", dry_run}, {"changes", changes}, {"vschema", RecordToJson(vschema)}};
}

absl::StatusOr<std::vector<std::string>> CarryTableIds(const VSchema& stored, VSchema* applied) {
  std::vector<std::string> unallocated;
  for (auto& [name, table] : *applied->mutable_tables()) {
    auto it = stored.tables().find(name);
    const int64_t stored_id = it == stored.tables().end() ? 0 : it->second.table_id();
    if (table.table_id() == 0) {
      if (stored_id > 0) {
        table.set_table_id(stored_id);
      } else {
        unallocated.push_back(name);
      }
      continue;
    }
    if (table.table_id() == stored_id) continue;
    if (stored_id > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table \"", name, "\" has table_id ", stored_id, "; the file gives ", table.table_id(),
          ": a table keeps the id the allocator gave it (give 0 or ", stored_id, ")"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "table \"", name, "\" is new but the file gives it table_id ", table.table_id(),
        ": table ids come from ctld's allocator; give 0 and ApplyVSchema allocates one"));
  }
  std::sort(unallocated.begin(), unallocated.end());
  return unallocated;
}

std::vector<std::string> DiffVSchema(const VSchema& before, const VSchema& after) {
  std::vector<std::string> out;
  if (before.sharded() != after.sharded()) {
    out.push_back(absl::StrCat("sharded: ", before.sharded() ? "true" : "false", " -> ",
                               after.sharded() ? "true" : "false"));
  }
  for (const std::string& name : Keys(before.vindexes(), after.vindexes())) {
    auto a = before.vindexes().find(name);
    auto b = after.vindexes().find(name);
    if (a == before.vindexes().end()) {
      out.push_back(absl::StrCat("added vindex ", name, " (type ", b->second.type(), ")"));
    } else if (b == after.vindexes().end()) {
      out.push_back(absl::StrCat("removed vindex ", name));
    } else if (a->second.type() != b->second.type()) {
      out.push_back(absl::StrCat("changed vindex ", name, ": type ", a->second.type(), " -> ",
                                 b->second.type()));
    }
  }
  for (const std::string& name : Keys(before.tables(), after.tables())) {
    auto a = before.tables().find(name);
    auto b = after.tables().find(name);
    if (a == before.tables().end()) {
      out.push_back(absl::StrCat("added table ", name, " (", DescribeTable(b->second), ")"));
    } else if (b == after.tables().end()) {
      out.push_back(
          absl::StrCat("removed table ", name, " (table_id ", a->second.table_id(), ")"));
    } else if (std::string c = TableChanges(a->second, b->second); !c.empty()) {
      out.push_back(absl::StrCat("changed table ", name, ": ", c));
    }
  }
  return out;
}

absl::StatusOr<ApplyVSchemaResult> ApplyVSchema(topo::Server& ts, absl::string_view keyspace,
                                                VSchema vschema,
                                                const ApplyVSchemaOptions& options) {
  // The input alone first: a bad file takes no lock.
  RETURN_IF_ERROR(ValidateVSchema(vschema));
  std::unique_ptr<topo::LockHandle> lock;
  if (!options.dry_run) {
    ASSIGN_OR_RETURN(lock, ts.LockKeyspace(keyspace, kLockReason, options.lock_timeout));
  }
  ASSIGN_OR_RETURN(VSchema stored, ts.GetVSchema(keyspace));
  ASSIGN_OR_RETURN(std::vector<std::string> unallocated, CarryTableIds(stored, &vschema));
  RETURN_IF_ERROR(ValidateVSchema(vschema));  // carried ids must not collide either
  ApplyVSchemaResult result;
  result.dry_run = options.dry_run;
  if (!options.dry_run) {
    for (const std::string& name : unallocated) {
      ASSIGN_OR_RETURN(int64_t id, ts.AllocateTableId());
      (*vschema.mutable_tables())[name].set_table_id(id);
    }
    RETURN_IF_ERROR(lock->Check());
    RETURN_IF_ERROR(ts.SaveVSchema(keyspace, vschema));
    // The record is saved; an unlock that fails leaves a lease that expires on its own.
    lock->Unlock().IgnoreError();
  }
  result.changes = DiffVSchema(stored, vschema);
  result.vschema = std::move(vschema);
  return result;
}

}  // namespace shale::ctl
