#include "tablet/engine/value.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace shale::tablet::engine {
namespace {

[[noreturn]] void WrongType(Value::Type want, Value::Type have) {
  std::fprintf(stderr, "shale::tablet::engine::Value: asked for %s, value is %s\n",
               std::string(TypeName(want)).c_str(), std::string(TypeName(have)).c_str());
  std::abort();
}

}  // namespace

absl::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNull:
      return "NULL";
    case Value::Type::kInt64:
      return "INTEGER";
    case Value::Type::kFloat64:
      return "REAL";
    case Value::Type::kText:
      return "TEXT";
    case Value::Type::kBlob:
      return "BLOB";
  }
  return "?";
}

Value Value::Blob(absl::string_view bytes) {
  Value v;
  v.v_ = BlobBytes{std::string(bytes)};
  return v;
}

int64_t Value::int64() const {
  if (type() != Type::kInt64) WrongType(Type::kInt64, type());
  return std::get<int64_t>(v_);
}

double Value::float64() const {
  if (type() != Type::kFloat64) WrongType(Type::kFloat64, type());
  return std::get<double>(v_);
}

const std::string& Value::text() const {
  if (type() != Type::kText) WrongType(Type::kText, type());
  return std::get<std::string>(v_);
}

const std::string& Value::blob() const {
  if (type() != Type::kBlob) WrongType(Type::kBlob, type());
  return std::get<BlobBytes>(v_).bytes;
}

std::string Value::DebugString() const {
  switch (type()) {
    case Type::kNull:
      return "NULL";
    case Type::kInt64:
      return absl::StrCat(int64());
    case Type::kFloat64:
      return absl::StrCat(float64());
    case Type::kText:
      return absl::StrCat("'", absl::StrReplaceAll(text(), {{"'", "''"}}), "'");
    case Type::kBlob:
      return absl::StrCat("x'", absl::BytesToHexString(blob()), "'");
  }
  return "?";
}

}  // namespace shale::tablet::engine
