#include "gate/sql/lexer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/sqlstate.h"
#include "gate/sql/errors.h"
#include "gate/sql/params.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::gate::sql {
namespace {

using ::testing::ElementsAre;

// "kind:value" for each token but the end, e.g. "identifier:select".
std::string Render(const std::vector<Token>& tokens) {
  std::vector<std::string> parts;
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::kEnd) break;
    switch (t.kind) {
      case TokenKind::kIdentifier:
        parts.push_back(absl::StrCat("id:", t.value));
        break;
      case TokenKind::kQuotedIdentifier:
        parts.push_back(absl::StrCat("qid:", t.value));
        break;
      case TokenKind::kString:
        parts.push_back(absl::StrCat("str:", t.value));
        break;
      case TokenKind::kBlob:
        parts.push_back(absl::StrCat("blob:", t.value));
        break;
      case TokenKind::kNumber:
        parts.push_back(absl::StrCat("num:", t.value));
        break;
      case TokenKind::kParam:
        parts.push_back(absl::StrCat("param:", t.param));
        break;
      case TokenKind::kOperator:
        parts.push_back(absl::StrCat("op:", t.text));
        break;
      default:
        parts.push_back(std::string(t.text));
        break;
    }
  }
  return absl::StrJoin(parts, " ");
}

std::string LexRender(absl::string_view sql) {
  absl::StatusOr<std::vector<Token>> tokens = Lex(sql);
  if (!tokens.ok()) return absl::StrCat("ERROR ", tokens.status().message());
  return Render(*tokens);
}

TEST(LexerTest, Tokens) {
  struct Case {
    const char* sql;
    const char* want;
  };
  const Case cases[] = {
      {"SELECT a, B FROM t;", "id:select id:a , id:b id:from id:t ;"},
      {"\"MixedCase\" \"a\"\"b\"", "qid:MixedCase qid:a\"b"},
      {"'it''s' ''", "str:it's str:"},
      {"E'a\\nb\\'c' e'\\x41\\101\\u00e9'", "str:a\nb'c str:AA\xc3\xa9"},
      {"N'nat'", "str:nat"},
      {"$$a;b'c$$ $tag$x$$y$tag$", "str:a;b'c str:x$$y"},
      {"X'0aFF' x''", "blob:0aFF blob:"},
      {"1 12.5 .5 1e10 1.5E-3 0x1F 1.",
       "num:1 num:12.5 num:.5 num:1e10 num:1.5E-3 num:0x1F num:1."},
      {"1e 2ex", "num:1 id:e num:2 id:ex"},
      {"$1 $23", "param:1 param:23"},
      {":name", "op:: id:name"},
      {"a::int", "id:a op::: id:int"},
      {"a=b a<>b a!=b a<=b a>=b a||b a!~b a->b a->>b",
       "id:a op:= id:b id:a op:<> id:b "
       "id:a op:!= id:b id:a op:<= id:b id:a op:>= id:b id:a op:|| id:b id:a op:!~ id:b "
       "id:a op:-> id:b id:a op:->> id:b"},
      {"a=-1 a<-1 a*-1 a@-1",
       "id:a op:= op:- num:1 id:a op:< op:- num:1 id:a op:* op:- num:1 "
       "id:a op:@- num:1"},
      {"( ) , ; . [ ]", "( ) , ; . [ ]"},
      {"a -- comment\nb", "id:a id:b"},
      {"a /* one /* nested */ still */ b", "id:a id:b"},
      {"a+-- comment\n1", "id:a op:+ num:1"},
      {"a$b col_1 caf\xc3\xa9", "id:a$b id:col_1 id:caf\xc3\xa9"},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LexRender(c.sql), c.want) << c.sql;
  }
}

TEST(LexerTest, OffsetsAndRawText) {
  absl::StatusOr<std::vector<Token>> tokens = Lex("SELECT 'a''b' , \"X\"");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 5u);
  EXPECT_EQ((*tokens)[1].offset, 7u);
  EXPECT_EQ((*tokens)[1].text, "'a''b'");
  EXPECT_EQ((*tokens)[1].value, "a'b");
  EXPECT_EQ((*tokens)[3].text, "\"X\"");
  EXPECT_EQ((*tokens)[4].kind, TokenKind::kEnd);
  EXPECT_EQ((*tokens)[4].offset, 19u);
}

