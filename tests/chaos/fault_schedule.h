#pragma once

// The faults of the chaos test and the order they come in: a seeded RNG
// (print the seed; SHALE_CHAOS_SEED reproduces a run) shuffles every kind
// into a round, so each kind comes once per round, and the rounds repeat
// until the run's time is up. Pure; confined to the test thread.

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace shale::chaos {

enum class FaultKind {
  kKillTablet,       // kill -9 of a tablet (primary or replica), restarted with its data and flags
  kKillGate,         // kill -9 of the gateway, restarted on the same PostgreSQL port
  kKillCtld,         // kill -9 of ctld, restarted
  kStopPrimary,      // SIGSTOP of a primary for a few seconds, then SIGCONT
  kRestartEtcd,      // kill -9 of etcd, started again on the same port and data dir
  kReplicaDiskFull,  // a replica's files may not grow (see README.md), then lifted
};

inline constexpr FaultKind kAllFaults[] = {FaultKind::kKillTablet,  FaultKind::kKillGate,
                                           FaultKind::kKillCtld,    FaultKind::kStopPrimary,
                                           FaultKind::kRestartEtcd, FaultKind::kReplicaDiskFull};

inline const char* FaultName(FaultKind k) {
  switch (k) {
    case FaultKind::kKillTablet:
      return "kill -9 tablet";
    case FaultKind::kKillGate:
      return "kill -9 gateway";
    case FaultKind::kKillCtld:
      return "kill -9 ctld";
    case FaultKind::kStopPrimary:
      return "SIGSTOP primary";
    case FaultKind::kRestartEtcd:
      return "kill -9 etcd";
    case FaultKind::kReplicaDiskFull:
      return "replica disk full";
  }
  return "?";
}

// Hands out faults: each round is a fresh shuffle of every kind.
class FaultSchedule {
 public:
  explicit FaultSchedule(std::mt19937_64* rng) : rng_(rng) {}

  FaultKind Next() {
    if (round_.empty()) {
      round_.assign(std::begin(kAllFaults), std::end(kAllFaults));
      std::shuffle(round_.begin(), round_.end(), *rng_);
    }
    FaultKind k = round_.back();
    round_.pop_back();
    return k;
  }
  // True between rounds: every kind so far came equally often.
  bool at_round_end() const { return round_.empty(); }

 private:
  std::mt19937_64* rng_;  // borrowed from the test, which outlives the schedule
  std::vector<FaultKind> round_;
};

}  // namespace shale::chaos
