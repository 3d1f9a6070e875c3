#pragma once

// Big-endian (network order) integer loads and appends for the wire codec.
// Stateless, safe from any thread.

#include <cstdint>
#include <string>

namespace shale::gate::pgwire {

inline uint16_t LoadBig16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

inline uint32_t LoadBig32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

inline uint64_t LoadBig64(const char* p) {
  return (uint64_t{LoadBig32(p)} << 32) | LoadBig32(p + 4);
}

inline void AppendBig16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

inline void AppendBig32(uint32_t v, std::string* out) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(bytes, 4);
}

inline void AppendBig64(uint64_t v, std::string* out) {
  AppendBig32(static_cast<uint32_t>(v >> 32), out);
  AppendBig32(static_cast<uint32_t>(v), out);
}

inline void StoreBig32(uint32_t v, char* p) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

}  // namespace shale::gate::pgwire
