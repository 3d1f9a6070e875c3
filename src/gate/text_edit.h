#pragma once

// TextEdit rebuilds a statement's text with some spans replaced (the
// planner's way to rewrite SQL without a deparser: the parser keeps every
// node's span). Edits must not overlap; they may be added in any order.
// Value type, thread-compatible.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gate/sql/ast.h"

namespace shale::gate {

class TextEdit {
 public:
  explicit TextEdit(absl::string_view text) : text_(text) {}
  // Replaces [span.begin, span.end) with replacement (an empty span inserts).
  void Replace(sql::Span span, std::string replacement);
  void Insert(uint32_t at, std::string text) { Replace({at, at}, std::move(text)); }
  // The edited text of [from, to).
  std::string Apply(uint32_t from, uint32_t to) const;
  std::string Apply() const { return Apply(0, static_cast<uint32_t>(text_.size())); }

 private:
  struct Edit {
    sql::Span span;
    std::string text;
  };
  absl::string_view text_;
  std::vector<Edit> edits_;
};

}  // namespace shale::gate
