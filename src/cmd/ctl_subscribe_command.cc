// `shale ctl Subscribe KS`: a keyspace's committed row changes as JSON lines
// (issue 9), straight from the tablets through changes::Subscription (no
// gateway needed). Ends after --limit events or --timeout, exit 0; a
// subscription error exits 1 with the error (a too-slow reader's names the
// position to resume from).

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "changes/event_json.h"
#include "changes/keyspace_position.h"
#include "changes/subscription.h"
#include "cmd/ctl_command.h"
#include "cmd/duration_flag.h"

namespace shale::cmd {
namespace {

constexpr char kSubscribeFooter[] = R"(
Prints one JSON object a line, flushed per line:
  {"shard":"-80","position":"-80:12.2.0,80-:9.2.0","table":"t","op":"update",
   "pk":{"id":1},"before":{"v":"a"},"after":{"v":"b"},"commit_ts":"...","commit_ts_us":...}
op is insert, update, delete, ddl (with "ddl": the statement) or heartbeat. Values:
integers and floats as numbers, text as strings, blobs as base64, NULL as null. An
update's before/after hold the changed columns; pk is always the primary key.
Heartbeats (the position moves while nothing changes) are printed only with --heartbeats.
Every line's "position" resumes the stream right after that line: pass it to --from.
Positions are SHARD:SEQ.TERM.ROW per shard, joined by commas.
The subscription follows planned reparents and failovers without an error.)";

struct SubscribeArgs {
  std::string keyspace;
  std::string tables;
  std::string from = "now";
  int64_t limit = 0;
  std::string timeout;
  std::string tablet_type = "primary";
  bool heartbeats = false;
  int heartbeat_ms = 1000;
  size_t max_events = changes::MergeQueueOptions().max_events;
};

CLI::Validator PositionValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (absl::AsciiStrToLower(text) == "now") return "";
        absl::StatusOr<changes::KeyspacePosition> p = changes::KeyspacePosition::Parse(text);
        return p.ok() ? "" : std::string(p.status().message());
      },
      "POSITION");
}

absl::StatusOr<nlohmann::json> RunSubscribe(topo::Server& ts, const SubscribeArgs& a) {
  changes::SubscriptionOptions o;
  o.keyspace = a.keyspace;
  for (absl::string_view t : absl::StrSplit(a.tables, ',', absl::SkipWhitespace())) {
    o.tables.emplace_back(absl::StripAsciiWhitespace(t));
  }
  o.from = a.from;
  o.tablet_type = a.tablet_type == "replica" ? topodata::REPLICA : topodata::PRIMARY;
  o.heartbeat_ms = a.heartbeat_ms;
  o.queue.max_events = a.max_events;
  std::optional<absl::Time> deadline;
  if (!a.timeout.empty()) {
    ASSIGN_OR_RETURN(absl::Duration d, ParseDurationFlag(a.timeout));
    deadline = absl::Now() + d;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<changes::Subscription> sub,
                   changes::Subscription::Start(&ts, o));
  int64_t printed = 0;
  for (;;) {
    absl::Duration wait = absl::Milliseconds(200);
    if (deadline.has_value()) {
      const absl::Duration left = *deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      wait = std::min(wait, left);
    }
    ASSIGN_OR_RETURN(std::vector<changes::MergedEvent> events, sub->Next(256, wait));
    for (const changes::MergedEvent& e : events) {
      const bool heartbeat = e.event.op() == tablet::HEARTBEAT_EVENT;
      if (heartbeat && !a.heartbeats) continue;
      std::cout << changes::EventToJson(e).dump() << "\n" << std::flush;
      if (!heartbeat && a.limit > 0 && ++printed >= a.limit) return nlohmann::json();
    }
  }
  return nlohmann::json();
}

}  // namespace

void AddSubscribeCommand(CLI::App* ctl, CtlContext* ctx) {
  auto a = std::make_shared<SubscribeArgs>();
  CLI::App* cmd = ctl->add_subcommand(
      "Subscribe",
      "Print a keyspace's committed row changes (and DDL) as JSON lines, following every "
      "shard's primary (or a replica) across reparents and failovers");
  cmd->add_option("KEYSPACE", a->keyspace, "Keyspace name")->required();
  cmd->add_option("--tables", a->tables,
                  "Only these tables, comma-separated (DDL is always printed; default: all)");
  cmd->add_option("--from", a->from,
                  "Where to start: now, or a \"position\" of an earlier line "
                  "(SHARD:SEQ.TERM.ROW,...) to resume right after it")
      ->check(PositionValidator())
      ->capture_default_str();
  cmd->add_option("--limit", a->limit,
                  "End (exit 0) after this many events, heartbeats not counted; 0: no limit")
      ->check(CLI::Range(0, 1000000000))
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "End (exit 0) after this long, e.g. 30s, 5m")
      ->check(DurationValidator());
  cmd->add_option("--tablet-type", a->tablet_type,
                  "Stream from each shard's primary or from a replica")
      ->check(CLI::IsMember({"primary", "replica"}))
      ->capture_default_str();
  cmd->add_flag("--heartbeats", a->heartbeats, "Also print heartbeat events (hidden by default)");
  cmd->add_option("--heartbeat-ms", a->heartbeat_ms,
                  "How often each shard sends a heartbeat while idle, in milliseconds")
      ->check(CLI::Range(10, 3600000))
      ->capture_default_str();
  cmd->add_option("--max-buffered", a->max_events,
                  "Events buffered before a reader that does not keep up is cut off")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->footer(kSubscribeFooter);
  cmd->callback([ctx, a] { ctx->action = [a](topo::Server& ts) { return RunSubscribe(ts, *a); }; });
}

}  // namespace shale::cmd
