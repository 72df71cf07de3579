// The SQLite ResponseStore against a real database in a temporary directory: what the Responses
// route relies on (save, get, conversation chains, item lookup, input_items pages, delete), the
// bounds (TTL with an injected clock, size), and failures (full queue, unusable directory,
// corrupt file) that must never reach the client as anything but kUnavailable.
#include "claudegate/store/sqlite/sqlite_response_store.hpp"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "claudegate/store/unavailable_store.hpp"

#include "unit/store/store_test_support.hpp"

namespace claudegate::store::testing {
namespace {

class SqliteResponseStoreTest : public ::testing::Test, public StoreFixture {};

TEST_F(SqliteResponseStoreTest, GetReturnsTheSavedResponseWithItsOutput) {
  auto store = Open();
  ASSERT_EQ(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  store->Save(Turn("resp_1", std::nullopt, {"in_1"}, {"out_1", "out_2"}));
  auto found = RunSync(store->Get("resp_1"));
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.value["id"], "resp_1");
  EXPECT_EQ(found.value["object"], "response");
  ASSERT_EQ(found.value["output"].size(), 2U);
  EXPECT_EQ(found.value["output"][1]["id"], "out_2");
  EXPECT_EQ(RunSync(store->Get("resp_unknown")).status, LookupStatus::kNotFound);
  EXPECT_EQ(Writes("saved"), 1);
}

TEST_F(SqliteResponseStoreTest, ConversationIsEveryTurnsInputsThenOutputsOldestFirst) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"a1", "a2"}, {"b1"}));
  store->Save(Turn("resp_2", "resp_1", {"c1"}, {"d1", "d2"}));
  store->Save(Turn("resp_3", "resp_2", {"e1"}, {"f1"}));
  auto conversation = RunSync(store->Conversation("resp_3"));
  ASSERT_EQ(conversation.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(conversation.value),
            (std::vector<std::string>{"a1", "a2", "b1", "c1", "d1", "d2", "e1", "f1"}));
  auto middle = RunSync(store->Conversation("resp_2"));
  EXPECT_EQ(Ids(middle.value), (std::vector<std::string>{"a1", "a2", "b1", "c1", "d1", "d2"}));
  EXPECT_EQ(RunSync(store->Conversation("resp_9")).status, LookupStatus::kNotFound);
}

TEST_F(SqliteResponseStoreTest, ATurnSavedAgainIsReadAgainNotFromTheCache) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"a1"}, {"b1"}, kStart, "first"));
  ASSERT_EQ(RunSync(store->Conversation("resp_1")).value.at(0)["content"], "first");  // cached
  ASSERT_EQ(RunSync(store->Items({"b1"})).value.at(0)["content"], "first");
  store->Save(Turn("resp_1", std::nullopt, {"a1"}, {"b2"}, kStart, "second"));
  auto conversation = RunSync(store->Conversation("resp_1"));
  ASSERT_EQ(conversation.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(conversation.value), (std::vector<std::string>{"a1", "b2"}));
  EXPECT_EQ(conversation.value[0]["content"], "second");
  EXPECT_EQ(RunSync(store->Items({"b1"})).status, LookupStatus::kNotFound);
  EXPECT_EQ(Query("SELECT count(*) FROM turns"), "1");
  EXPECT_EQ(Query("SELECT group_concat(item_id) FROM item_index"), "a1,b2");
}

TEST_F(SqliteResponseStoreTest, AConversationWithADeletedTurnIsNotFoundNotPartial) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"a1"}, {"b1"}));
  store->Save(Turn("resp_2", "resp_1", {"c1"}, {"d1"}));
  store->Save(Turn("resp_3", "resp_2", {"e1"}, {"f1"}));
  EXPECT_EQ(RunSync(store->Delete("resp_2")), LookupStatus::kFound);
  EXPECT_EQ(RunSync(store->Conversation("resp_3")).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Get("resp_3")).status, LookupStatus::kFound);
  EXPECT_EQ(RunSync(store->Conversation("resp_1")).status, LookupStatus::kFound);
}

TEST_F(SqliteResponseStoreTest, ItemsFindsEveryIdInOrderAndTheNewestOfDuplicates) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"msg_1"}, {"fc_1"}));
  // The same item id again, as clients resend it.
  store->Save(Turn("resp_2", "resp_1", {"msg_1"}, {"fc_2"}, kStart, "newer"));
  auto items = RunSync(store->Items({"fc_2", "msg_1", "fc_1"}));
  ASSERT_EQ(items.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(items.value), (std::vector<std::string>{"fc_2", "msg_1", "fc_1"}));
  EXPECT_EQ(items.value[1]["content"], "newer");
  auto missing = RunSync(store->Items({"fc_1", "nope"}));
  EXPECT_EQ(missing.status, LookupStatus::kNotFound);
  EXPECT_TRUE(missing.value.empty());
}

