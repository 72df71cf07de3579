// The SQLite KeyStore against a real database in a temporary directory (issue #19): what the key
// routes and `claudegate key` rely on (put, replace, alias uniqueness, delete, spends, the
// version other processes poll), and that it shares the file with the response store.
#include "claudegate/store/sqlite/sqlite_key_store.hpp"

#include <gtest/gtest.h>

#include "unit/store/store_test_support.hpp"

namespace claudegate::store::testing {
namespace {

class SqliteKeyStoreTest : public ::testing::Test, public StoreFixture {
 protected:
  OpenedKeyStore OpenKeys() { return MakeKeyStore(settings); }
};

KeyRecord Key(char fill, std::optional<std::string> alias) {
  KeyRecord record;
  record.token = std::string(64, fill);
  record.key_name = std::string("sk-...") + fill;
  record.alias = std::move(alias);
  record.models = {"sonnet"};
  record.rpm_limit = 10;
  record.max_budget = 2.5;
  record.budget_duration = 86400;
  record.budget_reset_at = kStart + 86400;
  record.expires_at = kStart + 3600;
  record.metadata = R"({"team":"infra"})";
  record.created_at = kStart;
  record.updated_at = kStart;
  return record;
}

TEST_F(SqliteKeyStoreTest, KeysRoundTripAndSurviveAReopen) {
  {
    auto opened = OpenKeys();
    ASSERT_TRUE(opened.store);
    EXPECT_TRUE(opened.keys.empty());
    EXPECT_EQ(RunSync(opened.store->Put(Key('a', "first"), true)), KeyWrite::kDone);
    EXPECT_EQ(RunSync(opened.store->Put(Key('b', std::nullopt), true)), KeyWrite::kDone);
  }
  auto opened = OpenKeys();
  ASSERT_EQ(opened.keys.size(), 2U);
  EXPECT_EQ(opened.keys[0], Key('a', "first"));
  EXPECT_EQ(opened.keys[1], Key('b', std::nullopt));
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
  EXPECT_EQ(Query("SELECT count(*) FROM keys WHERE token LIKE 'sk-%'"), "0");
}

TEST_F(SqliteKeyStoreTest, AnAliasBelongsToOneKey) {
  auto opened = OpenKeys();
  ASSERT_EQ(RunSync(opened.store->Put(Key('a', "bot"), true)), KeyWrite::kDone);
  EXPECT_EQ(RunSync(opened.store->Put(Key('b', "bot"), true)), KeyWrite::kAliasTaken);
  auto renamed = Key('a', "bot");
  renamed.rpm_limit = 99;
  EXPECT_EQ(RunSync(opened.store->Put(renamed, false)), KeyWrite::kDone);  // its own alias
  EXPECT_EQ(RunSync(opened.store->Put(Key('c', "x"), false)), KeyWrite::kNotFound);
  auto all = RunSync(opened.store->All());
  ASSERT_EQ(all.value.size(), 1U);
  EXPECT_EQ(all.value[0].rpm_limit, 99);
}

TEST_F(SqliteKeyStoreTest, TheVersionCountsDefinitionChangesNotSpends) {
  auto opened = OpenKeys();
  const auto start = RunSync(opened.store->Version());
  ASSERT_TRUE(start);
  ASSERT_EQ(RunSync(opened.store->Put(Key('a', "bot"), true)), KeyWrite::kDone);
  const auto after_put = RunSync(opened.store->Version());
  EXPECT_NE(after_put, start);
  ASSERT_TRUE(RunSync(opened.store->SaveSpends({{std::string(64, 'a'), 1.25, kStart + 99}})));
  EXPECT_EQ(RunSync(opened.store->Version()), after_put);
  auto all = RunSync(opened.store->All());
  EXPECT_EQ(all.value.at(0).spend, 1.25);
  EXPECT_EQ(all.value.at(0).budget_reset_at, kStart + 99);
  // A second process (the `claudegate key` command) sees and makes changes too.
  auto other = OpenKeys();
  ASSERT_EQ(other.keys.size(), 1U);
  auto deleted = RunSync(other.store->Delete({std::string(64, 'a'), std::string(64, 'z')}));
  ASSERT_EQ(deleted.status, LookupStatus::kFound);
  EXPECT_EQ(deleted.value, (std::vector<std::string>{std::string(64, 'a')}));
  EXPECT_NE(RunSync(opened.store->Version()), after_put);
  EXPECT_TRUE(RunSync(opened.store->All()).value.empty());
}

TEST_F(SqliteKeyStoreTest, AReaderSeesEveryChangeAnotherProcessMakes) {
  auto responses = Open();
  auto reader = OpenKeys();
  auto writer = OpenKeys();
  auto seen = RunSync(reader.store->Version());
  for (char fill : {'a', 'b', 'c'}) {
    ASSERT_EQ(RunSync(writer.store->Put(Key(fill, std::nullopt), true)), KeyWrite::kDone);
    const auto version = RunSync(reader.store->Version());
    EXPECT_NE(version, seen) << fill;
    seen = version;
    EXPECT_EQ(RunSync(reader.store->All()).value.back().token, std::string(64, fill));
  }
  ASSERT_EQ(RunSync(writer.store->Delete({std::string(64, 'a')})).value.size(), 1U);
  EXPECT_NE(RunSync(reader.store->Version()), seen);
  EXPECT_EQ(RunSync(reader.store->All()).value.size(), 2U);
}

TEST_F(SqliteKeyStoreTest, AReaderSeesChangesMadeOnAnotherConnection) {
  auto responses = Open();
  auto reader = OpenKeys();
  auto seen = RunSync(reader.store->Version());
  for (int round = 0; round < 3; ++round) {
    (void)Query("UPDATE key_version SET n = n + 1");
    const auto version = RunSync(reader.store->Version());
    EXPECT_NE(version, seen) << round;
    seen = version;
    (void)RunSync(reader.store->All());
  }
}

TEST_F(SqliteKeyStoreTest, SharesTheDatabaseWithStoredResponses) {
  auto responses = Open();
  responses->Save(Turn("resp_1", std::nullopt, {"i1"}, {"o1"}));
  auto opened = OpenKeys();
  ASSERT_EQ(RunSync(opened.store->Put(Key('a', "bot"), true)), KeyWrite::kDone);
  EXPECT_EQ(RunSync(responses->Get("resp_1")).status, LookupStatus::kFound);
  EXPECT_EQ(Query("SELECT count(*) FROM keys"), "1");
}

TEST_F(SqliteKeyStoreTest, NoDataDirectoryMeansNoKeyStore) {
  settings.data_dir.clear();
  EXPECT_FALSE(OpenKeys().store);
  settings.data_dir = "/proc/claudegate-cannot-be-here";
  EXPECT_FALSE(OpenKeys().store);
}

}  // namespace
}  // namespace claudegate::store::testing
