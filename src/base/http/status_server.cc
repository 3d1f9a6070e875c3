#include "base/http/status_server.h"

#include <httplib.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/http/html.h"
#include "base/http/status_page.h"
#include "base/http/vars_json.h"
#include "base/metrics/prometheus.h"

namespace shale::http {
namespace {

std::string HostPort(absl::string_view host, int port) {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

void ReuseAddress(int fd) {
  // SO_REUSEADDR lets a restarted server bind over TIME_WAIT connections but,
  // unlike the library's default SO_REUSEPORT, never shares a port with a
  // live listener, so a conflict is reported instead of silently split.
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// The HTTP library reports only that binding failed; bind again ourselves to
// learn why and say it in one line.
absl::Status ListenError(const std::string& host, int port) {
  const std::string prefix = absl::StrCat("cannot listen on ", HostPort(host, port), ": ");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = absl::StrCat(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) return absl::InvalidArgumentError(absl::StrCat(prefix, gai_strerror(rc)));
  int error = 0;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    ReuseAddress(fd);
    error = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    close(fd);
    if (error == 0) break;
  }
  freeaddrinfo(result);
  switch (error) {
    case EADDRINUSE:
      return absl::UnavailableError(absl::StrCat(prefix, "address in use"));
    case EADDRNOTAVAIL:
      return absl::InvalidArgumentError(absl::StrCat(prefix, "address not available here"));
    case EACCES:
      return absl::InvalidArgumentError(absl::StrCat(prefix, "permission denied"));
    case 0:
      return absl::UnavailableError(absl::StrCat(prefix, "bind failed, try again"));
    default:
      return absl::UnavailableError(absl::StrCat(prefix, std::strerror(error)));
  }
}

void IgnoreSigpipeIfDefault() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
}

bool IsPrefixRoute(const std::string& path) { return path.size() > 1 && path.back() == '/'; }

}  // namespace

StatusServer::StatusServer(StatusServerOptions options, const metrics::MetricsRegistry* registry)
    : options_(std::move(options)),
      registry_(registry),
      start_time_(options_.start_time != absl::InfinitePast() ? options_.start_time : Now()) {
  absl::MutexLock lock(&mu_);
  routes_["/"] = [this](const HttpRequest&) { return ServeIndex(); };
  routes_["/healthz"] = [this](const HttpRequest&) { return ServeHealthz(); };
  routes_["/metrics"] = [this](const HttpRequest&) { return ServeMetrics(); };
  routes_["/debug/vars"] = [this](const HttpRequest&) { return ServeVars(); };
  routes_["/debug/status"] = [this](const HttpRequest&) { return ServeStatus(); };
}

StatusServer::~StatusServer() { Stop(); }

void StatusServer::SetHealthCallback(HealthCallback callback) {
  absl::MutexLock lock(&mu_);
  health_ = std::move(callback);
}

void StatusServer::AddVars(absl::string_view key, VarsCallback callback) {
  absl::MutexLock lock(&mu_);
  vars_[std::string(key)] = std::move(callback);
}

void StatusServer::AddStatusSection(absl::string_view title, SectionCallback callback) {
  absl::MutexLock lock(&mu_);
  sections_.emplace_back(std::string(title), std::move(callback));
}

absl::Status StatusServer::Handle(absl::string_view path, HttpHandler handler) {
  if (!absl::StartsWith(path, "/")) {
    return absl::InvalidArgumentError(absl::StrCat("route \"", path, "\" must start with /"));
  }
  if (!handler) return absl::InvalidArgumentError(absl::StrCat("route ", path, ": no handler"));
  absl::MutexLock lock(&mu_);
  if (!routes_.emplace(std::string(path), std::move(handler)).second) {
    return absl::AlreadyExistsError(absl::StrCat("route ", path, " already exists"));
  }
  return absl::OkStatus();
}

absl::Status StatusServer::Start() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (server_ != nullptr) return absl::FailedPreconditionError("status server already running");
  if (options_.port < 0 || options_.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port ", options_.port));
  }
  if (options_.num_threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad num_threads ", options_.num_threads));
  }
  IgnoreSigpipeIfDefault();
  auto server = std::make_unique<httplib::Server>();
  const size_t threads = static_cast<size_t>(options_.num_threads);
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The library listens with a backlog of 5, so a burst of scrapes and
  // browsers would see dropped SYNs and one-second retries. Remember the
  // socket it binds (the last one offered) and listen again with a normal
  // backlog, which Linux allows on a listening socket.
  auto listen_fd = std::make_shared<std::atomic<int>>(-1);
  server->set_socket_options([listen_fd](int fd) {
    ReuseAddress(fd);
    listen_fd->store(fd);
  });
  // Short timeouts bound how long Stop() waits for idle or slow clients.
  server->set_keep_alive_timeout(1);
  server->set_read_timeout(2);
  server->set_write_timeout(5);
  auto serve = [this](const httplib::Request& req, httplib::Response& res) { ServeHttp(req, res); };
  server->Get(".*", serve);
  server->Post(".*", serve);

  int port = options_.port;
  if (port == 0) {
    port = server->bind_to_any_port(options_.bind_address);
  } else if (!server->bind_to_port(options_.bind_address, port)) {
    port = -1;
  }
  if (port <= 0) return ListenError(options_.bind_address, options_.port);
  if (listen_fd->load() >= 0) ::listen(listen_fd->load(), SOMAXCONN);

