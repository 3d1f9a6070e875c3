// `shale ctl` commands for the serving graph, the replication graph, the
// routing policy and raw topology browsing.

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "ctl/rebuild.h"
#include "ctl/record_json.h"
#include "ctl/topo_browse.h"

namespace shale::cmd {
namespace {

using Json = nlohmann::json;
using Result = absl::StatusOr<Json>;

// The serving graph as written, per cell, so the operator sees the result.
Result SrvKeyspacesJson(topo::Server& ts, const std::string& keyspace,
                        std::vector<std::string> cells) {
  if (cells.empty()) {
    ASSIGN_OR_RETURN(cells, ts.ListCells());
  }
  Json out = Json::object();
  for (const std::string& cell : cells) {
    ASSIGN_OR_RETURN(topodata::SrvKeyspace srv, ts.GetSrvKeyspace(cell, keyspace));
    out[cell] = ctl::RecordToJson(srv);
  }
  return out;
}

void AddRebuildCommands(CLI::App* ctl, CtlContext* ctx) {
  struct Args {
    std::string target;
    std::vector<std::string> cells;
    bool allow_partial = false;
  };
  auto ks = std::make_shared<Args>();
  CLI::App* rk = ctl->add_subcommand(
      "RebuildKeyspaceGraph", "Compute a keyspace's SrvKeyspace and write it to every cell");
  rk->add_option("KEYSPACE", ks->target, "Keyspace name")->required();
  rk->add_option("--cells", ks->cells, "Only these cells (comma-separated)")->delimiter(',');
  rk->add_flag("--allow-partial", ks->allow_partial,
               "Write the graph even if the serving shards leave a gap or overlap");
  rk->callback([ctx, ks] {
    ctx->action = [ks](topo::Server& ts) -> Result {
      RETURN_IF_ERROR(ctl::RebuildKeyspaceGraph(ts, ks->target, ks->cells, ks->allow_partial));
      return SrvKeyspacesJson(ts, ks->target, ks->cells);
    };
  });

  auto sh = std::make_shared<Args>();
  CLI::App* rs = ctl->add_subcommand("RebuildShardGraph",
                                     "Rebuild one shard's part of its keyspace's SrvKeyspace");
  rs->add_option("KEYSPACE/SHARD", sh->target, "e.g. app/-80")->required();
  rs->add_option("--cells", sh->cells, "Only these cells (comma-separated)")->delimiter(',');
  rs->callback([ctx, sh] {
    ctx->action = [sh](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(auto ks_shard, SplitKeyspaceShard(sh->target));
      RETURN_IF_ERROR(ctl::RebuildShardGraph(ts, ks_shard.first, ks_shard.second, sh->cells));
      return SrvKeyspacesJson(ts, ks_shard.first, sh->cells);
    };
  });
}

void AddServingCommands(CLI::App* ctl, CtlContext* ctx) {
  struct Args {
    std::string cell, target;
  };
  auto srv = std::make_shared<Args>();
  CLI::App* gs = ctl->add_subcommand("GetSrvKeyspace", "Print a cell's serving graph of a keyspace");
  gs->add_option("CELL", srv->cell, "Cell name")->required();
  gs->add_option("KEYSPACE", srv->target, "Keyspace name")->required();
  gs->callback([ctx, srv] {
    ctx->action = [srv](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topodata::SrvKeyspace r, ts.GetSrvKeyspace(srv->cell, srv->target));
      return ctl::RecordToJson(r);
    };
  });

