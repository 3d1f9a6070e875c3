#include "tests/chaos/invariants.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shale::chaos {

RowCheck CheckRows(const std::vector<int64_t>& acked, const std::vector<int64_t>& unknown,
                   std::vector<int64_t> rows) {
  RowCheck c;
  c.rows = static_cast<int64_t>(rows.size());
  c.acked = static_cast<int64_t>(acked.size());
  std::sort(rows.begin(), rows.end());
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i] == rows[i - 1] && (c.duplicated.empty() || c.duplicated.back() != rows[i])) {
      c.duplicated.push_back(rows[i]);
    }
  }
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::set_difference(acked.begin(), acked.end(), rows.begin(), rows.end(),
                      std::back_inserter(c.lost));
  std::vector<int64_t> written;
  std::merge(acked.begin(), acked.end(), unknown.begin(), unknown.end(),
             std::back_inserter(written));
  std::set_difference(rows.begin(), rows.end(), written.begin(), written.end(),
                      std::back_inserter(c.phantom));
  for (int64_t id : unknown) {
    if (std::binary_search(rows.begin(), rows.end(), id)) {
      ++c.unknown_present;
    } else {
      ++c.unknown_absent;
    }
  }
  return c;
}

ErrorCheck ClassifyErrors(const std::vector<ClientError>& errors,
                          const std::vector<FaultWindow>& windows) {
  ErrorCheck c;
  for (const ClientError& e : errors) {
    const bool during = std::any_of(windows.begin(), windows.end(), [&](const FaultWindow& w) {
      return e.at >= w.start && e.at <= w.end;
    });
    (during ? c.during_faults : c.outside_faults).push_back(e);
  }
  return c;
}

std::string Sample(const std::vector<int64_t>& ids, size_t n) {
  std::vector<int64_t> head(ids.begin(), ids.begin() + std::min(n, ids.size()));
  return absl::StrCat(absl::StrJoin(head, ", "), ids.size() > n ? " ..." : "", " (", ids.size(),
                      " in all)");
}

}  // namespace shale::chaos
