#pragma once
// Edits to a JSON request body without re-serializing it: the body is cut at the edited byte
// ranges and sent as a gather list of the untouched pieces and the new text.
//
//   BodyEdits e(body);
//   e.replace(model_field, "\"gpt-4o\"");             // borrowed text: must outlive e
//   e.set_field(temperature_field, "temperature", "0.2");  // replace, or insert at the start
//   e.remove_field(plan_field, "plan");
//   co_await upstream->send({..., e.parts()});

#include <forward_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/json_scan.h"

namespace sy::gateway {

class BodyEdits {
 public:
  explicit BodyEdits(std::string_view body) : body_(body) {}

  // Replaces a value (a field from scanning this body) with `text`, which the caller keeps alive.
  void replace(json::Field value, std::string_view text);
  // Replaces a value replaced before (by replace) with other text; replaces it if it was not.
  void update(json::Field value, std::string_view text);
  // Same, with text the edits own.
  void replace_owned(json::Field value, std::string text) { replace(value, own(std::move(text))); }
  // Sets a top-level field: replaces its value when present, else inserts it first in the object.
  void set_field(json::Field value, std::string_view key, std::string value_json);
  // Removes a top-level field (key, value and one comma). Returns false when the bytes around
  // the value are not the plain `"key": value` it expects (the field is then left alone).
  bool remove_field(json::Field value, std::string_view key);
  // Inserts `text` right after the opening bracket of the array or object `container`, with a
  // comma when the container is not empty.
  void insert_first(json::Field container, std::string text);

  bool empty() const { return edits_.empty(); }
  // The body with every edit applied, as pieces in order. Valid until the next edit.
  std::span<const std::string_view> parts();
  // The same, joined (tests, logs).
  std::string str();

 private:
  struct Edit {
    size_t at;
    size_t length;
    std::string_view text;
  };
  std::string_view own(std::string text) { return owned_.emplace_front(std::move(text)); }

  std::string_view body_;
  // Inline capacity for the usual edits (model, a command, a few overrides): no allocation.
  boost::container::small_vector<Edit, 6> edits_;
  std::forward_list<std::string> owned_;  // stable addresses, nothing allocated while empty
  boost::container::small_vector<std::string_view, 13> parts_;
};

}  // namespace sy::gateway
