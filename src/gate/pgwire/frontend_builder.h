#pragma once

// FrontendBuilder writes frontend messages the way a client would, for tests
// and fuzz seeds (the server never encodes these). Not thread-safe; a plain
// value type.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_messages.h"

namespace shale::gate::pgwire {

class FrontendBuilder {
 public:
  FrontendBuilder& Startup(const std::vector<std::pair<std::string, std::string>>& params,
                           uint32_t protocol = kProtocol30) {
    std::string body;
    AppendBig32(protocol, &body);
    for (const auto& p : params) {
      body.append(p.first).push_back('\0');
      body.append(p.second).push_back('\0');
    }
    body.push_back('\0');
    return Untyped(body);
  }
  FrontendBuilder& SslRequest() { return Code(kSslRequestCode); }
  FrontendBuilder& GssEncRequest() { return Code(kGssEncRequestCode); }
  FrontendBuilder& CancelRequest(uint32_t pid, uint32_t secret) {
    std::string body;
    AppendBig32(kCancelRequestCode, &body);
    AppendBig32(pid, &body);
    AppendBig32(secret, &body);
    return Untyped(body);
  }

  FrontendBuilder& Query(absl::string_view sql) { return Typed('Q', Str(sql)); }
  FrontendBuilder& Parse(absl::string_view name, absl::string_view query,
                         const std::vector<uint32_t>& oids = {}) {
    std::string body = Str(name) + Str(query);
    AppendBig16(static_cast<uint16_t>(oids.size()), &body);
    for (uint32_t o : oids) AppendBig32(o, &body);
    return Typed('P', body);
  }
  FrontendBuilder& Bind(absl::string_view portal, absl::string_view statement,
                        const std::vector<int16_t>& param_formats,
                        const std::vector<std::optional<std::string>>& params,
                        const std::vector<int16_t>& result_formats) {
    std::string body = Str(portal) + Str(statement);
    Int16s(param_formats, &body);
    AppendBig16(static_cast<uint16_t>(params.size()), &body);
    for (const auto& p : params) {
      AppendBig32(p.has_value() ? static_cast<uint32_t>(p->size()) : 0xffffffffu, &body);
      if (p.has_value()) body.append(*p);
    }
    Int16s(result_formats, &body);
    return Typed('B', body);
  }
  FrontendBuilder& Describe(char kind, absl::string_view name) {
    return Typed('D', std::string(1, kind) + Str(name));
  }
  FrontendBuilder& Execute(absl::string_view portal, int32_t max_rows = 0) {
    std::string body = Str(portal);
    AppendBig32(static_cast<uint32_t>(max_rows), &body);
    return Typed('E', body);
  }
  FrontendBuilder& Close(char kind, absl::string_view name) {
    return Typed('C', std::string(1, kind) + Str(name));
  }
  FrontendBuilder& Sync() { return Typed('S', ""); }
  FrontendBuilder& Flush() { return Typed('H', ""); }
  FrontendBuilder& Terminate() { return Typed('X', ""); }
  FrontendBuilder& CopyData(absl::string_view data) { return Typed('d', data); }
  FrontendBuilder& CopyDone() { return Typed('c', ""); }
  FrontendBuilder& CopyFail(absl::string_view reason) { return Typed('f', Str(reason)); }
  FrontendBuilder& Password(absl::string_view data) { return Typed('p', data); }
  FrontendBuilder& SaslInitial(absl::string_view mechanism, absl::string_view data) {
    std::string body = Str(mechanism);
    AppendBig32(static_cast<uint32_t>(data.size()), &body);
    body.append(data.data(), data.size());
    return Typed('p', body);
  }

  // A typed message with any body (and the correct length).
  FrontendBuilder& Typed(char type, absl::string_view body) {
    bytes_.push_back(type);
    AppendBig32(static_cast<uint32_t>(body.size() + 4), &bytes_);
    bytes_.append(body.data(), body.size());
    return *this;
  }
  // A startup-style packet: length word and body.
  FrontendBuilder& Untyped(absl::string_view body) {
    AppendBig32(static_cast<uint32_t>(body.size() + 4), &bytes_);
    bytes_.append(body.data(), body.size());
    return *this;
  }

  const std::string& bytes() const { return bytes_; }
  // The body of the single typed message built so far.
  absl::string_view body() const { return absl::string_view(bytes_).substr(5); }

 private:
  static std::string Str(absl::string_view s) {
    std::string out(s);
    out.push_back('\0');
    return out;
  }
  static void Int16s(const std::vector<int16_t>& v, std::string* out) {
    AppendBig16(static_cast<uint16_t>(v.size()), out);
    for (int16_t x : v) AppendBig16(static_cast<uint16_t>(x), out);
  }
  FrontendBuilder& Code(uint32_t code) {
    std::string body;
    AppendBig32(code, &body);
    return Untyped(body);
  }

  std::string bytes_;
};

}  // namespace shale::gate::pgwire
