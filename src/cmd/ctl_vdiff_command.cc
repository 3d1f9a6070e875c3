// `shale ctl VDiff KS`: compares every resharding target shard of a keyspace
// with its source shards at one consistent point (issue 10; the work is
// ctl/vdiff.h, the comparison runs on the target primaries). Prints a report
// per shard and table; exit 0 when everything matches, 1 on any difference
// or failure, 2 for usage errors.

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "cmd/ctl_command.h"
#include "cmd/duration_flag.h"
#include "ctl/vdiff.h"

namespace shale::cmd {
namespace {

constexpr char kVDiffFooter[] = R"help(
Every shard of KEYSPACE whose Shard record lists source shards (a resharding target
running filtered replication, or a source running reverse streams after a primary
switch) is compared with its sources. For each stream and table, the target's primary
pauses the stream, the source's primary reads a snapshot of the table and reports its
log position, the stream applies exactly up to that position, the target reads its own
snapshot and the stream goes on; both sides then send the primary key and a hash of
every row of the stream's part of the key space, in primary-key order, and the rows are
compared one by one. Writes go on meanwhile.

The report lists, per shard, the position each stream was compared at and, per table,
the rows on the source(s) and on the target and either "match" or the number of rows
missing on the target, extra on the target, and different (same primary key, other
values), with up to --max-reported-rows examples such as "missing pk=(5)".

Exit status: 0 every table matches; 1 a difference was found, or VDiff failed (e.g. a
stream still copying, a source without a primary); 2 bad usage.
With --format json the report is a JSON object instead.)help";

struct VDiffArgs {
  std::string keyspace;
  std::string tables;
  std::string timeout = "60s";
  int max_reported_rows = 10;
};

absl::StatusOr<nlohmann::json> RunVDiffCommand(topo::Server& ts, const VDiffArgs& a,
                                               const std::string& format) {
  ctl::VDiffOptions o;
  for (absl::string_view t : absl::StrSplit(a.tables, ',', absl::SkipWhitespace())) {
    o.tables.emplace_back(absl::StripAsciiWhitespace(t));
  }
  ASSIGN_OR_RETURN(o.timeout, ParseDurationFlag(a.timeout));
  o.max_reported_rows = a.max_reported_rows;
  ASSIGN_OR_RETURN(ctl::KeyspaceVDiff result, ctl::RunVDiff(ts, a.keyspace, o));
  if (format == "json") {
    std::cout << result.ToJson().dump(2) << "\n";
  } else {
    std::cout << result.ToText();
  }
  std::cout << std::flush;
  if (!result.match()) {
    // Exit 1 with the one-line error after the report.
    return absl::DataLossError(absl::StrCat("VDiff found differences in ",
                                            result.differing_tables(), " table comparison(s) of ",
                                            a.keyspace));
  }
  return nlohmann::json();
}

}  // namespace

void AddVDiffCommand(CLI::App* ctl, CtlContext* ctx) {
  auto a = std::make_shared<VDiffArgs>();
  CLI::App* cmd = ctl->add_subcommand(
      "VDiff",
      "Compare each resharding target shard of a keyspace with its source shards at one "
      "consistent point, row by row; exit 1 on any difference");
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_option("--tables", a->tables,
                  "Only these tables, comma-separated (default: every table the streams carry)");
  cmd->add_option("--timeout", a->timeout,
                  "How long each stream may take to catch up to its source's snapshot, e.g. "
                  "30s, 5m")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--max-reported-rows", a->max_reported_rows,
                  "Differing rows listed per table")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->footer(kVDiffFooter);
  cmd->callback([ctx, a] {
    ctx->action = [a, ctx](topo::Server& ts) { return RunVDiffCommand(ts, *a, ctx->format); };
  });
}

}  // namespace shale::cmd
