// The stored-response steps of POST /v1/responses that need no I/O (routes/responses_input.hpp).
#include "claudegate/routes/responses_input.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace claudegate::routes {
namespace {

using nlohmann::json;

// Deterministic ids: prefix_1, prefix_2, ...
ItemIdSource CountingIds() {
  return [n = 0](std::string_view prefix) mutable {
    return std::string(prefix) + "_" + std::to_string(++n);
  };
}

struct NormalizeCase {
  const char* name;
  const char* input;
  const char* expected;
};

class NormalizeInputItemsTest : public testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizeInputItemsTest, AssignsIdsByType) {
  const auto& c = GetParam();
  EXPECT_EQ(NormalizeInputItems(json::parse(c.input), CountingIds()), json::parse(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizeInputItemsTest,
    testing::Values(
        NormalizeCase{"string_becomes_user_message", R"("hi")",
                      R"([{"id":"msg_1","type":"message","role":"user",
                           "content":[{"type":"input_text","text":"hi"}]}])"},
        NormalizeCase{"easy_message_without_type", R"([{"role":"user","content":"a"}])",
                      R"([{"role":"user","content":"a","id":"msg_1"}])"},
        NormalizeCase{"ids_kept",
                      R"([{"type":"message","id":"msg_x","role":"user","content":"a"}])",
                      R"([{"type":"message","id":"msg_x","role":"user","content":"a"}])"},
        NormalizeCase{
            "each_type_its_prefix",
            R"([{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
                          {"type":"function_call_output","call_id":"c","output":"x"},
                          {"type":"custom_tool_call","call_id":"d","name":"g","input":"y"},
                          {"type":"custom_tool_call_output","call_id":"d","output":"z"},
                          {"type":"reasoning","encrypted_content":"s"}])",
            R"([{"type":"function_call","call_id":"c","name":"f","arguments":"{}","id":"fc_1"},
                          {"type":"function_call_output","call_id":"c","output":"x","id":"fco_2"},
                          {"type":"custom_tool_call","call_id":"d","name":"g","input":"y","id":"ctc_3"},
                          {"type":"custom_tool_call_output","call_id":"d","output":"z","id":"ctco_4"},
                          {"type":"reasoning","encrypted_content":"s","id":"item_5"}])"},
        NormalizeCase{"empty_id_replaced",
                      R"([{"type":"message","id":"","role":"user","content":"a"}])",
                      R"([{"type":"message","id":"msg_1","role":"user","content":"a"}])"},
        NormalizeCase{"references_untouched", R"([{"type":"item_reference","id":"fc_9"}, 3])",
                      R"([{"type":"item_reference","id":"fc_9"}, 3])"},
        NormalizeCase{"not_an_array_unchanged", R"({"x":1})", R"({"x":1})"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ItemReferenceIds, ListsReferencesInOrder) {
  const json items = json::parse(R"([{"type":"item_reference","id":"a"},{"type":"message"},
                                       {"type":"item_reference","id":"b"}])");
  const auto ids = ItemReferenceIds(items);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
}

TEST(ItemReferenceIds, ReferenceWithoutIdIsNamed) {
  const json items = json::parse(R"([{"type":"message"},{"type":"item_reference","id":7}])");
  const auto ids = ItemReferenceIds(items);
  ASSERT_FALSE(ids);
  EXPECT_EQ(ids.error().param, "input[1].id");
  EXPECT_EQ(ids.error().kind, ErrorKind::kInvalidRequest);
}

TEST(ReplaceItemReferences, SubstitutesInPlace) {
  const json items = json::parse(R"([{"type":"item_reference","id":"a"},{"type":"message","id":"m"},
                                       {"type":"item_reference","id":"b"}])");
  const std::vector<json> resolved{json::parse(R"({"type":"function_call","id":"a"})"),
                                   json::parse(R"({"type":"reasoning","id":"b"})")};
  EXPECT_EQ(ReplaceItemReferences(items, resolved),
            json::parse(R"([{"type":"function_call","id":"a"},{"type":"message","id":"m"},
                            {"type":"reasoning","id":"b"}])"));
}

TEST(ConversationInput, HistoryFirst) {
  const std::vector<json> history{json::parse(R"({"id":"1"})"), json::parse(R"({"id":"2"})")};
  EXPECT_EQ(ConversationInput(history, json::parse(R"([{"id":"3"}])")),
            json::parse(R"([{"id":"1"},{"id":"2"},{"id":"3"}])"));
}

TEST(RandomItemId, PrefixAndTwentyFourHexDigits) {
  const std::string a = RandomItemId("msg");
  const std::string b = RandomItemId("msg");
  EXPECT_EQ(a.size(), 4U + 24U);
  EXPECT_TRUE(a.starts_with("msg_"));
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 4), std::string::npos);
  EXPECT_NE(a, b);
}

// Time first (UUIDv7's layout): ids made later sort after earlier ones once the clock has moved,
// so the store's item-id index grows at its end (docs/performance.md, "Stored responses").
TEST(RandomItemId, LaterIdsSortAfterEarlierOnes) {
  const std::string first = RandomItemId("msg");
  std::string later = RandomItemId("msg");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  // The first 12 hex digits are the millisecond: wait for the next one (bounded).
  while (later.compare(4, 12, first, 4, 12) == 0 && std::chrono::steady_clock::now() < deadline) {
    later = RandomItemId("msg");
  }
  ASSERT_NE(later.substr(4, 12), first.substr(4, 12)) << "the clock did not move in 2 s";
  EXPECT_LT(first, later);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const long long stamped = std::stoll(later.substr(4, 12), nullptr, 16);
  EXPECT_LE(stamped, now_ms);
  EXPECT_GT(stamped, now_ms - 60'000);
}

}  // namespace
}  // namespace claudegate::routes
