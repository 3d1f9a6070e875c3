#pragma once

// PrimarySampler watches for two writable primaries in one shard. Every
// period it asks each tablet of each shard for its live state (GetState:
// tablet type, serving, read-only, primary term) and records every round in
// which two tablets of one shard both claim to be a serving PRIMARY that
// allows writes, with their terms. The calls of one round are sequential,
// so a claim from a tablet that was demoted between two calls of the round
// can show up too; the terms and how long an overlap lasts tell the cases
// apart (see Summary). Tablets are found through their topology records, on
// a connection of its own; a tablet that does not answer (killed, stopped)
// makes no claim.
//
// Lifecycle: the constructor starts the sampling thread, Stop() (or the
// destructor) ends it; overlaps() after Stop(). Owns its thread, its
// topology connection and its tablet clients.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace shale::chaos {

struct PrimaryOverlap {
  absl::Time at;
  std::string shard;
  // "ALIAS term N" of each claiming tablet.
  std::vector<std::string> claims;
  bool same_term = false;  // two claims with one term: never legitimate
};

class PrimarySampler {
 public:
  // shards: shard name -> the aliases of its tablets.
  PrimarySampler(std::string topo_address, std::map<std::string, std::vector<std::string>> shards,
                 absl::Duration period);
  ~PrimarySampler();
  PrimarySampler(const PrimarySampler&) = delete;
  PrimarySampler& operator=(const PrimarySampler&) = delete;

  void Stop();

  int64_t rounds() const;
  std::vector<PrimaryOverlap> overlaps() const;
  // The longest run of consecutive overlapping rounds in one shard, first
  // to last sample (zero for a single round).
  absl::Duration LongestOverlap() const;

 private:
  void Run();

  const std::string topo_address_;
  const std::map<std::string, std::vector<std::string>> shards_;
  const absl::Duration period_;
  absl::Notification stop_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  int64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<PrimaryOverlap> overlaps_ ABSL_GUARDED_BY(mu_);
  // Per shard: the start of the current run of overlapping rounds.
  std::map<std::string, absl::Time> run_start_ ABSL_GUARDED_BY(mu_);
  absl::Duration longest_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace shale::chaos
