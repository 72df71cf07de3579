// Fuzzes credentials::ParseCredentials, the parser for ~/.claude/.credentials.json (a file the
// Claude CLI also writes). Checks: no crash, exception or UB on any bytes; and a document that
// parses survives the gateway's own write path: serialised exactly as CredentialsFile::Write()
// does, it parses again to the same tokens (a refresh must never corrupt the CLI's file).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "claudegate/credentials/credentials_file.hpp"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using claudegate::credentials::ParseCredentials;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto doc = ParseCredentials(text);
  if (!doc) {
    Check(!doc.error().message.empty(), "an error has a message");
    return 0;
  }
  const std::string written =
      doc->document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  const auto again = ParseCredentials(written);
  Check(again.has_value(), "a written document parses again");
  const auto& a = doc->oauth;
  const auto& b = again->oauth;
  Check(a.access_token == b.access_token && a.refresh_token == b.refresh_token &&
            a.expires_at_ms == b.expires_at_ms && a.scopes == b.scopes &&
            a.client_id == b.client_id && a.subscription_type == b.subscription_type &&
            a.rate_limit_tier == b.rate_limit_tier,
        "tokens survive a write/read round trip");
  (void)a.LoggedOut();
  (void)a.ExpiresAt();
  return 0;
}
