// shale: the one binary of a Shale cluster (DESIGN §1).

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "cmd/ctl_command.h"
#include "cmd/ctld_command.h"
#include "cmd/gate_command.h"
#include "cmd/local_command.h"
#include "cmd/tablet_command.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's abseil checks every Mutex acquisition for lock-order cycles,
  // which costs measurable CPU on the query path (docs/bench.md); the tests'
  // debug builds keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  CLI::App app{
      "Shale: a sharded, replicated SQL database cluster.\n"
      "Applications talk PostgreSQL to a gateway; each shard is a set of SQLite tablets."};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    // CLI11 reports a misspelt command as "a subcommand is required"; name it instead.
    std::vector<std::string> extra = a->remaining(/*recurse=*/true);
    if (!extra.empty()) return "error: unknown command or argument \"" + extra.front() + "\" (see --help)\n";
    return std::string("error: ") + e.what() + " (see --help)\n";
  });
  shale::cmd::CtlContext ctl;
  shale::cmd::AddCtlCommand(app, &ctl);
  shale::cmd::TabletFlags tablet;
  shale::cmd::AddTabletCommand(app, &tablet);
  shale::cmd::CtldFlags ctld;
  shale::cmd::AddCtldCommand(app, &ctld);
  shale::cmd::GateFlags gate;
  shale::cmd::AddGateCommand(app, &gate);
  shale::cmd::LocalFlags local;
  shale::cmd::AddLocalCommand(app, &local);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every usage error exits 2, as documented
    // (CLI11's own codes are 100+).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (ctl.action) return shale::cmd::RunCtl(ctl);
  if (tablet.chosen) return shale::cmd::RunTablet(tablet);
  if (ctld.chosen) return shale::cmd::RunCtld(ctld);
  if (gate.chosen) return shale::cmd::RunGate(gate);
  if (!local.action.empty()) return shale::cmd::RunLocal(local);
  std::cerr << "error: no command given (see --help)\n";
  return 2;
}
