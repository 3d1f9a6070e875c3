#pragma once

// StatusServer: the HTTP port every long-running Shale process (tablet, gate,
// ctld) embeds for operators and monitoring:
//
//   /healthz        200 "ok", or 503 with the reason from the health callback
//   /metrics        the MetricsRegistry in Prometheus text format
//   /debug/vars     JSON: process info, the metrics, and the owner's vars
//   /debug/status   an HTML page: title, start time, uptime, health, and the
//                   sections the owner adds
//   /               an index of the routes
//
// plus any route the owner adds with Handle().
//
//   metrics::MetricsRegistry registry;
//   StatusServer server({.port = flags.http_port, .process_name = "tablet"}, &registry);
//   server.SetHealthCallback([&] { return state.ServingStatus(); });
//   server.AddStatusSection("Replication", [&] { return RenderReplication(); });
//   server.AddVars("tablet", [&] { return state.ToJson(); });
//   RETURN_IF_ERROR(server.Start());
//   ... server.port() ...
//   server.Stop();
//
// Lifecycle: configure, Start(), Stop(); Stop() is idempotent and the
// destructor calls it. Start() may be called again after Stop(). Routes,
// callbacks and sections may be added before or after Start().
//
// Ownership: the owner owns the server. The registry is borrowed and must
// outlive it; callbacks and handlers borrow whatever they capture and are
// called until Stop() returns.
//
// Threads: the server runs one accept thread and options.num_threads worker
// threads. Handlers and callbacks run on the workers, concurrently with each
// other and with the owner's threads; they must not call Stop(). All public
// methods are thread-safe. Start() makes the process ignore SIGPIPE if its
// disposition is still the default, so a client that disconnects mid-response
// cannot kill the process.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/http/http_types.h"
#include "base/metrics/registry.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace shale::http {

struct StatusServerOptions {
  // Address to listen on: an IPv4/IPv6 literal or a host name.
  std::string bind_address = "127.0.0.1";
  // 0 picks a free port; port() tells which one after Start().
  int port = 0;
  // Short process name shown on the pages ("tablet", "gate", "ctld").
  std::string process_name = "shale";
  // Page title; empty means process_name.
  std::string title;
  // Worker threads serving requests.
  int num_threads = 4;
  // The clock for uptime; empty means absl::Now.
  std::function<absl::Time()> clock;
  // When the process started; InfinitePast means when the server was constructed.
  absl::Time start_time = absl::InfinitePast();
};

class StatusServer {
 public:
  // Called at every /healthz and /debug/status request: OK means healthy.
  using HealthCallback = std::function<absl::Status()>;
  // Returns a JSON value shown under "vars" on /debug/vars.
  using VarsCallback = std::function<nlohmann::json()>;
  // Returns an HTML fragment (inserted as is: escape outside text with
  // HtmlEscape from base/http/html.h).
  using SectionCallback = std::function<std::string()>;

  // registry may be null (then /metrics is empty); it must outlive the server.
  StatusServer(StatusServerOptions options, const metrics::MetricsRegistry* registry);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Replaces the health callback. Without one the process is always healthy.
  void SetHealthCallback(HealthCallback callback);
  // Adds (or replaces) the vars shown as "vars": {key: callback()}.
  void AddVars(absl::string_view key, VarsCallback callback);
  // Appends a section to /debug/status, shown in the order added.
  void AddStatusSection(absl::string_view title, SectionCallback callback);

  // Serves path with handler for GET, HEAD and POST. A path ending in '/'
  // also serves every path below it (the longest such prefix wins over
  // shorter ones; an exact match wins over prefixes). InvalidArgument if path
  // does not start with '/' or handler is empty; AlreadyExists if the path is
  // taken (the built-in routes are).
  absl::Status Handle(absl::string_view path, HttpHandler handler);
  // Serves / with handler instead of the index of routes (ctld's dashboard);
  // /debug/status still links every route.
  void ReplaceIndex(HttpHandler handler);

  // Binds and starts serving. FailedPrecondition if already running;
  // InvalidArgument for a bad port, an unusable address or a permission
  // error; Unavailable if the port is taken, as
  // "cannot listen on 127.0.0.1:8080: address in use".
  absl::Status Start();
  // Stops accepting, waits for requests in progress, and frees the port.
  void Stop();

  // The bound port after Start(); 0 before Start() and after Stop().
  int port() const { return port_.load(std::memory_order_acquire); }
  // "host:port" of the bound port, ready for a URL ("[::1]:8080" for IPv6).
  std::string address() const;

 private:
  void ServeHttp(const httplib::Request& req, httplib::Response& res);
  HttpResponse Route(const HttpRequest& request);
  HttpHandler FindHandler(const std::string& path) const;

  HttpResponse ServeIndex() const;
  HttpResponse ServeHealthz() const;
  HttpResponse ServeMetrics() const;
  HttpResponse ServeVars() const;
  HttpResponse ServeStatus() const;
  absl::Status Health() const;
  absl::Time Now() const;

  const StatusServerOptions options_;
  const metrics::MetricsRegistry* const registry_;  // borrowed, may be null
  const absl::Time start_time_;
  std::atomic<int> port_{0};

  // lifecycle_mu_ serialises Start and Stop and protects the following.
  absl::Mutex lifecycle_mu_;
  std::unique_ptr<httplib::Server> server_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::thread listen_thread_ ABSL_GUARDED_BY(lifecycle_mu_);

  // mu_ protects the following; it is never held while calling out.
  mutable absl::Mutex mu_;
  HealthCallback health_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, VarsCallback> vars_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, SectionCallback>> sections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, HttpHandler> routes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::http