TEST_F(SqliteResponseStoreTest, InputItemsPagesWithOpenAisCursorInBothOrders) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"i1", "i2", "i3", "i4", "i5"}, {"o1"}));
  struct Case {
    std::optional<std::string> after;
    std::size_t limit;
    ListOrder order;
    std::vector<std::string> ids;
    bool has_more;
  };
  const std::vector<Case> cases = {
      {std::nullopt, 2, ListOrder::kAscending, {"i1", "i2"}, true},
      {"i2", 2, ListOrder::kAscending, {"i3", "i4"}, true},
      {"i4", 2, ListOrder::kAscending, {"i5"}, false},
      {std::nullopt, 5, ListOrder::kAscending, {"i1", "i2", "i3", "i4", "i5"}, false},
      {std::nullopt, 2, ListOrder::kDescending, {"i5", "i4"}, true},
      {"i4", 2, ListOrder::kDescending, {"i3", "i2"}, true},
      {"i2", 100, ListOrder::kDescending, {"i1"}, false},
      {"i1", 20, ListOrder::kDescending, {}, false},
      {"o1", 20, ListOrder::kAscending, {}, false},            // an output item is no input cursor
      {std::nullopt, 0, ListOrder::kAscending, {"i1"}, true},  // limit clamped to 1..100
  };
  for (const auto& c : cases) {
    auto page = RunSync(store->InputItems("resp_1", c.after, c.limit, c.order));
    ASSERT_EQ(page.status, LookupStatus::kFound);
    EXPECT_EQ(Ids(page.value.items), c.ids) << c.after.value_or("-") << " limit " << c.limit;
    EXPECT_EQ(page.value.has_more, c.has_more) << c.after.value_or("-") << " limit " << c.limit;
  }
  EXPECT_EQ(RunSync(store->InputItems("resp_2", std::nullopt, 20, ListOrder::kAscending)).status,
            LookupStatus::kNotFound);
}

TEST_F(SqliteResponseStoreTest, DeleteRemovesTheTurnAndItsItems) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"i1"}, {"o1"}));
  EXPECT_EQ(RunSync(store->Delete("resp_1")), LookupStatus::kFound);
  EXPECT_EQ(RunSync(store->Get("resp_1")).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Items({"i1"})).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Delete("resp_1")), LookupStatus::kNotFound);
  EXPECT_EQ(Query("SELECT count(*) FROM item_index"), "0");
}

TEST_F(SqliteResponseStoreTest, ExpiredTurnsAreInvisibleAtOnceAndPrunedLater) {
  settings.responses_ttl = std::chrono::hours(24);
  auto store = Open();
  store->Save(Turn("resp_old", std::nullopt, {"i1"}, {"o1"}, kStart));
  store->Save(Turn("resp_new", "resp_old", {"i2"}, {"o2"}, kStart + 7200));
  now = kStart + 24 * 3600 + 1;  // resp_old is a day and a second old, resp_new is not
  EXPECT_EQ(RunSync(store->Get("resp_old")).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Items({"i1"})).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Get("resp_new")).status, LookupStatus::kFound);
  // The chain reaches an expired turn: not a partial conversation.
  EXPECT_EQ(RunSync(store->Conversation("resp_new")).status, LookupStatus::kNotFound);
  EXPECT_EQ(Query("SELECT count(*) FROM turns"), "2");  // invisible, not yet pruned

  auto* sqlite = dynamic_cast<sqlite::SqliteResponseStore*>(store.get());
  ASSERT_NE(sqlite, nullptr);
  RunSync([&]() -> Awaitable<bool> {
    co_await sqlite->Prune();
    co_return true;
  }());
  EXPECT_EQ(metrics.store_pruned.Value({"expired"}), 1);
  EXPECT_EQ(Query("SELECT group_concat(id) FROM turns"), "resp_new");
  EXPECT_EQ(Query("SELECT group_concat(item_id) FROM item_index"), "i2,o2");
}

TEST_F(SqliteResponseStoreTest, SizeLimitPrunesTheOldestTurns) {
  settings.max_size_mb = 1;
  auto store = Open();
  const std::string big(64 * 1024, 'x');  // 40 turns of 64 KiB: 2.5 MiB against a 1 MiB limit
  for (int i = 0; i < 40; ++i) {
    store->Save(Turn("resp_" + std::to_string(i), std::nullopt, {"i" + std::to_string(i)}, {},
                     kStart + i, big));
    RunSync([&]() -> Awaitable<bool> {  // one batch each, so pruning runs along the way
      co_await store->Flush();
      co_return true;
    }());
  }
  auto* sqlite = dynamic_cast<sqlite::SqliteResponseStore*>(store.get());
  ASSERT_NE(sqlite, nullptr);
  RunSync([&]() -> Awaitable<bool> {
    co_await sqlite->Prune();
    co_return true;
  }());
  EXPECT_GT(metrics.store_pruned.Value({"size"}), 20);
  EXPECT_EQ(RunSync(store->Get("resp_0")).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Get("resp_39")).status, LookupStatus::kFound);
  // The pages in use, and the file itself: pruning gives freed pages back (auto_vacuum).
  const auto page_bytes = std::stoll(Query("PRAGMA page_size"));
  EXPECT_EQ(Query("PRAGMA freelist_count"), "0");
  EXPECT_LE(std::stoll(Query("PRAGMA page_count")) * page_bytes, 1024 * 1024);
}

