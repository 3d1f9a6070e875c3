#pragma once

// Subscription: a keyspace's committed row changes, merged from one
// ShardStream per shard (issue 9). Start() finds the shards (the cell's
// SrvKeyspace, else the Shard records), fixes every shard's starting position
// ("now": each shard's newest entry, asked of the tablet that will serve the
// stream, so every event carries a complete resumable position), and runs
// one thread per shard; their events meet in a bounded MergeQueue
// (merge_queue.h), each stamped with the keyspace position after it. The
// consumer calls Next(). A consumer that leaves the queue full for
// stall_timeout is cut off with RESOURCE_EXHAUSTED naming the position to
// resume from; a shard stream's unrecoverable error ends the subscription
// with that error; otherwise it runs until Stop().
//
// Lifecycle: Start, Next until it returns an error or the caller is done,
// Stop (also the destructor). Borrows the topo::Server, which must outlive it.
// Thread-safe; Next is meant for one consumer thread.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "changes/keyspace_position.h"
#include "changes/merge_queue.h"
#include "changes/shard_stream.h"
#include "topo/server.h"

namespace shale::changes {

struct SubscriptionOptions {
  std::string keyspace;
  std::vector<std::string> tables;                       // empty: every table
  std::string from;                                      // "" or "now", or a KeyspacePosition text
  topodata::TabletType tablet_type = topodata::PRIMARY;  // PRIMARY or REPLICA
  std::string cell;      // whose SrvKeyspace names the shards; "": the Shard records
  int heartbeat_ms = 0;  // per shard; 0: the tablet's default (1 s)
  MergeQueueOptions queue;
  // How long Start() may wait for a tablet to tell a shard's position ("now").
  absl::Duration start_timeout = absl::Seconds(30);
  // Passed to every ShardStream (backoff, position-error patience).
  ShardStreamOptions stream;
};

class Subscription {
 public:
  // InvalidArgument for a bad `from` (malformed, or naming shards the
  // keyspace does not have or missing some) or tablet type; NotFound for an
  // unknown keyspace or one without shards; Unavailable (DeadlineExceeded)
  // when "now" cannot be resolved within start_timeout.
  static absl::StatusOr<std::unique_ptr<Subscription>> Start(topo::Server* ts,
                                                             SubscriptionOptions options);
  ~Subscription();

  // Up to max events, waiting up to timeout for the first; empty on timeout.
  // The subscription's end as an error: RESOURCE_EXHAUSTED (too slow),
  // a shard's unrecoverable error, or CANCELLED after Stop().
  absl::StatusOr<std::vector<MergedEvent>> Next(size_t max, absl::Duration timeout);

  // The starting position (every shard), as text.
  const std::string& start_position() const { return start_; }
  const std::vector<std::string>& shards() const { return shards_; }
  // Subscribe calls opened by all shard streams (reconnects included).
  int64_t connects() const;

  void Stop();

 private:
  Subscription(std::vector<std::string> shards, KeyspacePosition start,
               const SubscriptionOptions& options);
  void Launch(topo::Server* ts, const SubscriptionOptions& options, const KeyspacePosition& start);

  const std::vector<std::string> shards_;
  const std::string start_;
  MergeQueue queue_;
  std::vector<std::unique_ptr<ShardStream>> streams_;  // set before the threads start
  std::vector<std::thread> threads_;
  absl::Mutex stop_mu_;  // serialises Stop()
};

// The shards of keyspace: from cell's SrvKeyspace (the PRIMARY partition)
// when cell is set and it has one, else the Shard records. NotFound for an
// unknown keyspace or one without shards.
absl::StatusOr<std::vector<std::string>> KeyspaceShards(topo::Server& ts,
                                                        absl::string_view keyspace,
                                                        absl::string_view cell);

}  // namespace shale::changes
