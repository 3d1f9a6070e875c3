#pragma once

// The request and response types of StatusServer handlers: plain structs, so
// code that adds routes never sees the HTTP library's types.
//
//   server.Handle("/debug/tablets", [&](const HttpRequest& req) {
//     return HttpResponse::Html(200, RenderTablets(req.Param("keyspace")));
//   });

#include <functional>
#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace shale::http {

struct HttpRequest {
  std::string method;  // "GET", "HEAD" or "POST"
  std::string path;    // decoded, without the query string
  // Decoded query parameters (and form fields of a url-encoded POST); the
  // first value wins when a name repeats.
  std::map<std::string, std::string> params;
  std::string body;

  // The parameter's value, or default_value when absent.
  std::string Param(absl::string_view name, absl::string_view default_value = "") const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Html(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
};

// Called on one of the server's worker threads, possibly concurrently with
// itself; it must not call StatusServer::Stop().
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace shale::http
