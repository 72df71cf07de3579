#include "claudegate/keys/key_text.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace claudegate::keys {
namespace {

std::string Hex(const unsigned char* bytes, std::size_t size) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4U];
    hex += kDigits[bytes[i] & 0x0FU];
  }
  return hex;
}

}  // namespace

std::string GenerateKey() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // OpenSSL's generator failing is not something to paper over with a weaker key.
    throw std::runtime_error("the system's random number generator failed");
  }
  return "sk-" + Hex(bytes.data(), bytes.size());
}

KeyDigest Sha256(std::string_view key) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up on every call, most of a
  // digest's cost for a key this short (https://docs.openssl.org/3.0/man7/crypto/#performance).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  KeyDigest digest{};
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &length,
             kSha256 != nullptr ? kSha256 : EVP_sha256(), nullptr);
  return digest;
}

std::string TokenOf(std::string_view key) {
  const KeyDigest digest = Sha256(key);
  return Hex(digest.data(), digest.size());
}

bool LooksLikeToken(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string KeyName(std::string_view key) {
  if (key.size() < 12) {
    return "sk-...";
  }
  return std::string(key.substr(0, 3)) + "..." + std::string(key.substr(key.size() - 4));
}

std::optional<std::int64_t> ParseDuration(std::string_view text) {
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || end == text.data() || count <= 0) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t seconds = 0;
  if (unit == "s") {
    seconds = 1;
  } else if (unit == "m") {
    seconds = 60;
  } else if (unit == "h") {
    seconds = 3600;
  } else if (unit == "d") {
    seconds = 86400;
  } else if (unit == "w") {
    seconds = 7 * 86400;
  } else if (unit == "mo") {
    seconds = 30 * 86400;
  } else {
    return std::nullopt;
  }
  constexpr std::int64_t kHundredYears = 100LL * 365 * 86400;
  if (count > kHundredYears / seconds) {
    return std::nullopt;
  }
  return count * seconds;
}

}  // namespace claudegate::keys
