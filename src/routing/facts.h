#pragma once
// What a router's conditions see of a request, read once and only as far as they need.
//
//   RequestView req{.body = body, .model = "switchyard/user-aware", .stream = true,
//                   .messages = f[2], .metadata = f[3], .user = f[4], .headers = &headers};
//   FactScratch scratch;  cel::Activation act;
//   bind_facts(router, req, act, scratch);            // binds only the names the router reads
//   router.select(act, scratch.sticky_key, router.command_of(scratch.last_user.text));
//
// Variables: every key of the body's `metadata` object; else the header
// `x-switchyard-meta-<key>`; else a top-level body field of that name (the OpenAI SDK's
// extra_body). Built-ins: user, model, stream, messages, message_count, last_user_message,
// headers, now (see docs/routers.md). Values borrow from the body and the headers.

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cel/cel.h"
#include "core/json_scan.h"
#include "routing/router_set.h"

namespace sy::routing {

// The request's headers, as the server has them (names in any case).
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  virtual std::string_view get(std::string_view name) const = 0;  // case-insensitive; "" when absent
  virtual size_t count() const = 0;
  virtual std::pair<std::string_view, std::string_view> at(size_t i) const = 0;
};

struct RequestView {
  std::string_view body;   // the whole JSON request
  std::string_view model;  // as the client asked
  bool stream = false;
  json::Field messages;    // the body's top-level fields, from the caller's scan
  json::Field metadata;
  json::Field user;
  const HeaderSource* headers = nullptr;
  // Every top-level member of the body, from the caller's scan; when empty, the body is
  // scanned again for names the router reads from it.
  std::span<const json::Member> members;
};

// The last user message's text and where it sits in the body (for slash commands).
struct LastUserMessage {
  std::string text;   // decoded; text parts joined by "\n"
  json::Field token;  // the JSON string holding the text (the message content, or its first text part)
  bool found = false;
};

// Storage the activation's values may borrow from; lives as long as the activation.
struct FactScratch {
  LastUserMessage last_user;
  // The stickiness key's value ("" when the request has none): a view of a bound value's
  // text (or of key_storage, for a number).
  std::string_view sticky_key;
  std::string key_storage;
  // Variables read from top-level body fields (extra_body): the gateway keeps them from
  // providers that reject unknown parameters.
  std::vector<std::pair<std::string_view, json::Field>> from_body;
};

// Binds the variables `router` reads; fills scratch.sticky_key and, when needed,
// scratch.last_user. A malformed `metadata` or `messages` leaves those names unbound (the
// conditions that read them count as false, and the reason says so).
void bind_facts(const CompiledRouter& router, const RequestView& req, cel::Activation& act, FactScratch& scratch);

// Secrets never reach conditions: authorization, api keys, cookies, provider keys.
bool is_secret_header(std::string_view lower_name);

}  // namespace sy::routing