TEST_F(SqliteResponseStoreTest, AFullQueueDropsAndCountsAndNeverBlocks) {
  settings.max_queued_writes = 2;
  auto store = Open();
  // Another connection holds the write lock, so the worker's first batch (at most 2 turns: the
  // queue's bound) waits in busy_timeout while the queue fills again: at most 4 of the 10 turns
  // are accepted.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(DatabasePath(settings).c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int i = 0; i < 10; ++i) {
    store->Save(Turn("resp_" + std::to_string(i), std::nullopt, {}, {}));
  }
  EXPECT_GE(Writes("dropped"), 6);
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  RunSync([&]() -> Awaitable<bool> {
    co_await store->Flush();
    co_return true;
  }());
  EXPECT_EQ(Writes("saved") + Writes("dropped") + Writes("failed"), 10);
  EXPECT_EQ(Writes("failed"), 0);
}

TEST_F(SqliteResponseStoreTest, AnUnusableDirectoryGivesAStoreThatAnswersUnavailable) {
  std::ofstream(dir.path() + "/file") << "not a directory";
  settings.data_dir = dir.path() + "/file/data";
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_NE(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  EXPECT_NO_THROW(store->Save(Turn("resp_1", std::nullopt, {"i1"}, {})));
  EXPECT_EQ(Writes("dropped"), 1);
  EXPECT_EQ(RunSync(store->Get("resp_1")).status, LookupStatus::kUnavailable);
  EXPECT_EQ(RunSync(store->Conversation("resp_1")).status, LookupStatus::kUnavailable);
  EXPECT_EQ(RunSync(store->Delete("resp_1")), LookupStatus::kUnavailable);
}

TEST_F(SqliteResponseStoreTest, ACorruptFileGivesAStoreThatAnswersUnavailable) {
  std::filesystem::create_directories(settings.data_dir);
  std::ofstream(DatabasePath(settings)) << std::string(8192, '\x5a');
  auto store = Open();
  EXPECT_NE(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  EXPECT_EQ(RunSync(store->Items({"i1"})).status, LookupStatus::kUnavailable);
}

TEST_F(SqliteResponseStoreTest, DisabledStoresNothing) {
  settings.enabled = false;
  auto store = Open();
  EXPECT_NE(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  EXPECT_FALSE(std::filesystem::exists(settings.data_dir));
}

TEST_F(SqliteResponseStoreTest, DataSurvivesAReopenAndTheSchemaIsMigratedOnce) {
  {
    auto store = Open();
    store->Save(Turn("resp_1", std::nullopt, {"i1"}, {"o1"}));
    store->Save(Turn("resp_2", "resp_1", {"i2"}, {"o2"}));
  }  // no Flush: the destructor writes what is queued
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
  EXPECT_EQ(Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Query("PRAGMA auto_vacuum"), "2");  // incremental
  struct stat info {};
  ASSERT_EQ(::stat(settings.data_dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700U);
  ASSERT_EQ(::stat(DatabasePath(settings).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto store = Open();
    ASSERT_EQ(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
    // Twice: read from the file, then from the worker's cache of parsed turns.
    for (int lookup = 0; lookup < 2; ++lookup) {
      auto conversation = RunSync(store->Conversation("resp_2"));
      ASSERT_EQ(conversation.status, LookupStatus::kFound);
      EXPECT_EQ(Ids(conversation.value), (std::vector<std::string>{"i1", "o1", "i2", "o2"}));
    }
  }
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
  EXPECT_EQ(Query("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteResponseStoreTest, ADatabaseFromANewerClaudegateIsRefused) {
  { auto store = Open(); }
  (void)Query("PRAGMA user_version = 99");
  auto store = Open();
  EXPECT_NE(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
}

TEST_F(SqliteResponseStoreTest, LookupsFromManyThreadsResumeOnTheirOwnExecutors) {
  auto store = Open();
  store->Save(Turn("resp_1", std::nullopt, {"i1"}, {"o1"}));
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      net::io_context io;
      net::co_spawn(
          io,
          [&]() -> Awaitable<void> {
            for (int i = 0; i < 25; ++i) {
              const auto before = std::this_thread::get_id();
              auto result = co_await store->Conversation("resp_1");
              EXPECT_EQ(std::this_thread::get_id(), before);
              found += result.status == LookupStatus::kFound ? 1 : 0;
            }
          },
          net::detached);
      io.run_for(std::chrono::seconds(30));
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(found, 100);
}

}  // namespace
}  // namespace claudegate::store::testing
