// `shale ctl` commands for keyspace, shard, cell and tablet records.

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "ctl/delete_tablet.h"
#include "ctl/record_json.h"
#include "ctl/tablets.h"

namespace shale::cmd {
namespace {

using Json = nlohmann::json;
using Result = absl::StatusOr<Json>;

Json Names(const std::vector<std::string>& names) {
  Json out = Json::array();
  for (const auto& n : names) out.push_back(n);
  return out;
}

absl::StatusOr<topodata::DurabilityPolicy> ParseDurability(const std::string& name) {
  if (name == "none") return topodata::DURABILITY_NONE;
  if (name == "semi_sync") return topodata::SEMI_SYNC;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown durability policy \"", name, "\": use none or semi_sync"));
}

void AddKeyspaceCommands(CLI::App* ctl, CtlContext* ctx) {
  {
    struct Args {
      std::string keyspace, column, column_type = "uint64", durability = "none";
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = ctl->add_subcommand("CreateKeyspace", "Create a keyspace");
    cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
    cmd->add_option("--sharding-column", a->column, "Column whose value picks a row's shard");
    cmd->add_option("--sharding-column-type", a->column_type, "uint64 or bytes")
        ->check(CLI::IsMember({"uint64", "bytes"}))
        ->capture_default_str();
    cmd->add_option("--durability", a->durability, "none or semi_sync")->capture_default_str();
    cmd->callback([ctx, a] {
      ctx->writes = true;
      ctx->action = [a](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(topodata::DurabilityPolicy durability, ParseDurability(a->durability));
        topodata::Keyspace ks;
        ks.set_durability_policy(durability);
        if (!a->column.empty()) {
          ks.set_sharding_column_name(a->column);
          ks.set_sharding_column_type(a->column_type == "bytes" ? topodata::BYTES
                                                                : topodata::UINT64);
        }
        RETURN_IF_ERROR(ts.CreateKeyspace(a->keyspace, ks));
        return ctl::RecordToJson(ks);
      };
    });
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* cmd = ctl->add_subcommand("GetKeyspace", "Print a keyspace record");
    cmd->add_option("KEYSPACE", *name, "Keyspace name")->required();
    cmd->callback([ctx, name] {
      ctx->action = [name](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(topo::KeyspaceInfo ki, ts.GetKeyspace(*name));
        return ctl::RecordToJson(ki.record);
      };
    });
  }
  ctl->add_subcommand("ListKeyspaces", "List keyspace names")->callback([ctx] {
    ctx->action = [](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListKeyspaces());
      return Names(names);
    };
  });
  {
    struct Args {
      std::string keyspace;
      bool recursive = false;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = ctl->add_subcommand("DeleteKeyspace", "Delete a keyspace");
    cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
    cmd->add_flag("--recursive", a->recursive,
                  "Also delete its shards, serving graphs and replication graphs");
    cmd->callback([ctx, a] {
      ctx->action = [a](topo::Server& ts) -> Result {
        RETURN_IF_ERROR(ts.DeleteKeyspace(a->keyspace, a->recursive));
        return Json();
      };
    });
  }
}

void AddShardCommands(CLI::App* ctl, CtlContext* ctx) {
  auto add = [&](const char* name, const char* help, bool writes, auto fn) {
    auto arg = std::make_shared<std::string>();
    CLI::App* cmd = ctl->add_subcommand(name, help);
    cmd->add_option("KEYSPACE/SHARD", *arg, "e.g. app/-80, app/80-, or app/0 when unsharded")
        ->required();
    cmd->callback([ctx, arg, writes, fn] {
      ctx->writes = writes;
      ctx->action = [arg, fn](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(auto ks_shard, SplitKeyspaceShard(*arg));
        return fn(ts, ks_shard.first, ks_shard.second);
      };
    });
  };
  add("CreateShard",
      "Create a shard; its name is its key range. A shard overlapping existing ones serves "
      "nothing: it is a resharding target (see Reshard)",
      true,
      [](topo::Server& ts, const std::string& ks, const std::string& shard) -> Result {
        RETURN_IF_ERROR(ts.CreateShard(ks, shard));
        ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(ks, shard));
        if (si.record.served_types().empty()) {
          std::cerr << "note: " << ks << "/" << shard
                    << " overlaps existing shards, so it serves nothing for now: a resharding "
                       "target (start its tablets, then Reshard "
                    << ks << " --source ... --target " << shard << ")" << std::endl;
        }
        return ctl::RecordToJson(si.record);
      });
  add("GetShard", "Print a shard record", false,
      [](topo::Server& ts, const std::string& ks, const std::string& shard) -> Result {
        ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(ks, shard));
        return ctl::RecordToJson(si.record);
      });
  add("DeleteShard", "Delete a shard record", false,
      [](topo::Server& ts, const std::string& ks, const std::string& shard) -> Result {
        RETURN_IF_ERROR(ts.DeleteShard(ks, shard));
        return Json();
      });
  auto ks = std::make_shared<std::string>();
  CLI::App* list = ctl->add_subcommand("ListShards", "List a keyspace's shards in key order");
  list->add_option("KEYSPACE", *ks, "Keyspace name")->required();
  list->callback([ctx, ks] {
    ctx->action = [ks](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(*ks));
      return Names(names);
    };
  });
}