TEST(LexerTest, Errors) {
  struct Case {
    const char* sql;
    const char* message;
    int position;
  };
  const Case cases[] = {
      {"SELECT 'abc", "unterminated quoted string at or near \"'abc\"", 8},
      {"SELECT E'abc\\'", "unterminated quoted string at or near \"E'abc\\'\"", 8},
      {"SELECT \"abc", "unterminated quoted identifier at or near \"\"abc\"", 8},
      {"SELECT $$abc", "unterminated dollar-quoted string at or near \"$$abc\"", 8},
      {"SELECT $q$abc$$", "unterminated dollar-quoted string at or near \"$q$abc$$\"", 8},
      {"SELECT 1 /* x /* y */", "unterminated /* comment at or near \"/* x /* y */\"", 10},
      {"SELECT \"\"", "zero-length delimited identifier at or near \"\"\"\"", 8},
      {"SELECT X'abc'", "invalid hexadecimal blob literal at or near \"X'abc'\"", 8},
      {"SELECT {", "syntax error at or near \"{\"", 8},
      {"SELECT \\", "syntax error at or near \"\\\"", 8},
      {"SELECT $", "syntax error at or near \"$\"", 8},
      {"SELECT E'\\u12'", "invalid Unicode escape", 10},
      // Positions count characters, not bytes.
      {"SELECT '\xc3\xa9\xc3\xa9' {", "syntax error at or near \"{\"", 13},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<Token>> tokens = Lex(c.sql);
    ASSERT_FALSE(tokens.ok()) << c.sql;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument) << c.sql;
    EXPECT_EQ(tokens.status().message(), c.message) << c.sql;
    EXPECT_EQ(SqlState(tokens.status()), "42601") << c.sql;
    EXPECT_EQ(ErrorPosition(tokens.status()), c.position) << c.sql;
  }
}

TEST(LexerTest, LongInputIsRefused) {
  std::string sql(kMaxStatementBytes + 1, ' ');
  absl::StatusOr<std::vector<Token>> tokens = Lex(sql);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(SqlState(tokens.status()), "54000");
}

TEST(RewriteParamsTest, Table) {
  struct Case {
    const char* sql;
    const char* want;
  };
  const Case cases[] = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
       "SELECT abalance FROM pgbench_accounts WHERE aid = ?1"},
      {"UPDATE t SET a = a + $1 WHERE id = $2", "UPDATE t SET a = a + ?1 WHERE id = ?2"},
      {"SELECT '$1', \"$2\", $3 -- $4\n /* $5 */", "SELECT '$1', \"$2\", ?3 -- $4\n /* $5 */"},
      {"SELECT $$ $1 $$, $tag$ $2 $tag$, $3", "SELECT $$ $1 $$, $tag$ $2 $tag$, ?3"},
      {"SELECT a$1 FROM t WHERE x=$10", "SELECT a$1 FROM t WHERE x=?10"},
      {"SELECT E'\\'$1', $2", "SELECT E'\\'$1', ?2"},
      {"SELECT 1", "SELECT 1"},
      {"SELECT $1, 'unterminated $2", "SELECT ?1, 'unterminated $2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RewriteParams(c.sql), c.want) << c.sql;
  }
}

TEST(SplitStatementsTest, Table) {
  struct Case {
    const char* sql;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"SELECT 1; SELECT 2;", {"SELECT 1", "SELECT 2"}},
      {"  SELECT ';' ; ; \n SELECT \";\"  ", {"SELECT ';'", "SELECT \";\""}},
      {"SELECT 1 -- a; comment\n; SELECT /* ; */ 2",
       {"SELECT 1 -- a; comment", "SELECT /* ; */ 2"}},
      {"SELECT $$a;b$$; SELECT $x$;$x$", {"SELECT $$a;b$$", "SELECT $x$;$x$"}},
      {"", {}},
      {" ; -- only a comment", {}},
      {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n = n + 1; "
       "INSERT INTO log VALUES (CASE WHEN 1 THEN 2 END); END; SELECT 1",
       {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n = n + 1; "
        "INSERT INTO log VALUES (CASE WHEN 1 THEN 2 END); END",
        "SELECT 1"}},
      {"CREATE TEMP TRIGGER IF NOT EXISTS tr BEFORE DELETE ON t BEGIN SELECT 1; END;BEGIN;COMMIT",
       {"CREATE TEMP TRIGGER IF NOT EXISTS tr BEFORE DELETE ON t BEGIN SELECT 1; END", "BEGIN",
        "COMMIT"}},
      {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; BEGIN",
       {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "BEGIN"}},
      {"BEGIN; SELECT 1; END;", {"BEGIN", "SELECT 1", "END"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<absl::string_view>> pieces = SplitStatements(c.sql);
    ASSERT_TRUE(pieces.ok()) << c.sql << ": " << pieces.status();
    std::vector<std::string> got(pieces->begin(), pieces->end());
    EXPECT_EQ(got, c.want) << c.sql;
  }
}

TEST(SplitStatementsTest, LexErrorsAreReported) {
  absl::StatusOr<std::vector<absl::string_view>> pieces = SplitStatements("SELECT 1; SELECT 'x");
  ASSERT_FALSE(pieces.ok());
  EXPECT_EQ(SqlState(pieces.status()), "42601");
  EXPECT_EQ(ErrorPosition(pieces.status()), 18);
}

}  // namespace
}  // namespace shale::gate::sql
