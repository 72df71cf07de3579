/// @file price_table.hpp
/// What a request would have cost at Anthropic's API list prices, in USD: the unit of a virtual
/// key's `max_budget` (docs/keys.md). For a subscription nothing is billed per token; the number
/// reads as "what this would have cost" and keeps one tool from using up the plan.
///
/// Prices are per million tokens, from Anthropic's pricing page
/// (https://platform.claude.com/docs/en/about-claude/pricing, read 2026-12; docs/keys.md has the
/// table). Cache writes cost 1.25x the input price (5-minute TTL), reads 0.1x unless the model's
/// row says otherwise.
#pragma once

#include <cstdint>
#include <string_view>

namespace claudegate::keys {

/// USD per million tokens.
struct ModelPrice {
  double input = 0;
  double output = 0;
  double cache_write = 0;
  double cache_read = 0;
};

/// Token counts as Anthropic reports them (`input_tokens` excludes the cached parts).
struct TokenCounts {
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t cache_write = 0;
  std::int64_t cache_read = 0;
};

/// The price of `model` (an Anthropic id such as `claude-sonnet-5-5-20261001`): the row whose
/// prefix is the longest match. An unknown model is priced as the Sonnet family, so that a model
/// newer than this table is never free.
[[nodiscard]] ModelPrice PriceFor(std::string_view model);

/// USD for `tokens` of `model`.
[[nodiscard]] double CostUsd(std::string_view model, const TokenCounts& tokens);

}  // namespace claudegate::keys
