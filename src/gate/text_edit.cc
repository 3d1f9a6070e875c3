#include "gate/text_edit.h"

#include <algorithm>

namespace shale::gate {

void TextEdit::Replace(sql::Span span, std::string replacement) {
  edits_.push_back({span, std::move(replacement)});
}

std::string TextEdit::Apply(uint32_t from, uint32_t to) const {
  std::vector<const Edit*> order;
  for (const Edit& e : edits_) {
    if (e.span.begin >= from && e.span.end <= to) order.push_back(&e);
  }
  std::stable_sort(order.begin(), order.end(), [](const Edit* a, const Edit* b) {
    return a->span.begin < b->span.begin;
  });
  std::string out;
  out.reserve(to - from + 32);
  uint32_t at = from;
  for (const Edit* e : order) {
    absl::string_view piece = text_.substr(at, e->span.begin - at);
    out.append(piece.data(), piece.size());
    out.append(e->text);
    at = e->span.end;
  }
  absl::string_view tail = text_.substr(at, to - at);
  out.append(tail.data(), tail.size());
  return out;
}

}  // namespace shale::gate
