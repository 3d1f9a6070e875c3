#include "topo/etcd/etcd_watch.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shale::topo::etcd_internal {

EtcdWatch::EtcdWatch(std::shared_ptr<EtcdClient> client, EtcdKeys keys, Target target,
                     const etcdserverpb::RangeResponse& initial, WatchCallback cb)
    : client_(std::move(client)),
      keys_(std::move(keys)),
      target_(std::move(target)),
      queue_(std::move(cb)),
      last_rev_(initial.header().revision()) {
  for (const mvccpb::KeyValue& kv : initial.kvs()) known_.insert(kv.key());
  thread_ = std::thread([this] { Run(); });
}

EtcdWatch::~EtcdWatch() {
  canceller_.Cancel();
  thread_.join();
  // queue_ is destroyed next: it drops what is left and joins its thread.
}

void EtcdWatch::Run() {
  bool reconnect = false;
  while (!canceller_.cancelled()) {
    absl::Status status = Stream(reconnect);
    if (canceller_.cancelled()) return;
    if (!error_reported_) {
      WatchEvent event;
      event.kind = WatchEvent::Kind::kError;
      event.path = target_.path;
      event.error = absl::IsUnavailable(status)
                        ? status
                        : absl::UnavailableError(absl::StrCat("etcd watch broke: ", status.message()));
      queue_.Push(std::move(event));
      error_reported_ = true;
    }
    reconnect = true;
    if (canceller_.SleepUnlessCancelled(backoff_.Next())) return;
  }
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdWatch::ReadCurrent() {
  etcdserverpb::RangeRequest request;
  request.set_key(target_.key);
  request.set_range_end(target_.range_end);
  return client_->Range(request, &canceller_);
}

bool EtcdWatch::SendCreate(EtcdClient::WatchStream* stream) {
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(target_.key);
  create->set_range_end(target_.range_end);
  create->set_start_revision(last_rev_ + 1);
  create->set_progress_notify(true);  // lets last_rev_ advance on a quiet watch
  return stream->Write(request);
}

absl::Status EtcdWatch::Stream(bool reconnect) {
  etcdserverpb::RangeResponse current;
  if (reconnect) {
    auto read = ReadCurrent();
    if (!read.ok()) return read.status();
    current = *std::move(read);
  }
  grpc::ClientContext ctx;
  if (!canceller_.Begin(&ctx)) return absl::CancelledError("watch cancelled");
  const size_t endpoint = client_->preferred();
  std::unique_ptr<EtcdClient::WatchStream> stream = client_->watch_stub(endpoint)->Watch(&ctx);
  bool created = false;
  if (SendCreate(stream.get())) {
    etcdserverpb::WatchResponse response;
    while (stream->Read(&response)) {
      if (response.canceled()) {
        if (response.compact_revision() <= 0) {
          ctx.TryCancel();
          (void)stream->Finish();
          canceller_.End();
          return absl::UnavailableError(
              absl::StrCat("etcd cancelled the watch: ", response.cancel_reason()));
        }
        // The history we need is gone: restart from the current state. The
        // read takes over the canceller, so hand it back to the stream after.
        auto fresh = ReadCurrent();
        if (!fresh.ok() || !canceller_.Begin(&ctx)) {
          ctx.TryCancel();
          (void)stream->Finish();
          canceller_.End();
          return fresh.ok() ? absl::CancelledError("watch cancelled") : fresh.status();
        }
        ResetTo(*fresh);
        if (!SendCreate(stream.get())) break;
        continue;
      }
      if (response.created() && !created) {
        created = true;
        error_reported_ = false;
        backoff_.Reset();
        if (reconnect) Reannounce(current);
      }
      for (const mvccpb::Event& event : response.events()) Deliver(event);
      if (response.events_size() == 0 && !response.created()) {
        // A progress notification: every later event is newer than this.
        last_rev_ = std::max(last_rev_, response.header().revision());
      }
    }
  }
  grpc::Status finished = stream->Finish();
  canceller_.End();
  if (canceller_.cancelled()) return absl::CancelledError("watch cancelled");
  client_->ReportFailure(endpoint);
  if (finished.ok()) {
    return absl::UnavailableError(
        absl::StrCat("etcd at ", client_->endpoint(endpoint), " closed the watch stream"));
  }
  return client_->ToStatus(finished, endpoint, "Watch");
}

void EtcdWatch::Deliver(const mvccpb::Event& event) {
  const mvccpb::KeyValue& kv = event.kv();
  WatchEvent out;
  out.path = keys_.PathOf(kv.key());
  if (event.type() == mvccpb::Event::PUT) {
    out.kind = WatchEvent::Kind::kChanged;
    out.value = kv.value();
    out.version = kv.mod_revision();
    known_.insert(kv.key());
  } else {
    out.kind = WatchEvent::Kind::kDeleted;
    known_.erase(kv.key());
  }
  last_rev_ = std::max(last_rev_, kv.mod_revision());
  queue_.Push(std::move(out));
}

void EtcdWatch::Reannounce(const etcdserverpb::RangeResponse& current) {
  // Values changed after last_rev_ arrive as events of the resumed stream.
  for (const mvccpb::KeyValue& kv : current.kvs()) {
    if (kv.mod_revision() > last_rev_) continue;
    queue_.Push(WatchEvent{WatchEvent::Kind::kChanged, keys_.PathOf(kv.key()), kv.value(),
                           kv.mod_revision(), absl::OkStatus()});
  }
  if (!target_.is_dir() && current.kvs_size() == 0 && known_.empty()) {
    queue_.Push(WatchEvent{WatchEvent::Kind::kDeleted, target_.path, "", 0,
                           absl::OkStatus()});
  }
}

void EtcdWatch::ResetTo(const etcdserverpb::RangeResponse& current) {
  std::set<std::string> now;
  for (const mvccpb::KeyValue& kv : current.kvs()) now.insert(kv.key());
  for (const std::string& key : known_) {
    if (now.count(key) == 0) {
      queue_.Push(WatchEvent{WatchEvent::Kind::kDeleted, keys_.PathOf(key), "", 0,
                             absl::OkStatus()});
    }
  }
  for (const mvccpb::KeyValue& kv : current.kvs()) {
    queue_.Push(WatchEvent{WatchEvent::Kind::kChanged, keys_.PathOf(kv.key()), kv.value(),
                           kv.mod_revision(), absl::OkStatus()});
  }
  if (!target_.is_dir() && current.kvs_size() == 0 && known_.empty()) {
    queue_.Push(WatchEvent{WatchEvent::Kind::kDeleted, target_.path, "", 0,
                           absl::OkStatus()});
  }
  known_ = std::move(now);
  last_rev_ = current.header().revision();
}

}  // namespace shale::topo::etcd_internal