void AddCellCommands(CLI::App* ctl, CtlContext* ctx) {
  {
    struct Args {
      std::string cell, server, root, region;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = ctl->add_subcommand("AddCellInfo", "Register a cell");
    cmd->add_option("CELL", a->cell, "Cell name, e.g. zone1")->required();
    cmd->add_option("--server", a->server,
                    "Topology address of the cell's own server (default: the global server)");
    cmd->add_option("--root", a->root, "Path of the cell's records on that server (default /CELL)");
    cmd->add_option("--region", a->region, "Region the cell belongs to");
    cmd->callback([ctx, a] {
      ctx->writes = true;
      ctx->action = [a](topo::Server& ts) -> Result {
        topodata::CellInfo info;
        info.set_server_address(a->server);
        info.set_root(a->root);
        info.set_region(a->region);
        RETURN_IF_ERROR(ts.AddCellInfo(a->cell, info));
        return ctl::RecordToJson(info);
      };
    });
  }
  auto cell = std::make_shared<std::string>();
  CLI::App* get = ctl->add_subcommand("GetCellInfo", "Print a cell's record");
  get->add_option("CELL", *cell, "Cell name")->required();
  get->callback([ctx, cell] {
    ctx->action = [cell](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topodata::CellInfo info, ts.GetCellInfo(*cell));
      return ctl::RecordToJson(info);
    };
  });
  auto del = std::make_shared<std::string>();
  CLI::App* del_cmd = ctl->add_subcommand("DeleteCellInfo", "Unregister a cell");
  del_cmd->add_option("CELL", *del, "Cell name")->required();
  del_cmd->callback([ctx, del] {
    ctx->action = [del](topo::Server& ts) -> Result {
      RETURN_IF_ERROR(ts.DeleteCellInfo(*del));
      return Json();
    };
  });
  ctl->add_subcommand("ListCells", "List cell names")->callback([ctx] {
    ctx->action = [](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListCells());
      return Names(names);
    };
  });
}

Json TabletSummary(const topodata::Tablet& t) {
  auto port = [&](const char* name) {
    auto it = t.port_map().find(name);
    return it == t.port_map().end() ? Json() : Json(it->second);
  };
  return Json{{"alias", topo::TabletAlias::FromProto(t.alias()).ToString()},
              {"keyspace", t.keyspace()},
              {"shard", t.shard()},
              {"type", topodata::TabletType_Name(t.type())},
              {"hostname", t.hostname()},
              {"grpc_port", port("grpc")},
              {"http_port", port("http")},
              {"primary_term", t.primary_term()}};
}

void AddTabletCommands(CLI::App* ctl, CtlContext* ctx) {
  auto alias = std::make_shared<std::string>();
  CLI::App* get = ctl->add_subcommand("GetTablet", "Print a tablet's record");
  get->add_option("CELL-UID", *alias, "Tablet alias, e.g. zone1-100")->required();
  get->callback([ctx, alias] {
    ctx->action = [alias](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topo::TabletAlias a, topo::TabletAlias::Parse(*alias));
      ASSIGN_OR_RETURN(topo::TabletInfo ti, ts.GetTablet(a));
      return ctl::RecordToJson(ti.record);
    };
  });
  {
    struct Args {
      std::string alias;
      ctl::DeleteTabletOptions options;
    };
    auto a = std::make_shared<Args>();
    CLI::App* del = ctl->add_subcommand(
        "DeleteTablet",
        "Delete a tablet's record and remove it from its cell's ShardReplication. Stop the "
        "tablet process first: a running tablet writes its record again. Refuses the tablet "
        "the Shard record names as primary unless --allow-primary");
    del->add_option("CELL-UID", a->alias, "Tablet alias, e.g. zone1-100")->required();
    del->add_flag("--allow-primary", a->options.allow_primary,
                  "Also delete the shard's primary; the Shard record then names no primary "
                  "(elect one with PlannedReparentShard)");
    del->callback([ctx, a] {
      ctx->action = [a](topo::Server& ts) -> Result {
        ASSIGN_OR_RETURN(topo::TabletAlias alias, topo::TabletAlias::Parse(a->alias));
        ASSIGN_OR_RETURN(ctl::DeleteTabletResult r, ctl::DeleteTablet(ts, alias, a->options));
        return Json{{"deleted", r.alias},
                    {"keyspace", r.keyspace},
                    {"shard", r.shard},
                    {"removed_from_shard_replication", r.removed_from_shard_replication},
                    {"cleared_shard_primary", r.cleared_shard_primary}};
      };
    });
  }
  struct Args {
    ctl::TabletFilter filter;
    std::string type;
  };
  auto a = std::make_shared<Args>();
  CLI::App* list = ctl->add_subcommand("ListTablets", "List tablets, optionally filtered");
  list->add_option("--cell", a->filter.cell, "Only this cell");
  list->add_option("--keyspace", a->filter.keyspace, "Only this keyspace");
  list->add_option("--shard", a->filter.shard, "Only this shard");
  list->add_option("--type", a->type, "Only this type: primary, replica, rdonly, spare, drained");
  list->callback([ctx, a] {
    ctx->action = [a](topo::Server& ts) -> Result {
      ctl::TabletFilter filter = a->filter;
      if (!a->type.empty()) {
        ASSIGN_OR_RETURN(filter.type, ctl::ParseTabletType(a->type));
      }
      ASSIGN_OR_RETURN(std::vector<topodata::Tablet> tablets, ctl::ListTablets(ts, filter));
      Json out = Json::array();
      for (const auto& t : tablets) out.push_back(TabletSummary(t));
      return out;
    };
  });
}

}  // namespace

void AddRecordCommands(CLI::App* ctl, CtlContext* ctx) {
  AddKeyspaceCommands(ctl, ctx);
  AddShardCommands(ctl, ctx);
  AddCellCommands(ctl, ctx);
  AddTabletCommands(ctl, ctx);
}

}  // namespace shale::cmd
