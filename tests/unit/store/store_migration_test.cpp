// A database written by the first stored-responses schema (version 1: one row per item) is
// upgraded in place by migration 2 (one row per turn and an item-id index) when a newer
// claudegate opens it, and every turn it held reads back as before: the Response with its
// output, conversations, item_reference lookups (the newest of a resent id), input_items pages.
#include <filesystem>

#include <gtest/gtest.h>

#include "claudegate/store/unavailable_store.hpp"

#include "unit/store/store_test_support.hpp"

namespace claudegate::store::testing {
namespace {

// Version 1 exactly as it shipped (src/store/sqlite/schema.cpp, kItemRows), with three turns:
// resp_1 (input a1 a2, output b1 b2), resp_2 continuing it (input a1 resent with newer content,
// c1; output d1) and resp_3 alone (input e1 without an id; no output).
constexpr const char* kVersion1 = R"sql(
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA journal_mode = WAL;
CREATE TABLE responses (
  id          TEXT PRIMARY KEY,
  previous_id TEXT,
  created_at  INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  response    TEXT NOT NULL
);
CREATE INDEX responses_by_created_at ON responses (created_at);
CREATE TABLE items (
  response_id TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  is_output   INTEGER NOT NULL,
  item_id     TEXT,
  item        TEXT NOT NULL,
  PRIMARY KEY (response_id, seq)
) WITHOUT ROWID;
CREATE INDEX items_by_item_id ON items (item_id);
INSERT INTO responses VALUES
  ('resp_1', NULL, 1800000000, 100, '{"id":"resp_1","object":"response","status":"completed"}'),
  ('resp_2', 'resp_1', 1800000010, 100, '{"id":"resp_2","object":"response"}'),
  ('resp_3', NULL, 1800000020, 100, '{"id":"resp_3","object":"response"}');
INSERT INTO items VALUES
  ('resp_1', 0, 0, 'a1', '{"id":"a1","type":"message","content":"old"}'),
  ('resp_1', 1, 0, 'a2', '{"id":"a2","type":"message","content":"x"}'),
  ('resp_1', 2, 1, 'b1', '{"id":"b1","type":"message","content":"x"}'),
  ('resp_1', 3, 1, 'b2', '{"id":"b2","type":"function_call","arguments":"{}"}'),
  ('resp_2', 0, 0, 'a1', '{"id":"a1","type":"message","content":"new"}'),
  ('resp_2', 1, 0, 'c1', '{"id":"c1","type":"message","content":"x"}'),
  ('resp_2', 2, 1, 'd1', '{"id":"d1","type":"message","content":"x"}'),
  ('resp_3', 0, 0, NULL, '{"type":"message","content":"no id"}');
PRAGMA user_version = 1;
)sql";

class StoreMigrationTest : public ::testing::Test, public StoreFixture {
 protected:
  void WriteVersion1() {
    std::filesystem::create_directories(settings.data_dir);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DatabasePath(settings).c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int code = sqlite3_exec(db, kVersion1, nullptr, nullptr, &error);
    EXPECT_EQ(code, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
};

TEST_F(StoreMigrationTest, Version1TurnsReadBackAfterTheUpgrade) {
  WriteVersion1();
  ASSERT_EQ(Query("PRAGMA user_version"), "1");
  auto store = Open();
  ASSERT_EQ(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
  EXPECT_EQ(Query("SELECT count(*) FROM sqlite_master WHERE name IN ('responses', 'items')"), "0");
  EXPECT_EQ(Query("SELECT group_concat(id) FROM (SELECT id FROM turns ORDER BY seq)"),
            "resp_1,resp_2,resp_3");

  auto first = RunSync(store->Get("resp_1"));
  ASSERT_EQ(first.status, LookupStatus::kFound);
  EXPECT_EQ(first.value["status"], "completed");
  EXPECT_EQ(Ids(first.value["output"].get<std::vector<nlohmann::json>>()),
            (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(first.value["output"][1]["arguments"], "{}");
  auto third = RunSync(store->Get("resp_3"));
  ASSERT_EQ(third.status, LookupStatus::kFound);
  EXPECT_EQ(third.value["output"], nlohmann::json::array());

  auto conversation = RunSync(store->Conversation("resp_2"));
  ASSERT_EQ(conversation.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(conversation.value),
            (std::vector<std::string>{"a1", "a2", "b1", "b2", "a1", "c1", "d1"}));

  auto items = RunSync(store->Items({"b2", "a1", "d1"}));
  ASSERT_EQ(items.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(items.value), (std::vector<std::string>{"b2", "a1", "d1"}));
  EXPECT_EQ(items.value[1]["content"], "new");  // the newest turn's copy of a resent id

  auto page = RunSync(store->InputItems("resp_1", "a1", 20, ListOrder::kAscending));
  ASSERT_EQ(page.status, LookupStatus::kFound);
  EXPECT_EQ(Ids(page.value.items), (std::vector<std::string>{"a2"}));
  auto no_id = RunSync(store->InputItems("resp_3", std::nullopt, 20, ListOrder::kAscending));
  ASSERT_EQ(no_id.value.items.size(), 1U);
  EXPECT_EQ(no_id.value.items[0]["content"], "no id");

  // The upgraded turns are continued and deleted like new ones.
  store->Save(Turn("resp_4", "resp_2", {"f1"}, {"g1"}, kStart + 30));
  EXPECT_EQ(RunSync(store->Conversation("resp_4")).value.size(), 9U);
  EXPECT_EQ(RunSync(store->Delete("resp_1")), LookupStatus::kFound);
  EXPECT_EQ(RunSync(store->Items({"b1"})).status, LookupStatus::kNotFound);
  EXPECT_EQ(RunSync(store->Conversation("resp_4")).status, LookupStatus::kNotFound);
  store.reset();
  EXPECT_EQ(Query("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Query("SELECT count(*) FROM item_index WHERE turn NOT IN (SELECT seq FROM turns)"),
            "0");
}

TEST_F(StoreMigrationTest, AnEmptyVersion1DatabaseUpgradesToo) {
  WriteVersion1();
  (void)Query("DELETE FROM items");
  (void)Query("DELETE FROM responses");
  auto store = Open();
  ASSERT_EQ(dynamic_cast<UnavailableResponseStore*>(store.get()), nullptr);
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
  store->Save(Turn("resp_1", std::nullopt, {"i1"}, {"o1"}));
  EXPECT_EQ(RunSync(store->Items({"o1"})).status, LookupStatus::kFound);
}

}  // namespace
}  // namespace claudegate::store::testing
