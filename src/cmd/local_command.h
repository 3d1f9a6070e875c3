#pragma once

// `shale local up|status|down`: a whole cluster on one machine (DESIGN §1),
// run by local::Launcher. Parses the flags and maps the outcome to an exit
// code. Confined to the main thread.

#include <set>
#include <string>

#include "CLI/CLI.hpp"
#include "local/cluster_plan.h"

namespace shale::cmd {

// The parsed flags of one `shale local` invocation.
struct LocalFlags {
  std::string action;  // "up", "status" or "down"; empty when not chosen
  bool verbose = false;
  local::LocalOptions options;
  std::set<std::string> given;  // layout flags set explicitly (up only)
};

void AddLocalCommand(CLI::App& app, LocalFlags* flags);

// Runs the chosen action; returns the exit code: 0 success (status: all
// healthy), 1 failure (status: something unhealthy), with one "error: ..."
// line on stderr for a failure.
int RunLocal(const LocalFlags& flags);

}  // namespace shale::cmd
