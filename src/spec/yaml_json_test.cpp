#include "spec/yaml_json.hpp"

#include <gtest/gtest.h>

namespace kolla::yaml {
namespace {

TEST(YamlJson, ResolvesScalarsLikeKubernetes) {
  auto v = parse(R"(
a: 1
b: "1"
c: 1.5
d: true
e: "true"
f: ~
g: yes
h: 0x1F
i: hello world
j: ''
k: 18446744073709551615
l: 1e400
)",
                 "t");
  EXPECT_EQ(v["a"], 1);
  EXPECT_EQ(v["b"], "1");
  EXPECT_DOUBLE_EQ(v["c"].get<double>(), 1.5);
  EXPECT_EQ(v["d"], true);
  EXPECT_EQ(v["e"], "true");
  EXPECT_TRUE(v["f"].is_null());
  EXPECT_EQ(v["g"], true);
  EXPECT_EQ(v["h"], 31);
  EXPECT_EQ(v["i"], "hello world");
  EXPECT_EQ(v["j"], "");
  EXPECT_EQ(v["k"].get<std::uint64_t>(), 18446744073709551615ULL);
  EXPECT_TRUE(v["l"].is_number_float());
}

TEST(YamlJson, RecordsLines) {
  LineMap lines;
  parse("a:\n  b:\n    - x\n    - y: 1\n", "t", &lines);
  EXPECT_EQ(lines.at("a"), 1);
  EXPECT_EQ(lines.at("a.b"), 2);
  EXPECT_EQ(lines.at("a.b[1].y"), 4);
}

TEST(YamlJson, MalformedYamlHasLineAndColumn) {
  try {
    parse("a: 1\nb: [1, 2\nc: 3\n", "in.yaml");
    FAIL();
  } catch (const YamlError& e) {
    EXPECT_GE(e.line, 2);
    EXPECT_EQ(std::string(e.what()).rfind("in.yaml:", 0), 0u) << e.what();
  }
}

TEST(YamlJson, EmitRoundTrips) {
  nlohmann::json value = {
      {"strings", {"true", "1", "1.0", "~", "", "null", "a: b", "- x", "#c", "plain", "yes"}},
      {"numbers", {0, -3, 2.5, 1e20}},
      {"bools", {true, false}},
      {"nothing", nullptr},
      {"empty", nlohmann::json::object()},
      {"list", nlohmann::json::array()},
      {"multi", "line one\nline two\n"},
      {"multi_no_newline", "a\nb"},
      {"nested", {{"x", {{"y", {1, {{"z", "w"}}}}}}}},
      {"true", "key that reads as bool"}};
  auto text = emit(value);
  EXPECT_EQ(parse(text, "emitted"), value) << text;
}

}  // namespace
}  // namespace kolla::yaml
