#include "kube/watch.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace kolla::kube {
namespace {

TEST(WatchTest, ParsesEvents) {
  const auto event = parse_watch_line(
      R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"42"}}})");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, WatchEventType::kModified);
  EXPECT_EQ(event->resource_version(), "42");
  EXPECT_EQ(event->object["metadata"]["name"], "a");
  const auto bookmark =
      parse_watch_line(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"77"}}})");
  ASSERT_TRUE(bookmark);
  EXPECT_EQ(bookmark->type, WatchEventType::kBookmark);
  EXPECT_EQ(bookmark->resource_version(), "77");
  const auto error = parse_watch_line(R"({"type":"ERROR","object":{"kind":"Status","code":410}})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, WatchEventType::kError);
  EXPECT_EQ(error->resource_version(), "");
  EXPECT_EQ(to_string(WatchEventType::kDeleted), "DELETED");
}

TEST(WatchTest, RejectsBadLines) {
  EXPECT_FALSE(parse_watch_line(""));
  EXPECT_FALSE(parse_watch_line("  \r"));
  EXPECT_THROW(parse_watch_line("{not json"), std::invalid_argument);
  EXPECT_THROW(parse_watch_line(R"({"object":{}})"), std::invalid_argument);
  EXPECT_THROW(parse_watch_line(R"({"type":"EXPLODED","object":{}})"), std::invalid_argument);
  EXPECT_THROW(parse_watch_line(R"({"type":"ADDED"})"), std::invalid_argument);
}

TEST(WatchTest, SplitsChunksIntoLines) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  const auto collect = [&](std::string_view line) { lines.emplace_back(line); };
  splitter.feed(R"({"type":"ADDED","obj)", collect);
  EXPECT_TRUE(lines.empty());
  splitter.feed("ect\":{}}\n{\"a\":1}\n{\"b\"", collect);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], R"({"type":"ADDED","object":{}})");
  EXPECT_EQ(lines[1], R"({"a":1})");
  EXPECT_EQ(splitter.pending(), R"({"b")");
  splitter.feed(":2}\n", collect);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], R"({"b":2})");
  EXPECT_TRUE(splitter.pending().empty());
}

TEST(WatchTest, CancelTokenWakesFromAnotherThread) {
  CancelToken token;
  std::atomic<int> woken{0};
  const int id = token.add_waker([&] { woken.fetch_add(1); });
  const int removed = token.add_waker([&] { woken.fetch_add(100); });
  token.remove_waker(removed);
  std::thread other([&] { token.cancel(); });
  other.join();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(woken.load(), 1);
  token.remove_waker(id);
}

}  // namespace
}  // namespace kolla::kube
