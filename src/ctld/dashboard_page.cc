// The dashboard page served at / by ctld (see dashboard.h): static HTML, CSS
// and JS with no external resources (the network may be offline). The page
// holds no cluster data: its script fetches /api/cluster every second and
// renders it, so what it shows is always the live state.

#include "ctld/dashboard.h"

namespace shale::ctld {

const char* DashboardPageHtml() {
  return R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>shale ctld dashboard</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
header a{color:#9ecbff}
main{padding:4px 20px 20px}
h2{font-size:16px;margin:18px 0 8px}
.shards{display:flex;flex-wrap:wrap;gap:12px}
.shard{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:8px 12px;min-width:560px}
.shard h3{margin:0 0 6px;font-size:15px;display:flex;gap:14px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceef2;font-size:13px}
th{color:#5b6475;font-weight:600}
.badge{padding:1px 7px;border-radius:9px;font-size:12px}
.serving{background:#d5f5dd;color:#116329}
.not-serving{background:#fff1c2;color:#7a5a00}
.unreachable{background:#ffd7d5;color:#a40e26}
tr.primary td:first-child{font-weight:700}
.muted{color:#8b93a3}
.err{color:#a40e26}
</style></head>
<body>
<header><h1>Shale cluster</h1><span id="leader">loading&hellip;</span><span id="self"></span>
<span id="updated" class="muted"></span></header>
<main>
<div id="error" class="err"></div>
<div id="keyspaces"></div>
<h2>Recent primary changes</h2><div id="changes"></div>
<h2>Recent failovers</h2><div id="failovers"></div>
</main>
<script>
"use strict";
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}
function table(head, rows) {
  const t = el("table", {}, el("tr", {}, ...head.map(h => el("th", {}, h))));
  for (const r of rows) t.append(r);
  return t;
}
function lag(t) {
  if (t.type === "PRIMARY") return "-";
  const s = t.lag_seconds;
  return s < 1 ? (s * 1000).toFixed(0) + " ms" : s.toFixed(1) + " s";
}
function tabletRow(t) {
  const problem = t.health_error || (t.status === "serving" ? "" : t.last_error);
  return el("tr", {"data-alias": t.alias, "data-type": t.type, "class": t.is_primary ? "primary" : ""},
            el("td", {}, t.alias), el("td", {}, t.type),
            el("td", {}, el("span", {"class": "badge " + t.status.replace(" ", "-")}, t.status)),
            el("td", {}, lag(t)), el("td", {}, t.log_position),
            el("td", {}, t.primary_term || ""), el("td", {"class": "err"}, problem));
}
function shardCard(ks, s) {
  const title = el("h3", {}, el("span", {}, ks + "/" + s.name),
                   el("span", {}, s.primary ? "primary " + s.primary : "no primary"),
                   el("span", {}, "term " + s.term),
                   el("span", {"class": "muted"}, s.term_start ? "since " + s.term_start : ""));
  const rows = s.tablets.map(tabletRow);
  return el("div", {"class": "shard", "data-shard": ks + "/" + s.name, "data-primary": s.primary,
                    "data-term": s.term}, title,
            rows.length ? table(["tablet", "type", "health", "lag", "log position", "term", "error"], rows)
                        : el("p", {"class": "muted"}, "no tablets known"));
}
function renderLeader(d) {
  const leader = document.getElementById("leader");
  const l = d.leader;
  if (!l || l.resigned) {
    leader.replaceChildren("no ctld leads" + (l ? " (" + l.holder + " stepped down)" : ""));
    leader.removeAttribute("data-leader");
  } else {
    leader.replaceChildren("leader: " + l.holder + " (term " + l.term + ") ",
                           el("a", {"href": "http://" + l.http_address + "/"}, l.http_address));
    leader.setAttribute("data-leader", l.holder);
  }
  document.getElementById("self").textContent =
      "this ctld: " + d.ctld.holder + (d.ctld.is_leader ? " (leader)" : " (standby)");
}
function render(d) {
  renderLeader(d);
  document.getElementById("updated").textContent = "updated " + d.generated_at;
  document.getElementById("error").textContent =
      d.topology_error ? "topology: " + d.topology_error + " (showing the last known state)" : "";
  const kss = d.keyspaces.map(k => el("div", {"class": "keyspace", "data-keyspace": k.name},
      el("h2", {}, "keyspace " + k.name,
         el("span", {"class": "muted"}, k.sharding_column ? "  sharded by " + k.sharding_column : "  unsharded")),
      el("div", {"class": "shards"}, ...k.shards.map(s => shardCard(k.name, s)))));
  if (d.other_tablets.length) {
    kss.push(el("div", {}, el("h2", {}, "tablets of unknown shards"),
                table(["tablet", "type", "health", "lag", "log position", "term", "error"],
                      d.other_tablets.map(tabletRow))));
  }
  document.getElementById("keyspaces").replaceChildren(
      ...(kss.length ? kss : [el("p", {"class": "muted"}, "no keyspaces")]));
  document.getElementById("changes").replaceChildren(d.primary_changes.length
      ? table(["seen at", "shard", "from", "to"], d.primary_changes.map(c => el("tr", {},
            el("td", {}, c.time), el("td", {}, c.keyspace + "/" + c.shard),
            el("td", {}, c.old_primary ? c.old_primary + " (term " + c.old_term + ")" : "none"),
            el("td", {}, c.new_primary + " (term " + c.new_term + ")"))))
      : el("p", {"class": "muted"}, "none seen since this ctld started"));
  let failovers;
  if (!d.failovers_kept) {
    failovers = el("p", {"class": "muted"}, "kept by the leading ctld: see its dashboard");
  } else if (!d.failovers.length) {
    failovers = el("p", {"class": "muted"}, "none");
  } else {
    failovers = table(["time", "shard", "outcome", "old primary", "new primary", "down for", "message"],
        d.failovers.map(f => el("tr", {}, el("td", {}, f.time), el("td", {}, f.keyspace + "/" + f.shard),
            el("td", {}, f.outcome), el("td", {}, f.old_primary + " (term " + f.old_term + ")"),
            el("td", {}, f.new_primary ? f.new_primary + " (term " + f.new_term + ")" : ""),
            el("td", {}, Math.round(f.down_for_ms) + " ms"), el("td", {}, f.message))));
  }
  document.getElementById("failovers").replaceChildren(failovers);
}
async function refresh() {
  try {
    const r = await fetch("/api/cluster", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    document.getElementById("error").textContent =
        "cannot reach ctld: " + e.message + " (showing the last known state)";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body></html>
)HTML";
}

}  // namespace shale::ctld
