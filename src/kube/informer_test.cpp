// The informer's store (no cluster); the informer itself runs in kube_e2e_test.
#include "kube/informer.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace kolla::kube {
namespace {

ObjectPtr object(const std::string& ns, const std::string& name, const std::string& rv) {
  return std::make_shared<const json>(
      json{{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}});
}

TEST(StoreTest, UpsertEraseAndList) {
  Store store;
  EXPECT_EQ(store.upsert(object("a", "x", "1")), nullptr);
  const auto previous = store.upsert(object("a", "x", "2"));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ((*previous)["metadata"]["resourceVersion"], "1");
  store.upsert(object("b", "y", "3"));
  store.upsert(object("ab", "z", "4"));
  store.upsert(object("", "cluster-wide", "5"));
  EXPECT_EQ(store.size(), 4u);
  EXPECT_EQ((*store.get("a", "x"))["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(store.get("cluster-wide")->at("metadata").at("name"), "cluster-wide");
  EXPECT_EQ(store.list("a").size(), 1u);  // "ab/z" is not in namespace "a"
  EXPECT_EQ(store.list().size(), 4u);
  EXPECT_NE(store.erase("a/x"), nullptr);
  EXPECT_EQ(store.erase("a/x"), nullptr);
  EXPECT_EQ(store.get("a/x"), nullptr);
}

TEST(StoreTest, ReplaceReportsWhatDisappeared) {
  Store store;
  store.upsert(object("a", "keep", "1"));
  store.upsert(object("a", "gone", "1"));
  const auto gone = store.replace({object("a", "keep", "2"), object("a", "new", "3")});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ((*gone[0])["metadata"]["name"], "gone");
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"a/keep", "a/new"}));
}

TEST(StoreTest, ConcurrentReadersAndWriters) {
  Store store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 500; ++i) {
        store.upsert(
            object("ns" + std::to_string(t), "o" + std::to_string(i % 50), std::to_string(i)));
        (void)store.list();
        if (i % 7 == 0) store.erase("ns" + std::to_string(t) + "/o" + std::to_string(i % 50));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(store.size(), 200u);
}

}  // namespace
}  // namespace kolla::kube
