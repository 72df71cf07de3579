#include "claudegate/credentials/credential_source.hpp"

namespace claudegate::credentials {

std::string_view ReadinessName(Readiness readiness) {
  switch (readiness) {
    case Readiness::kReady:
      return "ready";
    case Readiness::kNotConfigured:
      return "no_credentials_configured";
    case Readiness::kNotLoggedIn:
      return "not_logged_in";
    case Readiness::kUnusable:
      return "credentials_unusable";
    case Readiness::kExpired:
      return "token_expired";
  }
  return "unknown";
}

}  // namespace claudegate::credentials
