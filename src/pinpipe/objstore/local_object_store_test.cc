// LocalObjectStore specifics: atomic writes, put-if-absent, key validation
// (nothing escapes the root), range reads, ordered paginated listing.
#include "pinpipe/objstore/local_object_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "pinpipe/base/config.h"
#include "pinpipe/objstore/key.h"

namespace pinpipe::objstore {
namespace {
namespace fs = std::filesystem;

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "objstore-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = LocalObjectStore::Open(dir_ / "lake");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST(KeyTest, RejectsKeysThatCouldEscapeOrAreAmbiguous) {
  for (std::string_view bad :
       std::vector<std::string_view>{"", "/abs", "a/../../etc/passwd", "..", "a/./b", "a//b", "a/",
                                     "a\\b", std::string_view("a\0b", 3), "a\nb"}) {
    EXPECT_EQ(ValidateKey(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateKey(std::string(1025, 'a')).code(), StatusCode::kInvalidArgument);
  for (std::string_view good :
       std::vector<std::string_view>{"a", "topics/x.pin/partition=0/x.pin+0+0000000000.json",
                                     "_delta_log/00000000000000000000.json", "a..b", ".hidden"}) {
    EXPECT_TRUE(ValidateKey(good).ok()) << good;
  }
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("topics/").ok());
  EXPECT_TRUE(ValidatePrefix("topics/x.p").ok());
  EXPECT_FALSE(ValidatePrefix("../").ok());
  EXPECT_FALSE(ValidatePrefix("/").ok());
}

TEST_F(LocalObjectStoreTest, PutGetHeadDelete) {
  ASSERT_TRUE(store_->Put("a/b/c.json", "hello\n", {}).ok());
  EXPECT_EQ(*store_->Get("a/b/c.json"), "hello\n");
  auto info = store_->Head("a/b/c.json");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 6);
  EXPECT_EQ(info->key, "a/b/c.json");
  EXPECT_GT(info->modified_ms, 1'600'000'000'000);
  // The file is where other tools expect it.
  std::ifstream in(dir_ / "lake/a/b/c.json");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello");
  ASSERT_TRUE(store_->Delete("a/b/c.json").ok());
  EXPECT_EQ(store_->Get("a/b/c.json").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Head("a/b/c.json").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("a/b/c.json").ok());
  // Empty folders are cleaned up; the root stays.
  EXPECT_FALSE(fs::exists(dir_ / "lake/a"));
  EXPECT_TRUE(fs::exists(dir_ / "lake"));
}

TEST_F(LocalObjectStoreTest, EscapingKeysAreRejectedAndNothingIsWrittenOutside) {
  EXPECT_EQ(store_->Put("../outside", "x", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("a/../../outside", "x", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("/tmp/outside", "x", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("../lake/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Delete("..").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("../", "", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "outside"));
}

TEST_F(LocalObjectStoreTest, PutIfAbsentDoesNotOverwrite) {
  PutOptions once;
  once.if_absent = true;
  ASSERT_TRUE(store_->Put("k", "first", once).ok());
  EXPECT_EQ(store_->Put("k", "second", once).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Get("k"), "first");
  ASSERT_TRUE(store_->Put("k", "third", {}).ok());  // plain put overwrites
  EXPECT_EQ(*store_->Get("k"), "third");
  // No temporary files are left behind.
  EXPECT_TRUE(fs::is_empty(dir_ / "lake/.pinpipe-tmp"));
}

TEST_F(LocalObjectStoreTest, ConcurrentPutIfAbsentHasExactlyOneWinner) {
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      PutOptions once;
      once.if_absent = true;
      if (store_->Put("race", "writer" + std::to_string(i), once).ok()) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_TRUE(store_->Get("race")->starts_with("writer"));
}

TEST_F(LocalObjectStoreTest, RangeGets) {
  ASSERT_TRUE(store_->Put("r", "0123456789", {}).ok());
  EXPECT_EQ(*store_->Get("r", ByteRange{2, 4}), "234");
  EXPECT_EQ(*store_->Get("r", ByteRange{7, -1}), "789");
  EXPECT_EQ(*store_->Get("r", ByteRange{8, 100}), "89");
  EXPECT_EQ(store_->Get("r", ByteRange{10, -1}).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(store_->Get("r", ByteRange{5, 2}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, ListIsByteOrderedAndPaginated) {
  // '-' (0x2d) sorts before '/' (0x2f): a naive directory walk gets this wrong.
  std::vector<std::string> keys = {"a/b", "a-c", "a/a/z", "a0", "b", "a/b0", "topics/t/p=0/x"};
  for (const auto& k : keys) ASSERT_TRUE(store_->Put(k, k, {}).ok()) << k;
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> got;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->List("", token, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->objects.size(), 2u);
    for (auto& o : page->objects) got.push_back(o.key);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(got, keys);
  EXPECT_EQ(pages, 4);
  auto all = store_->ListAll("a/");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "a/a/z");
  EXPECT_EQ((*all)[1].key, "a/b");
  EXPECT_EQ((*all)[2].key, "a/b0");
  EXPECT_EQ((*all)[0].size, 5);
  auto partial = store_->ListAll("a/b");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->size(), 2u);
  EXPECT_TRUE(store_->ListAll("nothing/")->empty());
}

TEST_F(LocalObjectStoreTest, UploadIsInvisibleUntilFinished) {
  auto upload = store_->StartUpload("big/obj", {});
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE((*upload)->Append("part1-").ok());
  ASSERT_TRUE((*upload)->Append("part2").ok());
  EXPECT_EQ(store_->Head("big/obj").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListAll("")->empty());
  ASSERT_TRUE((*upload)->Finish().ok());
  EXPECT_EQ(*store_->Get("big/obj"), "part1-part2");

  auto aborted = store_->StartUpload("big/gone", {});
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Append("x").ok());
  aborted->reset();  // destruction aborts
  EXPECT_EQ(store_->Head("big/gone").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_empty(dir_ / "lake/.pinpipe-tmp"));
}

TEST_F(LocalObjectStoreTest, OpenObjectStoreAcceptsFileUrlsAndBarePaths) {
  Config config;
  auto a = OpenObjectStore("file://" + (dir_ / "x").string(), config);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->Url(), "file://" + (dir_ / "x").string());
  auto b = OpenObjectStore((dir_ / "y").string(), config);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->Put("k", "v", {}).ok());
  EXPECT_TRUE(fs::exists(dir_ / "y/k"));
  EXPECT_EQ(OpenObjectStore("ftp://x", config).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("", config).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, PutManyWritesABatchWithOneStatusPerObject) {
  ASSERT_TRUE(store_->Put("t/p=0/taken.json", "old", {}).ok());
  PutOptions absent;
  absent.if_absent = true;
  std::vector<std::string> bodies;
  bodies.reserve(80);  // never reallocates: the requests view its strings
  std::vector<PutRequest> requests;
  for (int i = 0; i < 40; ++i) bodies.push_back("object " + std::to_string(i) + "\n");
  for (int i = 0; i < 40; ++i) {
    // Two folders, one of them new; keys in no particular order.
    const std::string key =
        "t/p=" + std::to_string(i % 2) + "/o" + std::to_string((i * 7) % 40) + ".json";
    bodies.push_back(key);  // keeps the key's bytes alive
    requests.push_back({bodies.back(), bodies[static_cast<size_t>(i)], absent});
  }
  requests.push_back({"t/p=0/taken.json", "new", absent});   // exists: AlreadyExists
  requests.push_back({"t/../escape", "x", absent});          // invalid key
  requests.push_back({"t/p=0/taken.json", "replaced", {}});  // plain put: overwrites

  std::vector<Status> results = store_->PutMany(requests);
  ASSERT_EQ(results.size(), requests.size());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(results[static_cast<size_t>(i)].ok()) << results[static_cast<size_t>(i)].ToString();
    auto got = store_->Get(requests[static_cast<size_t>(i)].key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, bodies[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(results[40].code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(results[41].code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[42].ok());
  EXPECT_EQ(*store_->Get("t/p=0/taken.json"), "replaced");
  // Nothing is left behind in the temporary folder.
  EXPECT_TRUE(fs::is_empty(dir_ / "lake" / ".pinpipe-tmp"));
  auto listed = store_->ListAll("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 41u);
}

}  // namespace
}  // namespace pinpipe::objstore
