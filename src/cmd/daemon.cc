#include "cmd/daemon.h"

#include <signal.h>

#include <filesystem>
#include <iostream>

#include "spdlog/spdlog.h"
#include "topo/open/open.h"

namespace shale::cmd {

StopSignals::StopSignals() : stop_(new absl::Notification()) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::Notification* stop = stop_;
  waiter_ = std::thread([stop, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    stop->Notify();
  });
}

StopSignals::~StopSignals() {
  if (stop_->HasBeenNotified()) {
    waiter_.join();
  } else {
    waiter_.detach();  // still in sigwait; the process is ending
  }
}

int FailDaemon(const absl::Status& status) {
  std::string msg(status.message());
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  spdlog::error("{}", msg);
  std::cerr << "error: " << msg << "\n";
  return 1;
}

absl::StatusOr<std::unique_ptr<topo::Server>> OpenTopologyWithRetry(
    const std::string& address, bool create_if_missing, absl::Time deadline,
    const absl::Notification& stop) {
  topo::ConnOptions options;
  options.create_if_missing = create_if_missing;
  if (create_if_missing && address.rfind("sqlite:", 0) == 0) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(address.substr(7)).parent_path(),
                                        ec);
  }
  absl::StatusOr<std::unique_ptr<topo::Conn>> conn = topo::OpenConn(address, options);
  while (absl::IsUnavailable(conn.status()) && absl::Now() < deadline &&
         !stop.HasBeenNotified()) {
    spdlog::warn("topology unreachable, retrying: {}", std::string(conn.status().message()));
    if (stop.WaitForNotificationWithTimeout(absl::Seconds(1))) break;
    conn = topo::OpenConn(address, options);
  }
  if (stop.HasBeenNotified()) return absl::CancelledError("stopped while opening the topology");
  if (!conn.ok()) return conn.status();
  return std::make_unique<topo::Server>(*std::move(conn), [](absl::string_view a) {
    return topo::OpenConn(a, topo::ConnOptions{});
  });
}

}  // namespace shale::cmd
