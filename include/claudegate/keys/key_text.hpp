/// @file key_text.hpp
/// The text forms of a virtual key (docs/keys.md): the key itself (`sk-` and 32 random bytes,
/// shown once), the `token` it is stored and found by (SHA-256, hex) and the `key_name` people
/// recognise it by, plus LiteLLM's duration strings (`30s`, `15m`, `2h`, `30d`, `1w`, `1mo`).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace claudegate::keys {

/// A new key: `sk-` followed by 32 bytes from OpenSSL's CSPRNG in hex (67 characters).
[[nodiscard]] std::string GenerateKey();

/// SHA-256: the one digest of keys, for the master key's constant-time comparison
/// (middleware/auth.hpp) and for the tokens below.
using KeyDigest = std::array<unsigned char, 32>;
[[nodiscard]] KeyDigest Sha256(std::string_view key);

/// The SHA-256 of `key` in lower-case hex: what the store keeps instead of the key.
[[nodiscard]] std::string TokenOf(std::string_view key);

/// True when `text` has the form of a token (64 lower-case hex digits).
[[nodiscard]] bool LooksLikeToken(std::string_view text);

/// `sk-...abcd`: the key's first three and last four characters, LiteLLM's `key_name`.
[[nodiscard]] std::string KeyName(std::string_view key);

/// Seconds in a LiteLLM duration (`30s`, `15m`, `2h`, `30d`, `1w`, `1mo` = 30 days), or nullopt
/// when `text` is not one (or is zero, negative or over 100 years).
[[nodiscard]] std::optional<std::int64_t> ParseDuration(std::string_view text);

}  // namespace claudegate::keys
