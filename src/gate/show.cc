#include "gate/show.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "key/key_range.h"

namespace shale::gate {
namespace {

class Table {
 public:
  explicit Table(std::initializer_list<const char*> columns) {
    for (const char* c : columns) {
      tablet::Field* f = result_.add_fields();
      f->set_name(c);
      f->set_decl_type("TEXT");
    }
  }
  void Add(std::initializer_list<std::string> values) {
    tablet::Row* row = result_.add_rows();
    for (const std::string& v : values) row->add_values()->set_text(v);
  }
  tablet::QueryResult Take() { return std::move(result_); }

 private:
  tablet::QueryResult result_;
};

const std::map<std::string, std::string>& Defaults() {
  static const auto* defaults = new std::map<std::string, std::string>{
      {"server_version", "15.0 (Shale)"},
      {"server_encoding", "UTF8"},
      {"client_encoding", "UTF8"},
      {"standard_conforming_strings", "on"},
      {"transaction_isolation", "serializable"},
      {"default_transaction_isolation", "serializable"},
      {"datestyle", "ISO, MDY"},
      {"timezone", "UTC"},
      {"integer_datetimes", "on"},
      {"search_path", "public"},
  };
  return *defaults;
}

absl::StatusOr<tablet::QueryResult> ShowShards(GateContext& ctx) {
  Table t({"keyspace", "shard", "key_range", "primary", "primary_term"});
  ASSIGN_OR_RETURN(std::vector<std::string> keyspaces, ctx.ts->ListKeyspaces());
  for (const std::string& ks : keyspaces) {
    absl::StatusOr<std::vector<std::string>> shards = ctx.ts->ListShards(ks);
    if (!shards.ok()) continue;
    for (const std::string& shard : *shards) {
      std::string primary = "-", term = "-";
      if (auto p = ctx.health->GetPrimary(ks, shard); p.ok()) {
        primary = (*p)->alias.ToString();
        term = absl::StrCat((*p)->primary_term);
      }
      absl::StatusOr<key::KeyRange> range = key::KeyRange::Parse(shard);
      t.Add({ks, shard, range.ok() ? range->ToString() : shard, primary, term});
    }
  }
  return t.Take();
}

tablet::QueryResult ShowTablets(GateContext& ctx) {
  Table t({"cell", "keyspace", "shard", "type", "state", "alias", "address", "primary_term",
           "lag_seconds", "log_position"});
  for (const discovery::TabletHealthPtr& h : ctx.health->GetAll()) {
    t.Add({h->alias.cell, h->target.keyspace, h->target.shard,
           discovery::TabletTypeName(h->target.type),
           h->IsServing() ? "SERVING" : (h->stream_up ? "NOT_SERVING" : "DOWN"),
           h->alias.ToString(), h->address, absl::StrCat(h->primary_term),
           absl::StrCat(h->replication_lag_seconds), absl::StrCat(h->log_position)});
  }
  return t.Take();
}

// The keyspace's tables as this gateway's catalog (the watched VSchema) has them.
absl::StatusOr<tablet::QueryResult> ShowTables(GateContext& ctx, const std::string& keyspace) {
  ASSIGN_OR_RETURN(KeyspaceSchema schema, ctx.schemas->Get(keyspace));
  Table t({"table", "type", "sharding_column", "table_id"});
  std::map<std::string, const topodata::VSchema::Table*> sorted;
  for (const auto& [name, table] : schema.vschema().tables()) sorted[name] = &table;
  for (const auto& [name, table] : sorted) {
    const bool reference = table->type() == topodata::VSchema::REFERENCE;
    std::string column = "-";
    if (!reference && table->column_vindexes_size() > 0) column = table->column_vindexes(0).column();
    t.Add({name, reference ? "reference" : (column == "-" ? "unsharded" : "sharded"), column,
           absl::StrCat(table->table_id())});
  }
  return t.Take();
}

}  // namespace

absl::StatusOr<tablet::QueryResult> ShowResult(
    GateContext& ctx, const std::string& what, const std::string& keyspace,
    const std::map<std::string, std::string>& settings) {
  if (what == "tables") return ShowTables(ctx, keyspace);
  if (what == "keyspaces") {
    Table t({"keyspace"});
    ASSIGN_OR_RETURN(std::vector<std::string> keyspaces, ctx.ts->ListKeyspaces());
    for (const std::string& ks : keyspaces) t.Add({ks});
    return t.Take();
  }
  if (what == "shards") return ShowShards(ctx);
  if (what == "tablets") return ShowTablets(ctx);
  if (what == "all") {
    Table t({"name", "setting"});
    std::map<std::string, std::string> all = Defaults();
    for (const auto& [k, v] : settings) all[k] = v;
    for (const auto& [k, v] : all) t.Add({k, v});
    return t.Take();
  }
  auto it = settings.find(what);
  std::string value;
  if (it != settings.end()) {
    value = it->second;
  } else if (auto d = Defaults().find(what); d != Defaults().end()) {
    value = d->second;
  } else {
    return SqlError(absl::StatusCode::kNotFound, sqlstate::kUndefinedObject,
                    absl::StrCat("unrecognized configuration parameter \"", what, "\""));
  }
  Table t({what.c_str()});
  t.Add({value});
  return t.Take();
}

}  // namespace shale::gate