  auto rep = std::make_shared<Args>();
  CLI::App* gr = ctl->add_subcommand("GetShardReplication",
                                     "Print the tablets of a shard in one cell");
  gr->add_option("CELL", rep->cell, "Cell name")->required();
  gr->add_option("KEYSPACE/SHARD", rep->target, "e.g. app/-80")->required();
  gr->callback([ctx, rep] {
    ctx->action = [rep](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(auto ks_shard, SplitKeyspaceShard(rep->target));
      ASSIGN_OR_RETURN(topodata::ShardReplication r,
                       ts.GetShardReplication(rep->cell, ks_shard.first, ks_shard.second));
      return ctl::RecordToJson(r);
    };
  });
}

void AddRoutingPolicyCommands(CLI::App* ctl, CtlContext* ctx) {
  ctl->add_subcommand("GetRoutingPolicy",
                      "Print the routing policy gateways apply (the default if none is set)")
      ->callback([ctx] {
        ctx->action = [](topo::Server& ts) -> Result {
          ASSIGN_OR_RETURN(topodata::RoutingPolicy p, ts.GetRoutingPolicy());
          return ctl::RecordToJson(p);
        };
      });
  struct Args {
    std::string json, file;
  };
  auto a = std::make_shared<Args>();
  CLI::App* set = ctl->add_subcommand("SetRoutingPolicy", "Replace the routing policy");
  set->add_option("JSON", a->json,
                  R"(Policy as JSON, e.g. {"rules":[{"scope":"LOCAL_CELL","max_lag_seconds":30,)"
                  R"("min_serving_tablets":2}],"never_above_lag_seconds":7200})");
  set->add_option("--file", a->file, "Read the policy JSON from this file")
      ->check(CLI::ExistingFile);
  set->callback([ctx, a] {
    ctx->writes = true;
    ctx->action = [a](topo::Server& ts) -> Result {
      std::string json = a->json;
      if (!a->file.empty()) {
        std::ifstream in(a->file);
        std::stringstream buf;
        buf << in.rdbuf();
        json = buf.str();
      }
      if (json.empty()) return absl::InvalidArgumentError("give the policy as JSON or --file");
      topodata::RoutingPolicy p;
      RETURN_IF_ERROR(ctl::JsonToRecord(json, &p));
      RETURN_IF_ERROR(ts.SetRoutingPolicy(p));
      return ctl::RecordToJson(p);
    };
  });
}

void AddBrowseCommands(CLI::App* ctl, CtlContext* ctx) {
  struct Args {
    std::string path, cell;
    bool recursive = false;
  };
  auto conn_for = [](topo::Server& ts, const std::string& cell) -> absl::StatusOr<topo::Conn*> {
    if (cell.empty()) return &ts.global();
    ASSIGN_OR_RETURN(topo::CellConn cc, ts.ForCell(cell));
    return cc.conn;
  };
  auto ls = std::make_shared<Args>();
  CLI::App* ls_cmd = ctl->add_subcommand("TopoLs", "List a topology directory");
  ls_cmd->add_option("PATH", ls->path, "Directory, e.g. /global/keyspaces")->required();
  ls_cmd->add_flag("-R,--recursive", ls->recursive, "List every value path below PATH");
  ls_cmd->add_option("--cell", ls->cell, "Browse this cell's topology server instead");
  ls_cmd->callback([ctx, ls, conn_for] {
    ctx->action = [ls, conn_for](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topo::Conn * conn, conn_for(ts, ls->cell));
      return ctl::TopoLs(*conn, ls->path, ls->recursive);
    };
  });
  auto cat = std::make_shared<Args>();
  CLI::App* cat_cmd = ctl->add_subcommand("TopoCat", "Print any topology value as JSON");
  cat_cmd->add_option("PATH", cat->path, "e.g. /global/keyspaces/app/Keyspace")->required();
  cat_cmd->add_option("--cell", cat->cell, "Read from this cell's topology server instead");
  cat_cmd->callback([ctx, cat, conn_for] {
    ctx->action = [cat, conn_for](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topo::Conn * conn, conn_for(ts, cat->cell));
      return ctl::TopoCat(*conn, cat->path);
    };
  });
}

}  // namespace

void AddGraphCommands(CLI::App* ctl, CtlContext* ctx) {
  AddRebuildCommands(ctl, ctx);
  AddServingCommands(ctl, ctx);
  AddRoutingPolicyCommands(ctl, ctx);
  AddBrowseCommands(ctl, ctx);
}

}  // namespace shale::cmd
