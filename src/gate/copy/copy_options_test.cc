#include "gate/copy/copy_options.h"

#include <string>

#include "base/sqlstate.h"
#include "gtest/gtest.h"

namespace shale::gate::copy {
namespace {

struct OptionsCase {
  std::string name;
  CopyOptions options;
  std::string error;  // "" when valid
};

CopyOptions Csv() {
  CopyOptions options;
  options.csv = true;
  options.delimiter = ',';
  options.null_string = "";
  return options;
}

template <typename Edit>
CopyOptions Edited(CopyOptions options, Edit edit) {
  edit(options);
  return options;
}

TEST(CopyOptionsTest, Validate) {
  const OptionsCase cases[] = {
      {"text_defaults", CopyOptions(), ""},
      {"csv_defaults", Csv(), ""},
      {"text_pipe", Edited(CopyOptions(), [](auto& o) { o.delimiter = '|'; }), ""},
      {"text_uppercase_letter",
       Edited(CopyOptions(),
              [](auto& o) {
                o.delimiter = 'N';
                o.null_string = "null";
              }),
       ""},
      {"csv_letter_delimiter", Edited(Csv(), [](auto& o) { o.delimiter = 'x'; }), ""},
      {"csv_backslash_escape", Edited(Csv(), [](auto& o) { o.escape = '\\'; }), ""},
      {"text_ignores_quote", Edited(CopyOptions(), [](auto& o) { o.quote = '\t'; }), ""},
      {"no_columns", Edited(CopyOptions(), [](auto& o) { o.num_columns = 0; }), ""},
      {"newline_delimiter", Edited(CopyOptions(), [](auto& o) { o.delimiter = '\n'; }),
       "COPY delimiter cannot be newline or carriage return"},
      {"cr_quote", Edited(Csv(), [](auto& o) { o.quote = '\r'; }),
       "COPY quote cannot be newline or carriage return"},
      {"multibyte_escape", Edited(Csv(), [](auto& o) { o.escape = '\xc3'; }),
       "COPY escape must be a single one-byte character"},
      {"nul_delimiter", Edited(Csv(), [](auto& o) { o.delimiter = '\0'; }),
       "COPY delimiter must be a single one-byte character"},
      {"text_backslash", Edited(CopyOptions(), [](auto& o) { o.delimiter = '\\'; }),
       "COPY delimiter cannot be \"\\\""},
      {"text_dot", Edited(CopyOptions(), [](auto& o) { o.delimiter = '.'; }),
       "COPY delimiter cannot be \".\""},
      {"text_digit", Edited(CopyOptions(), [](auto& o) { o.delimiter = '7'; }),
       "COPY delimiter cannot be \"7\""},
      {"text_lowercase", Edited(CopyOptions(), [](auto& o) { o.delimiter = 'x'; }),
       "COPY delimiter cannot be \"x\""},
      {"csv_delimiter_is_quote", Edited(Csv(), [](auto& o) { o.quote = ','; }),
       "COPY delimiter and quote must be different"},
      {"null_with_newline", Edited(CopyOptions(), [](auto& o) { o.null_string = "a\nb"; }),
       "COPY null representation cannot use newline or carriage return"},
      {"null_with_delimiter", Edited(CopyOptions(), [](auto& o) { o.null_string = "\t"; }),
       "COPY delimiter character must not appear in the NULL specification"},
      {"csv_null_with_quote", Edited(Csv(), [](auto& o) { o.null_string = "\"N\""; }),
       "CSV quote character must not appear in the NULL specification"},
      {"negative_columns", Edited(CopyOptions(), [](auto& o) { o.num_columns = -1; }),
       "COPY needs a column count of at least 0"},
      {"zero_row_limit", Edited(CopyOptions(), [](auto& o) { o.max_row_bytes = 0; }),
       "COPY row limit must be at least 1 byte"},
  };
  for (const OptionsCase& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = ValidateCopyOptions(c.options);
    if (c.error.empty()) {
      EXPECT_TRUE(status.ok()) << status;
      continue;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.error);
    EXPECT_EQ(SqlState(status), sqlstate::kInvalidParameterValue);
  }
}

}  // namespace
}  // namespace shale::gate::copy
