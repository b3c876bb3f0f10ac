#include "speech/chunker.h"

#include <algorithm>
#include <cctype>

namespace sy::speech {
namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool sentence_end(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '.' || c == '!' || c == '?') return true;
  // U+2026 HORIZONTAL ELLIPSIS, E2 80 A6: its last byte.
  return i >= 2 && static_cast<unsigned char>(c) == 0xA6 && static_cast<unsigned char>(s[i - 1]) == 0x80 &&
         static_cast<unsigned char>(s[i - 2]) == 0xE2;
}

bool clause_end(char c) { return c == ',' || c == ';' || c == ':'; }

}  // namespace

void Chunker::add(std::string_view text, std::vector<std::string>& ready) {
  held_.append(text);
  size_t start = 0;  // of the piece being looked at, in held_
  // A boundary needs the character after it, so the last one waits for the next delta.
  for (size_t i = scanned_; i + 1 < held_.size(); ++i) {
    const char c = held_[i];
    size_t cut = std::string::npos;
    if (c == '\n') {
      cut = i + 1;
    } else if (space(held_[i + 1]) && (sentence_end(held_, i) || (clause_end(c) && i + 1 - start >= options_.min_clause_chars))) {
      cut = i + 2;  // the space goes with the piece
    } else if (i + 1 - start >= options_.max_chars) {
      const size_t at = held_.rfind(' ', i);
      cut = at != std::string::npos && at > start ? at + 1 : i + 1;
    }
    if (cut == std::string::npos) continue;
    std::string piece = held_.substr(start, cut - start);
    if (std::any_of(piece.begin(), piece.end(), [](char ch) { return !space(ch); })) ready.push_back(std::move(piece));
    start = cut;
    i = cut - 1;
  }
  // A delta that ends a word with a sentence's end: models send "word." then " Next", so the
  // piece need not wait for the next delta ("3." and "x.5" still do: a digit before the stop).
  if (held_.size() >= start + 2 && (held_.back() == '.' || held_.back() == '!' || held_.back() == '?') &&
      std::isalpha(static_cast<unsigned char>(held_[held_.size() - 2])) != 0) {
    std::string piece = held_.substr(start);
    ready.push_back(std::move(piece));
    start = held_.size();
  }
  held_.erase(0, start);
  scanned_ = held_.empty() ? 0 : held_.size() - 1;
}

std::string Chunker::take_rest(bool whole_words) {
  size_t end = held_.size();
  if (whole_words) {
    const size_t at = held_.find_last_of(" \t\n");
    if (at == std::string::npos) return {};
    end = at + 1;
  }
  std::string rest = held_.substr(0, end);
  held_.erase(0, end);
  scanned_ = 0;
  if (std::all_of(rest.begin(), rest.end(), space)) return {};
  return rest;
}

bool Chunker::holding() const {
  return std::any_of(held_.begin(), held_.end(), [](char c) { return !space(c); });
}

}  // namespace sy::speech
