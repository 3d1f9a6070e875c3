// `shale ctl` commands for a keyspace's VSchema (its catalog, DESIGN §6):
// GetVSchema prints the record as JSON; ApplyVSchema replaces it from a JSON
// file (the work is in ctl/vschema_apply.h). GetVSchema's output is valid
// ApplyVSchema input.

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "cmd/duration_flag.h"
#include "ctl/record_json.h"
#include "ctl/vschema_apply.h"

namespace shale::cmd {
namespace {

using Json = nlohmann::json;
using Result = absl::StatusOr<Json>;

constexpr char kApplyFooter[] = R"(
The file holds a VSchema record as JSON (proto field names), as GetVSchema prints it, e.g.
  {"sharded": true, "vindexes": {"hash": {"type": "hash"}},
   "tables": {"users": {"column_vindexes": [{"column": "id", "name": "hash"}]},
              "countries": {"type": "REFERENCE"}}}
Table ids are allocated by ctld, never by an operator: give a new table table_id 0 (or
leave it out) and ApplyVSchema allocates one; a table already in the VSchema keeps its
id (0 in the file keeps it). Any other table_id is refused and nothing changes.
Prints the changes (tables and vindexes added, removed or changed, one per line) and
the new record.)";

// The file's contents; "-" reads stdin. NotFound naming an unreadable file.
absl::StatusOr<std::string> ReadInput(const std::string& file) {
  std::stringstream buf;
  if (file == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file));
  buf << in.rdbuf();
  return buf.str();
}

void AddGetVSchema(CLI::App* ctl, CtlContext* ctx) {
  auto keyspace = std::make_shared<std::string>();
  CLI::App* cmd = ctl->add_subcommand(
      "GetVSchema", "Print a keyspace's VSchema (tables, table ids, vindexes) as JSON");
  cmd->add_option("KEYSPACE", *keyspace, "Keyspace name")->required();
  cmd->callback([ctx, keyspace] {
    ctx->action = [keyspace](topo::Server& ts) -> Result {
      ASSIGN_OR_RETURN(topodata::VSchema vschema, ts.GetVSchema(*keyspace));
      return ctl::RecordToJson(vschema);
    };
  });
}

void AddApplyVSchema(CLI::App* ctl, CtlContext* ctx) {
  struct Args {
    std::string keyspace, file, lock_timeout = "30s";
    bool dry_run = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = ctl->add_subcommand(
      "ApplyVSchema",
      "Replace a keyspace's VSchema from a JSON file, under the keyspace lock; new tables get "
      "ids from the allocator");
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_option("--file", a->file, "The VSchema JSON; - reads stdin")->required();
  cmd->add_flag("--dry-run", a->dry_run,
                "Validate and print the changes; save nothing and allocate no id");
  cmd->add_option("--lock-timeout", a->lock_timeout,
                  "How long to wait for the keyspace lock (ctld's DDL may hold it)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->footer(kApplyFooter);
  cmd->callback([ctx, a] {
    ctx->action = [a](topo::Server& ts) -> Result {
      ctl::ApplyVSchemaOptions o;
      o.dry_run = a->dry_run;
      ASSIGN_OR_RETURN(o.lock_timeout, ParseDurationFlag(a->lock_timeout));
      ASSIGN_OR_RETURN(std::string json, ReadInput(a->file));
      topodata::VSchema vschema;
      RETURN_IF_ERROR(ctl::JsonToRecord(json, &vschema));
      ASSIGN_OR_RETURN(ctl::ApplyVSchemaResult r,
                       ctl::ApplyVSchema(ts, a->keyspace, std::move(vschema), o));
      return r.ToJson();
    };
  });
}

}  // namespace

void AddVSchemaCommands(CLI::App* ctl, CtlContext* ctx) {
  AddGetVSchema(ctl, ctx);
  AddApplyVSchema(ctl, ctx);
}

}  // namespace shale::cmd
