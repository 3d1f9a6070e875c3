#pragma once

// MetaClient is the gateway's client of ctld's meta service (DESIGN §6, the
// "from user" path): it finds the leading ctld through the CtldLeader
// record, which it watches (it never polls, and the watch is its own event
// loop, apart from the calls), and sends it a schema change. When the
// leader dies or steps down mid-call, the request goes again to the next
// leader: every meta call is idempotent.
//
// Owned by the Gateway; borrows the topo::Server. Thread-safe.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "discovery/record_watch.h"
#include "gate/sql/ast.h"
#include "grpcpp/channel.h"
#include "meta_service.grpc.pb.h"
#include "topo/server.h"

namespace shale::gate {

class MetaClient {
 public:
  explicit MetaClient(topo::Server* ts, absl::Duration timeout = absl::Seconds(120))
      : ts_(ts), timeout_(timeout) {}

  // Runs one schema statement of keyspace on the leading ctld, waiting (up
  // to the timeout) through a change of leader that happens during the
  // call. Unavailable (08006) saying to start ctld when none leads at the
  // start (never elected, or the last one stepped down); the meta service's
  // errors otherwise.
  absl::StatusOr<meta::DdlResponse> Run(sql::StatementKind kind, const std::string& keyspace,
                                        const std::string& sql);

 private:
  // The current leader record, starting the watch on first use.
  absl::StatusOr<std::optional<topodata::CtldLeader>> Leader();
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);

  topo::Server* const ts_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  // mu_ protects the following.
  std::unique_ptr<discovery::RecordWatch> watch_ ABSL_GUARDED_BY(mu_);
  int64_t changes_ ABSL_GUARDED_BY(mu_) = 0;  // leader record changes seen
  std::string channel_address_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::gate
