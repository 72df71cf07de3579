#include "claudegate/anthropic/usage_watcher.hpp"

#include <nlohmann/json.hpp>

namespace claudegate::anthropic {
namespace {

constexpr std::size_t kMaxErrorTypeLength = 40;

// Anthropic's documented error types are short snake_case words
// (https://docs.anthropic.com/en/api/errors); anything else is not a metric label.
bool IsLabel(std::string_view type) {
  return type.size() <= kMaxErrorTypeLength &&
         type.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos;
}

}  // namespace

void UsageWatcher::OnEvent(const sse::Event& event) {
  // Only these three events carry usage or an error. The relay passes every byte through
  // unread, so the others are skipped by name: reading them would cost a scan per delta for
  // nothing.
  if (event.event != "message_start" && event.event != "message_delta" && event.event != "error") {
    return;
  }
  reader_.Read(event, *this);
}

void UsageWatcher::OnMessageStart(const MessageStart& event) { Count(event.usage); }

void UsageWatcher::OnMessageDelta(const MessageDelta& event) { Count(event.usage); }

void UsageWatcher::Count(const nlohmann::json* usage) {
  if (usage != nullptr && usage->is_object()) {
    translate::UpdateUsage(usage_, *usage);
    saw_usage_ = true;
  }
}

void UsageWatcher::OnError(const ErrorEvent& event) {
  // The stream answered 200 before it failed, hence the status in the fallback label.
  error_type_ = event.type && IsLabel(*event.type) ? std::string(*event.type) : "http_200";
}

}  // namespace claudegate::anthropic
