#include "ctld/primary_monitor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"

namespace shale::ctld {

PrimaryMonitor::PrimaryMonitor(topo::Server* ts, topo::TabletAlias alias,
                               PrimaryMonitorOptions options)
    : ts_(ts), alias_(std::move(alias)), options_(std::move(options)) {
  health_.alias = alias_;
}

PrimaryMonitor::~PrimaryMonitor() { Stop(); }

void PrimaryMonitor::Start() {
  absl::MutexLock l(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  stream_thread_ = std::thread([this] { StreamLoop(); });
  ping_thread_ = std::thread([this] { PingLoop(); });
}

void PrimaryMonitor::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  if (stream_thread_.joinable()) stream_thread_.join();
  if (ping_thread_.joinable()) ping_thread_.join();
}

PrimaryHealth PrimaryMonitor::Health() const {
  absl::MutexLock l(&mu_);
  return health_;
}

absl::StatusOr<std::shared_ptr<tablet::TabletClient>> PrimaryMonitor::Client(bool refresh) {
  {
    absl::MutexLock l(&mu_);
    if (!refresh && client_ != nullptr) return client_;
  }
  ASSIGN_OR_RETURN(topo::TabletInfo info, ts_->GetTablet(alias_));
  ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> dialled,
                   options_.dial ? options_.dial(info.record) : ctl::DialTablet(info.record));
  absl::MutexLock l(&mu_);
  // Keep the channel while the address is the same: it knows the connection.
  if (client_ == nullptr || client_->address() != dialled->address()) {
    client_ = std::move(dialled);
    health_.address = client_->address();
  }
  return client_;
}

void PrimaryMonitor::MarkUp(absl::Time now) {
  health_.last_contact = now;
  health_.down_since.reset();
}

void PrimaryMonitor::MarkDown(absl::Time attempt_start, const std::string& error) {
  if (!health_.down_since.has_value()) {
    health_.down_since = std::max(attempt_start, health_.last_contact);
  }
  health_.last_error = error;
}

bool PrimaryMonitor::WaitStop(absl::Duration d) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return stopping_;
}

void PrimaryMonitor::StreamLoop() {
  absl::Duration pause = options_.reconnect_pause;
  bool refresh = false;
  for (;;) {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::shared_ptr<tablet::TabletClient>> c = Client(refresh);
    if (!c.ok()) {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      MarkDown(start, std::string(c.status().message()));
    } else {
      grpc::ClientContext context;
      {
        absl::MutexLock l(&mu_);
        if (stopping_) return;
        stream_context_ = &context;
      }
      std::unique_ptr<grpc::ClientReader<tablet::StreamHealthResponse>> reader =
          (*c)->health().StreamHealth(&context, tablet::StreamHealthRequest());
      tablet::StreamHealthResponse msg;
      std::string mismatch;
      while (reader->Read(&msg)) {
        absl::MutexLock l(&mu_);
        const topo::TabletAlias from = topo::TabletAlias::FromProto(msg.tablet_alias());
        if (from != alias_) {
          mismatch = absl::StrCat((*c)->address(), " is now tablet ", from.ToString());
          context.TryCancel();
          break;
        }
        health_.stream_open = true;
        health_.type = msg.target().tablet_type();
        health_.serving = msg.serving();
        health_.term = msg.primary_term();
        ++health_.messages;
        MarkUp(absl::Now());
        pause = options_.reconnect_pause;
      }
      const absl::Status s = tablet::FromGrpcStatus(reader->Finish());
      absl::MutexLock l(&mu_);
      stream_context_ = nullptr;
      health_.stream_open = false;
      if (stopping_) return;
      MarkDown(absl::Now(), mismatch.empty()
                                ? absl::StrCat("health stream ended: ", s.message())
                                : mismatch);
      ping_now_ = true;  // a broken stream is only a hint: a ping decides
    }
    refresh = true;
    if (WaitStop(pause)) return;
    pause = std::min(pause * 2, absl::Seconds(1));
  }
}

void PrimaryMonitor::PingLoop() {
  for (;;) {
    bool refresh = false;
    {
      absl::MutexLock l(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || ping_now_; };
      mu_.AwaitWithTimeout(absl::Condition(&wake), options_.ping_interval);
      if (stopping_) return;
      const bool urgent = ping_now_;
      ping_now_ = false;
      // A stream that delivers messages is proof enough.
      if (!urgent && health_.stream_open &&
          absl::Now() - health_.last_contact < options_.ping_interval) {
        continue;
      }
      refresh = health_.down_since.has_value();
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<std::shared_ptr<tablet::TabletClient>> c = Client(refresh);
    absl::Status status = c.status();
    if (c.ok()) {
      auto r = (*c)->Call((*c)->manager(), &tablet::TabletManager::Stub::Ping,
                          tablet::PingRequest(), options_.ping_timeout);
      status = r.status();
      if (r.ok() && topo::TabletAlias::FromProto(r->alias()) != alias_) {
        status = absl::FailedPreconditionError(
            absl::StrCat((*c)->address(), " is now tablet ",
                         topo::TabletAlias::FromProto(r->alias()).ToString()));
      }
    }
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    if (status.ok()) {
      MarkUp(absl::Now());
    } else {
      MarkDown(start, absl::StrCat("ping: ", status.message()));
    }
  }
}

}  // namespace shale::ctld
