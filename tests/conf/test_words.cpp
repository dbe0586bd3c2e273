#include <catch2/catch.hpp>

#include <random>

#include "crashkit/conf/words.hpp"

using namespace crashkit::conf;
using V = std::vector<std::string>;

TEST_CASE("split_words: quoting without a shell", "[words]") {
  struct Row {
    const char* line;
    V words;
  };
  const Row rows[] = {
      {"", {}},
      {"   \t ", {}},
      {"# a comment", {}},
      {"   # indented comment", {}},
      {"path /var/crash", {"path", "/var/crash"}},
      {"path /var/crash # trailing comment", {"path", "/var/crash"}},
      {"path /var/crash#not-a-comment", {"path", "/var/crash#not-a-comment"}},
      {"kdump_pre '/opt/my hooks/pre'", {"kdump_pre", "/opt/my hooks/pre"}},
      {"append \"console=ttyS0,115200 \"", {"append", "console=ttyS0,115200 "}},
      {"a \"x\\\"y\" b", {"a", "x\"y", "b"}},
      {"a \"back\\\\slash\"", {"a", "back\\slash"}},
      {"a \"\\n stays\"", {"a", "\\n stays"}},
      {"a 'single $HOME `x` \\ \"'", {"a", "single $HOME `x` \\ \""}},
      {"a b\\ c", {"a", "b c"}},
      {"x=\"a b\"c'd e'", {"x=a bcd e"}},
      {"empty '' \"\"", {"empty", "", ""}},
      {"a '#not comment'", {"a", "#not comment"}},
      {"semi ; rm -rf / $(reboot)", {"semi", ";", "rm", "-rf", "/", "$(reboot)"}},
      {"crlf\r", {"crlf"}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.line);
    auto w = split_words(r.line);
    REQUIRE(w);
    CHECK(*w == r.words);
  }
}

TEST_CASE("split_words: errors name the column", "[words]") {
  struct Row {
    const char* line;
    const char* message;
  };
  const Row rows[] = {
      {"path \"/var/crash", "column 6: unterminated double quote"},
      {"path '/var/crash", "column 6: unterminated single quote"},
      {"path /var/crash\\", "column 16: backslash at the end of the line"},
      {"a \"b\\\"", "column 3: unterminated double quote"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.line);
    auto w = split_words(r.line);
    REQUIRE_FALSE(w);
    CHECK(w.error().what() == r.message);
  }
}

TEST_CASE("quote_word/join_words give split_words its input back", "[words]") {
  CHECK(quote_word("plain") == "plain");
  CHECK(quote_word("a b") == "'a b'");
  CHECK(quote_word("") == "''");
  CHECK(quote_word("#x") == "'#x'");
  CHECK(quote_word("it's") == "\"it's\"");
  std::mt19937 rng(7);
  const std::string alphabet = "ab #'\"\\\t-=/";
  for (int i = 0; i < 3000; ++i) {
    V words(1 + rng() % 4);
    for (auto& w : words)
      for (auto n = rng() % 6; n; --n)
        w += alphabet[rng() % alphabet.size()];
    std::string line = join_words(words);
    INFO(line);
    auto back = split_words(line);
    REQUIRE(back);
    CHECK(*back == words);
  }
}
