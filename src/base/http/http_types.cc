#include "base/http/http_types.h"

#include <utility>

namespace shale::http {

std::string HttpRequest::Param(absl::string_view name, absl::string_view default_value) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string(default_value) : it->second;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

HttpResponse HttpResponse::Html(int status, std::string body) {
  return HttpResponse{status, "text/html; charset=utf-8", std::move(body)};
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body)};
}

}  // namespace shale::http
