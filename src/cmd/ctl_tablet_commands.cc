// `shale ctl` commands that talk to a running tablet (issue 4): each is ONE
// RPC to the tablet, found through its record (hostname + port_map["grpc"]).
// None of them edits the record: the tablet applies the change and updates
// its own record in the background.

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "ctl/record_json.h"
#include "ctl/tablets.h"
#include "tablet/client/tablet_client.h"

namespace shale::cmd {
namespace {

using Json = nlohmann::json;
using Result = absl::StatusOr<Json>;
using tablet::TabletClient;

constexpr absl::Duration kRpcTimeout = absl::Seconds(30);

absl::StatusOr<std::unique_ptr<TabletClient>> ClientFor(topo::Server& ts,
                                                         const std::string& alias) {
  ASSIGN_OR_RETURN(topo::TabletAlias a, topo::TabletAlias::Parse(alias));
  return TabletClient::ForTablet(ts, a);
}

// Adds the error's context: which tablet at which address.
absl::Status AtTablet(const absl::Status& s, const std::string& alias, const TabletClient& c) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("tablet ", alias, " (", c.address(), "): ",
                                             s.message()));
}

Json ValueToJson(const tablet::Value& v) {
  switch (v.kind_case()) {
    case tablet::Value::kInt64:
      return v.int64();
    case tablet::Value::kFloat64:
      return v.float64();
    case tablet::Value::kText:
      return v.text();
    case tablet::Value::kBlob:
      return absl::StrCat("x'", absl::BytesToHexString(v.blob()), "'");
    default:
      return nullptr;
  }
}

// JSON: fields, rows (arrays), counts. Table: one row per result row, a
// column per field; a statement without result columns prints its counts.
Json ResultToJson(const tablet::QueryResult& r, const std::string& format) {
  if (format == "table") {
    if (r.fields_size() == 0) {
      return Json{{"rows_affected", r.rows_affected()}, {"last_insert_id", r.last_insert_id()}};
    }
    Json rows = Json::array();
    for (const tablet::Row& row : r.rows()) {
      Json obj = Json::object();
      for (int i = 0; i < r.fields_size() && i < row.values_size(); ++i) {
        obj[r.fields(i).name()] = ValueToJson(row.values(i));
      }
      rows.push_back(obj);
    }
    return rows;
  }
  Json fields = Json::array();
  for (const tablet::Field& f : r.fields()) {
    fields.push_back(Json{{"name", f.name()}, {"decl_type", f.decl_type()}});
  }
  Json rows = Json::array();
  for (const tablet::Row& row : r.rows()) {
    Json values = Json::array();
    for (const tablet::Value& v : row.values()) values.push_back(ValueToJson(v));
    rows.push_back(values);
  }
  return Json{{"fields", fields},
              {"rows", rows},
              {"rows_affected", r.rows_affected()},
              {"last_insert_id", r.last_insert_id()}};
}

// A command CMD ALIAS that sends Req and prints the response's state.
template <typename Req, typename Resp>
void AddStateCommand(CLI::App* ctl, CtlContext* ctx, const std::string& name,
                     const std::string& help,
                     grpc::Status (tablet::TabletManager::Stub::*method)(grpc::ClientContext*,
                                                                         const Req&, Resp*)) {
  auto alias = std::make_shared<std::string>();
  CLI::App* cmd = ctl->add_subcommand(name, help);
  cmd->add_option("CELL-UID", *alias, "Tablet alias, e.g. zone1-101")->required();
  cmd->callback([ctx, alias, method] {
    ctx->action = [alias, method](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> c, ClientFor(ts, *alias));
      absl::StatusOr<Resp> r = c->Call(c->manager(), method, Req(), kRpcTimeout);
      RETURN_IF_ERROR(AtTablet(r.status(), *alias, *c));
      return ctl::RecordToJson(r->state());
    };
  });
}

}  // namespace

void AddTabletRpcCommands(CLI::App* ctl, CtlContext* ctx) {
  AddStateCommand(ctl, ctx, "GetTabletState", "Print a tablet's live state (one RPC to it)",
                  &tablet::TabletManager::Stub::GetState);
  AddStateCommand(ctl, ctx, "SetReadOnly", "Make a tablet refuse writes",
                  &tablet::TabletManager::Stub::SetReadOnly);
  AddStateCommand(ctl, ctx, "SetReadWrite", "Let a primary tablet take writes again",
                  &tablet::TabletManager::Stub::SetReadWrite);
  AddStateCommand(ctl, ctx, "RefreshState",
                  "Make a tablet re-read global state (its Shard record)",
                  &tablet::TabletManager::Stub::RefreshState);
  {
    struct Args {
      std::string alias, type;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = ctl->add_subcommand(
        "ChangeTabletType", "Change a tablet's type (replica, rdonly, spare, drained)");
    cmd->add_option("CELL-UID", a->alias, "Tablet alias, e.g. zone1-101")->required();
    cmd->add_option("TYPE", a->type, "New type")->required();
    cmd->callback([ctx, a] {
      ctx->action = [a](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(topodata::TabletType type, ctl::ParseTabletType(a->type));
        ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> c, ClientFor(ts, a->alias));
        tablet::ChangeTypeRequest req;
        req.set_tablet_type(type);
        auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::ChangeType, req, kRpcTimeout);
        RETURN_IF_ERROR(AtTablet(r.status(), a->alias, *c));
        return ctl::RecordToJson(r->state());
      };
    });
  }
  {
    auto alias = std::make_shared<std::string>();
    CLI::App* cmd = ctl->add_subcommand("Ping", "Check that a tablet answers");
    cmd->add_option("CELL-UID", *alias, "Tablet alias, e.g. zone1-101")->required();
    cmd->callback([ctx, alias] {
      ctx->action = [alias](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> c, ClientFor(ts, *alias));
        const absl::Time start = absl::Now();
        auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::Ping, tablet::PingRequest(),
                         absl::Seconds(10));
        RETURN_IF_ERROR(AtTablet(r.status(), *alias, *c));
        return Json{{"alias", topo::TabletAlias::FromProto(r->alias()).ToString()},
                    {"address", c->address()},
                    {"rtt_ms", absl::ToDoubleMilliseconds(absl::Now() - start)}};
      };
    });
  }
  {
    struct Args {
      std::string alias, sql;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = ctl->add_subcommand("ExecuteFetchAsDba",
                                        "Run one SQL statement on a tablet and print the result");
    cmd->add_option("CELL-UID", a->alias, "Tablet alias, e.g. zone1-101")->required();
    cmd->add_option("SQL", a->sql, "The statement")->required();
    cmd->callback([ctx, a] {
      ctx->action = [ctx, a](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> c, ClientFor(ts, a->alias));
        tablet::ExecuteFetchAsDbaRequest req;
        req.set_sql(a->sql);
        auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, req,
                         kRpcTimeout);
        RETURN_IF_ERROR(AtTablet(r.status(), a->alias, *c));
        return ResultToJson(r->result(), ctx->format);
      };
    });
  }
}

}  // namespace shale::cmd
