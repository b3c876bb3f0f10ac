#pragma once
// What a response cost at the provider's rates (no markup), from the usage it reports.
//
//   if (auto u = read_usage(usage_json)) cost = cost_usd(model, *u);   // 0.000123
//   add_cost(usage_object_field, cost, edits);                          // "usage":{"cost":...,

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/catalog.h"

namespace sy::gateway {

struct Usage {
  int64_t input = 0;        // prompt tokens, cached ones included
  int64_t output = 0;       // completion tokens, reasoning included
  int64_t cache_read = 0;   // of the input, read from the provider's cache
  int64_t cache_write = 0;  // of the input, written to the cache
};

// Reads an OpenAI `usage` object ({"prompt_tokens", "completion_tokens",
// "prompt_tokens_details": {"cached_tokens"}}); nullopt when it is not one.
std::optional<Usage> read_openai_usage(std::string_view usage_json);

// Reads an Anthropic `usage` object ({"input_tokens", "output_tokens",
// "cache_read_input_tokens", "cache_creation_input_tokens"}; input_tokens excludes the cached).
std::optional<Usage> read_anthropic_usage(std::string_view usage_json);

// USD at the model's prices per million tokens; cache reads and writes at their own prices
// when the model has them, else at the input price.
double cost_usd(const catalog::Model& model, const Usage& usage);

// A cost as a JSON number without an exponent: "0.00012345".
std::string format_cost(double usd);

}  // namespace sy::gateway
