#include "topo/etcd/etcd_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace shale::topo::etcd_internal {
namespace {

bool ShouldFailOver(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // Reconnect quickly once a server is back (gRPC's default backoff grows to 2 minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Detect a dead connection under an idle watch. etcd refuses pings more often than
  // every 5s, and pings without an active call.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetMaxReceiveMessageSize(-1);  // a large directory listing is fine
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

bool CallCanceller::Begin(grpc::ClientContext* ctx) {
  absl::MutexLock l(&mu_);
  if (cancelled_) return false;
  ctx_ = ctx;
  return true;
}

void CallCanceller::End() {
  absl::MutexLock l(&mu_);
  ctx_ = nullptr;
}

void CallCanceller::Cancel() {
  absl::MutexLock l(&mu_);
  cancelled_ = true;
  if (ctx_ != nullptr) ctx_->TryCancel();
}

bool CallCanceller::cancelled() {
  absl::MutexLock l(&mu_);
  return cancelled_;
}

bool CallCanceller::SleepUnlessCancelled(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancelled_), d);
  return cancelled_;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

std::shared_ptr<EtcdClient> EtcdClient::Create(std::vector<std::string> endpoints,
                                               EtcdClientOptions options) {
  std::vector<Endpoint> built;
  for (std::string& target : endpoints) {
    Endpoint e;
    e.target = std::move(target);
    e.channel = MakeChannel(e.target);
    e.kv = etcdserverpb::KV::NewStub(e.channel);
    e.watch = etcdserverpb::Watch::NewStub(e.channel);
    e.lease = etcdserverpb::Lease::NewStub(e.channel);
    built.push_back(std::move(e));
  }
  return std::shared_ptr<EtcdClient>(new EtcdClient(std::move(built), options));
}

EtcdClient::EtcdClient(std::vector<Endpoint> endpoints, EtcdClientOptions options)
    : options_(options), endpoints_(std::move(endpoints)) {}

void EtcdClient::ReportFailure(size_t endpoint) {
  size_t expected = endpoint;
  preferred_.compare_exchange_strong(expected, (endpoint + 1) % endpoints_.size());
}

absl::Status EtcdClient::ToStatus(const grpc::Status& status, size_t endpoint,
                                  absl::string_view what) const {
  const std::string message = absl::StrReplaceAll(status.error_message(), {{"\n", " "}});
  const std::string& target = endpoints_[endpoint].target;
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(
          absl::StrCat("etcd at ", target, " unavailable (", what, "): ", message));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(absl::StrCat("etcd at ", target, " did not answer ", what,
                                                 " in time: ", message));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError(absl::StrCat(what, " on etcd at ", target, " was cancelled"));
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat("etcd at ", target, " (", what, "): ", message));
  }
}

bool EtcdClient::WaitConnected(Endpoint& endpoint, absl::Duration wait,
                               CallCanceller* canceller) {
  const absl::Time deadline = absl::Now() + wait;
  grpc_connectivity_state state = endpoint.channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (canceller != nullptr && canceller->cancelled()) return false;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    // Short slices, so that a cancellation is noticed soon.
    endpoint.channel->WaitForStateChange(
        state, absl::ToChronoTime(std::min(deadline, now + absl::Milliseconds(100))));
    state = endpoint.channel->GetState(/*try_to_connect=*/true);
  }
  return true;
}

absl::Status EtcdClient::CallWithFailover(absl::string_view what, absl::Duration timeout,
                                          CallCanceller* canceller, const CallFn& fn) {
  const size_t n = endpoints_.size();
  const size_t first = preferred_.load();
  std::vector<std::string> failures;
  absl::Status last;
  for (size_t i = 0; i < n; ++i) {
    const size_t index = (first + i) % n;
    if (!WaitConnected(endpoints_[index], std::min(options_.connect_timeout, timeout), canceller)) {
      if (canceller != nullptr && canceller->cancelled()) {
        return absl::CancelledError(absl::StrCat(what, " cancelled"));
      }
      last = absl::UnavailableError(absl::StrCat(
          "etcd at ", endpoints_[index].target, " unreachable (", what, "): not connected within ",
          absl::FormatDuration(std::min(options_.connect_timeout, timeout))));
      failures.push_back(std::string(last.message()));
      continue;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(timeout));
    if (canceller != nullptr && !canceller->Begin(&ctx)) {
      return absl::CancelledError(absl::StrCat(what, " cancelled"));
    }
    grpc::Status status = fn(endpoints_[index], &ctx);
    if (canceller != nullptr) canceller->End();
    if (status.ok()) {
      preferred_.store(index);
      return absl::OkStatus();
    }
    last = ToStatus(status, index, what);
    if (!ShouldFailOver(status) || (canceller != nullptr && canceller->cancelled())) return last;
    failures.push_back(std::string(last.message()));
  }
  if (n == 1) return last;
  return absl::UnavailableError(absl::StrCat("etcd unavailable at all ", n,
                                             " endpoints: ", absl::StrJoin(failures, "; ")));
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(
    const etcdserverpb::RangeRequest& request, CallCanceller* canceller) {
  etcdserverpb::RangeResponse response;
  absl::Status status = CallWithFailover(
      "Range", options_.call_timeout, canceller, [&](Endpoint& e, grpc::ClientContext* ctx) {
        return e.kv->Range(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::Put(const etcdserverpb::PutRequest& request) {
  etcdserverpb::PutResponse response;
  absl::Status status = CallWithFailover(
      "Put", options_.call_timeout, nullptr, [&](Endpoint& e, grpc::ClientContext* ctx) {
        return e.kv->Put(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::DeleteRange(
    const etcdserverpb::DeleteRangeRequest& request) {
  etcdserverpb::DeleteRangeResponse response;
  absl::Status status = CallWithFailover(
      "DeleteRange", options_.call_timeout, nullptr, [&](Endpoint& e, grpc::ClientContext* ctx) {
        return e.kv->DeleteRange(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  etcdserverpb::TxnResponse response;
  absl::Status status = CallWithFailover(
      "Txn", options_.call_timeout, nullptr, [&](Endpoint& e, grpc::ClientContext* ctx) {
        return e.kv->Txn(ctx, request, &response);
      });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  absl::Status status = CallWithFailover(
      "LeaseGrant", options_.call_timeout, nullptr, [&](Endpoint& e, grpc::ClientContext* ctx) {
        return e.lease->LeaseGrant(ctx, request, &response);
      });
  if (!status.ok()) return status;
  if (!response.error().empty()) {
    return absl::UnavailableError(absl::StrCat("etcd refused a lease: ", response.error()));
  }
  return response;
}

absl::Status EtcdClient::LeaseRevoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse response;
  return CallWithFailover("LeaseRevoke", options_.call_timeout, nullptr,
                          [&](Endpoint& e, grpc::ClientContext* ctx) {
                            return e.lease->LeaseRevoke(ctx, request, &response);
                          });
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t lease_id, absl::Duration timeout,
                                                       CallCanceller* canceller) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseKeepAliveResponse response;
  absl::Status status = CallWithFailover(
      "LeaseKeepAlive", timeout, canceller, [&](Endpoint& e, grpc::ClientContext* ctx) {
        auto stream = e.lease->LeaseKeepAlive(ctx);
        if (stream->Write(request) && stream->WritesDone() && stream->Read(&response)) {
          ctx->TryCancel();  // done: no need to wait for the server to close
          (void)stream->Finish();
          return grpc::Status::OK;
        }
        return stream->Finish();
      });
  if (!status.ok()) return status;
  return response.ttl();
}

}  // namespace shale::topo::etcd_internal
