#include "gateway/body_edit.h"

#include <algorithm>

namespace sy::gateway {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

void BodyEdits::replace(json::Field value, std::string_view text) {
  edits_.push_back({value.offset_in(body_), value.raw.size(), text});
}

void BodyEdits::update(json::Field value, std::string_view text) {
  const size_t at = value.offset_in(body_);
  for (Edit& e : edits_) {
    if (e.at == at && e.length == value.raw.size()) {
      e.text = text;
      return;
    }
  }
  replace(value, text);
}

void BodyEdits::set_field(json::Field value, std::string_view key, std::string value_json) {
  if (value.present()) {
    replace_owned(value, std::move(value_json));
    return;
  }
  std::string text;
  json::append_quoted(text, key);
  text += ':';
  text += value_json;
  const size_t open = body_.find('{');
  insert_first(json::Field{body_.substr(open, body_.size() - open), json::Kind::kObject}, std::move(text));
}

void BodyEdits::insert_first(json::Field container, std::string text) {
  const size_t open = container.offset_in(body_);
  size_t next = open + 1;
  while (next < body_.size() && is_space(body_[next])) ++next;
  const char close = body_[open] == '[' ? ']' : '}';
  if (next < body_.size() && body_[next] != close) text += ',';
  edits_.push_back({open + 1, 0, own(std::move(text))});
}

bool BodyEdits::remove_field(json::Field value, std::string_view key) {
  const size_t value_at = value.offset_in(body_);
  size_t i = value_at;
  while (i > 0 && is_space(body_[i - 1])) --i;
  if (i == 0 || body_[i - 1] != ':') return false;
  --i;
  while (i > 0 && is_space(body_[i - 1])) --i;
  if (i < key.size() + 2 || body_[i - 1] != '"' || body_.substr(i - 1 - key.size(), key.size()) != key ||
      body_[i - 2 - key.size()] != '"') {
    return false;
  }
  size_t begin = i - 2 - key.size();
  size_t end = value_at + value.raw.size();
  size_t after = end;
  while (after < body_.size() && is_space(body_[after])) ++after;
  if (after < body_.size() && body_[after] == ',') {
    end = after + 1;  // "key": value, → the next field follows
  } else {
    size_t before = begin;
    while (before > 0 && is_space(body_[before - 1])) --before;
    if (before > 0 && body_[before - 1] == ',') begin = before - 1;  // last field: drop the comma before it
  }
  edits_.push_back({begin, end - begin, {}});
  return true;
}

std::span<const std::string_view> BodyEdits::parts() {
  std::stable_sort(edits_.begin(), edits_.end(), [](const Edit& a, const Edit& b) { return a.at < b.at; });
  parts_.clear();
  size_t pos = 0;
  for (const Edit& e : edits_) {
    if (e.at < pos) continue;  // overlapping edits: the first one wins
    if (e.at > pos) parts_.push_back(body_.substr(pos, e.at - pos));
    if (!e.text.empty()) parts_.push_back(e.text);
    pos = e.at + e.length;
  }
  if (pos < body_.size()) parts_.push_back(body_.substr(pos));
  return {parts_.data(), parts_.size()};
}

std::string BodyEdits::str() {
  std::string out;
  for (auto p : parts()) out += p;
  return out;
}

}  // namespace sy::gateway