  auto done = std::make_shared<std::atomic<bool>>(false);
  httplib::Server* raw = server.get();
  listen_thread_ = std::thread([raw, done] {
    raw->listen_after_bind();
    done->store(true);
  });
  // stop() is a no-op until the accept loop runs (its first step), so wait
  // for it before anyone can call Stop().
  while (!raw->is_running() && !done->load()) absl::SleepFor(absl::Microseconds(200));
  if (!raw->is_running()) {
    listen_thread_.join();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", HostPort(options_.bind_address, port), ": accept loop exited"));
  }
  server_ = std::move(server);
  port_.store(port, std::memory_order_release);
  return absl::OkStatus();
}

void StatusServer::Stop() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (server_ == nullptr) return;
  server_->stop();
  listen_thread_.join();
  server_.reset();
  port_.store(0, std::memory_order_release);
}

std::string StatusServer::address() const { return HostPort(options_.bind_address, port()); }

void StatusServer::ServeHttp(const httplib::Request& req, httplib::Response& res) {
  HttpRequest request;
  request.method = req.method;
  request.path = req.path;
  for (const auto& [name, value] : req.params) request.params.emplace(name, value);
  request.body = req.body;
  HttpResponse response = Route(request);
  res.status = response.status;
  res.set_content(response.body, response.content_type);
}

void StatusServer::ReplaceIndex(HttpHandler handler) {
  absl::MutexLock lock(&mu_);
  routes_["/"] = std::move(handler);
}

HttpResponse StatusServer::Route(const HttpRequest& request) {
  HttpHandler handler = FindHandler(request.path);
  if (!handler) return HttpResponse::Text(404, absl::StrCat("no page at ", request.path, "\n"));
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return HttpResponse::Text(500, absl::StrCat("internal error: ", e.what(), "\n"));
  }
}

HttpHandler StatusServer::FindHandler(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  auto it = routes_.find(path);
  if (it != routes_.end()) return it->second;
  const HttpHandler* best = nullptr;
  size_t best_length = 0;
  for (const auto& [route, handler] : routes_) {
    if (IsPrefixRoute(route) && absl::StartsWith(path, route) && route.size() > best_length) {
      best = &handler;
      best_length = route.size();
    }
  }
  return best != nullptr ? *best : HttpHandler();
}

absl::Time StatusServer::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

absl::Status StatusServer::Health() const {
  HealthCallback health;
  {
    absl::MutexLock lock(&mu_);
    health = health_;
  }
  return health ? health() : absl::OkStatus();
}

HttpResponse StatusServer::ServeIndex() const {
  std::vector<std::vector<std::string>> rows;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [route, handler] : routes_) rows.push_back({route});
  }
  std::string body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n<ul>\n";
  for (const auto& row : rows) {
    std::string escaped = HtmlEscape(row[0]);
    absl::StrAppend(&body, "<li><a href=\"", escaped, "\">", escaped, "</a></li>\n");
  }
  body += "</ul>\n</body></html>\n";
  return HttpResponse::Html(200, std::move(body));
}

HttpResponse StatusServer::ServeHealthz() const {
  absl::Status health = Health();
  if (health.ok()) return HttpResponse::Text(200, "ok");
  return HttpResponse::Text(
      503, absl::StrCat(absl::StatusCodeToString(health.code()), ": ", health.message(), "\n"));
}

HttpResponse StatusServer::ServeMetrics() const {
  std::string body = registry_ != nullptr ? registry_->RenderPrometheus() : std::string();
  return HttpResponse{200, std::string(metrics::kPrometheusContentType), std::move(body)};
}

HttpResponse StatusServer::ServeVars() const {
  std::vector<std::pair<std::string, VarsCallback>> vars;
  {
    absl::MutexLock lock(&mu_);
    vars.assign(vars_.begin(), vars_.end());
  }
  const absl::Time now = Now();
  nlohmann::json doc = nlohmann::json::object();
  doc["process"] = {
      {"name", options_.process_name},
      {"title", options_.title.empty() ? options_.process_name : options_.title},
      {"pid", static_cast<int>(getpid())},
      {"start_time", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", start_time_, absl::UTCTimeZone())},
      {"uptime_seconds", absl::ToInt64Seconds(now - start_time_)},
  };
  doc["metrics"] =
      registry_ != nullptr ? MetricsToJson(registry_->Snapshot()) : nlohmann::json::object();
  nlohmann::json owner_vars = nlohmann::json::object();
  for (const auto& [key, callback] : vars) owner_vars[key] = callback();
  doc["vars"] = std::move(owner_vars);
  // Replace invalid UTF-8 (a label value, a var) rather than fail the page.
  return HttpResponse::Json(
      200, doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

HttpResponse StatusServer::ServeStatus() const {
  StatusPageInfo info;
  std::vector<std::pair<std::string, SectionCallback>> sections;
  {
    absl::MutexLock lock(&mu_);
    sections = sections_;
    for (const auto& [route, handler] : routes_) {
      if (route != "/" && route != "/debug/status") info.links.push_back(route);
    }
  }
  info.title = options_.title.empty() ? options_.process_name : options_.title;
  info.process_name = options_.process_name;
  info.pid = static_cast<int>(getpid());
  info.start_time = start_time_;
  info.now = Now();
  info.health = Health();
  for (const auto& [title, callback] : sections) info.sections.emplace_back(title, callback());
  return HttpResponse::Html(200, RenderStatusPage(info));
}

}  // namespace shale::http
