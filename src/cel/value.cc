#include "cel/value.h"

#include <cmath>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

namespace sy::cel {
namespace {

struct ListObject final : HeapObject {
  explicit ListObject(std::vector<Value> v) : items(std::move(v)) {
    for (const auto& x : items) weight += x.weight();
  }
  std::vector<Value> items;
  size_t weight = 1;
};

// Integer, uint and bool keys in one hash index: CEL's numeric key equality makes 1 and 1u the
// same key, so non-negative ints and uints share a tag.
struct ScalarKey {
  uint64_t bits;
  uint8_t tag;  // 0: int >= 0 or uint, 1: negative int, 2: bool
  bool operator==(const ScalarKey&) const = default;
};
struct ScalarKeyHash {
  size_t operator()(const ScalarKey& k) const {
    return std::hash<uint64_t>{}(k.bits * 0x9E3779B97F4A7C15ull + k.tag);
  }
};
std::optional<ScalarKey> scalar_key(const Value& k) {
  switch (k.kind()) {
    case Kind::kInt:
      return ScalarKey{static_cast<uint64_t>(k.as_int()), static_cast<uint8_t>(k.as_int() < 0)};
    case Kind::kUint:
      return ScalarKey{k.as_uint(), 0};
    case Kind::kBool:
      return ScalarKey{static_cast<uint64_t>(k.as_bool()), 2};
    default:
      return std::nullopt;
  }
}

// Small maps stay a linear scan; larger ones get hash indexes over string and scalar keys, so
// lookups, equality and duplicate detection stay linear in the map's size however it was built.
struct MapObject final : HeapObject {
  static constexpr size_t kIndexAbove = 8;
  explicit MapObject(std::vector<std::pair<Value, Value>> e) : entries(std::move(e)) {
    for (const auto& [k, v] : entries) weight += k.weight() + v.weight();
    if (entries.size() <= kIndexAbove) {
      for (size_t i = 1; i < entries.size() && duplicate == kNone; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (equal(entries[i].first, entries[j].first)) {
            duplicate = i;
            break;
          }
        }
      }
      return;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const Value& k = entries[i].first;
      bool inserted = true;
      if (k.kind() == Kind::kString) {
        inserted = index.emplace(k.str(), i).second;
      } else if (auto sk = scalar_key(k)) {
        inserted = scalar_index.emplace(*sk, i).second;
      }
      if (!inserted && duplicate == kNone) {
        duplicate = i;
      }
    }
  }
  static constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<std::pair<Value, Value>> entries;
  std::unordered_map<std::string_view, size_t> index;
  std::unordered_map<ScalarKey, size_t, ScalarKeyHash> scalar_index;
  size_t weight = 1;
  size_t duplicate = kNone;  // position of the first key equal to an earlier one
};

struct OptionalObject final : HeapObject {
  explicit OptionalObject(Value v) : value(std::move(v)) {}
  Value value;
};

const std::vector<Value> kEmptyItems;
const std::vector<std::pair<Value, Value>> kEmptyEntries;
const Value kNullValue;

bool is_number(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

// CEL orders int and uint against double by converting the integer to double (the spec's
// "not_lt_dyn_int_big_lossy_double" cases depend on it).
std::partial_ordering cmp_int_double(int64_t i, double d) { return static_cast<double>(i) <=> d; }
std::partial_ordering cmp_uint_double(uint64_t u, double d) { return static_cast<double>(u) <=> d; }

std::partial_ordering cmp_int_uint(int64_t i, uint64_t u) {
  if (i < 0) return std::partial_ordering::less;
  return static_cast<uint64_t>(i) <=> u;
}

std::partial_ordering flip(std::partial_ordering o) { return 0 <=> o; }

std::optional<std::partial_ordering> compare_numbers(const Value& a, const Value& b) {
  switch (a.kind()) {
    case Kind::kInt:
      if (b.kind() == Kind::kInt) return a.as_int() <=> b.as_int();
      if (b.kind() == Kind::kUint) return cmp_int_uint(a.as_int(), b.as_uint());
      return cmp_int_double(a.as_int(), b.as_double());
    case Kind::kUint:
      if (b.kind() == Kind::kUint) return a.as_uint() <=> b.as_uint();
      if (b.kind() == Kind::kInt) return flip(cmp_int_uint(b.as_int(), a.as_uint()));
      return cmp_uint_double(a.as_uint(), b.as_double());
    default:
      if (b.kind() == Kind::kDouble) return a.as_double() <=> b.as_double();
      if (b.kind() == Kind::kInt) return flip(cmp_int_double(b.as_int(), a.as_double()));
      return flip(cmp_uint_double(b.as_uint(), a.as_double()));
  }
}

}  // namespace

Value Value::string(std::string s) { return from_heap(Kind::kString, new TextObject(std::move(s))); }
Value Value::bytes(std::string s) { return from_heap(Kind::kBytes, new TextObject(std::move(s))); }
Value Value::error(std::string m) { return from_heap(Kind::kError, new TextObject(std::move(m))); }
Value Value::list(std::vector<Value> items) { return from_heap(Kind::kList, new ListObject(std::move(items))); }
Value Value::map(std::vector<std::pair<Value, Value>> e) { return from_heap(Kind::kMap, new MapObject(std::move(e))); }
Value Value::optional_of(Value inner) { return from_heap(Kind::kOptional, new OptionalObject(std::move(inner))); }

const std::vector<Value>& Value::items() const {
  if (kind_ != Kind::kList || !heap_) return kEmptyItems;
  return static_cast<const ListObject*>(h_)->items;
}

const std::vector<std::pair<Value, Value>>& Value::entries() const {
  if (kind_ != Kind::kMap || !heap_) return kEmptyEntries;
  return static_cast<const MapObject*>(h_)->entries;
}

size_t Value::weight() const {
  if (!heap_) return 1;
  if (kind_ == Kind::kList) return static_cast<const ListObject*>(h_)->weight;
  if (kind_ == Kind::kMap) return static_cast<const MapObject*>(h_)->weight;
  if (kind_ == Kind::kOptional) return 1 + static_cast<const OptionalObject*>(h_)->value.weight();
  return 1;
}

const Value* Value::duplicate_key() const {
  if (kind_ != Kind::kMap || !heap_) {
    return nullptr;
  }
  const auto* m = static_cast<const MapObject*>(h_);
  return m->duplicate == MapObject::kNone ? nullptr : &m->entries[m->duplicate].first;
}

size_t Value::size() const { return kind_ == Kind::kList ? items().size() : entries().size(); }

const Value& Value::optional_value() const {
  if (!heap_) return kNullValue;
  return static_cast<const OptionalObject*>(h_)->value;
}

const Value* Value::find_string(std::string_view key) const {
  if (kind_ != Kind::kMap || !heap_) return nullptr;
  const auto* m = static_cast<const MapObject*>(h_);
  if (m->entries.size() > MapObject::kIndexAbove) {
    auto it = m->index.find(key);
    return it == m->index.end() ? nullptr : &m->entries[it->second].second;
  }
  for (const auto& [k, v] : m->entries) {
    if (k.kind() == Kind::kString && same_text(k.str(), key)) {
      return &v;
    }
  }
  return nullptr;
}

const Value* Value::find(const Value& key) const {
  if (key.kind() == Kind::kString) return find_string(key.str());
  if (kind_ != Kind::kMap || !heap_) {
    return nullptr;
  }
  const auto* m = static_cast<const MapObject*>(h_);
  if (m->entries.size() > MapObject::kIndexAbove) {
    if (auto sk = scalar_key(key)) {
      auto it = m->scalar_index.find(*sk);
      return it == m->scalar_index.end() ? nullptr : &m->entries[it->second].second;
    }
  }
  for (const auto& [k, v] : m->entries) {
    if (equal(k, key)) return &v;
  }
  return nullptr;
}

std::string_view type_name(Kind k) {
  switch (k) {
    case Kind::kNull: return "null_type";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "list";
    case Kind::kMap: return "map";
    case Kind::kType: return "type";
    case Kind::kTimestamp: return "google.protobuf.Timestamp";
    case Kind::kDuration: return "google.protobuf.Duration";
    case Kind::kOptional: return "optional_type";
    case Kind::kError: return "error";
  }
  return "unknown";
}

bool equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) {
    if (is_number(a.kind()) && is_number(b.kind())) {
      auto o = compare_numbers(a, b);
      return o && *o == 0;
    }
    return false;
  }
  switch (a.kind()) {
    case Kind::kNull: return true;
    case Kind::kBool: return a.as_bool() == b.as_bool();
    case Kind::kInt: return a.as_int() == b.as_int();
    case Kind::kUint: return a.as_uint() == b.as_uint();
    case Kind::kDouble: return a.as_double() == b.as_double();
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kType:
    case Kind::kError: return a.str() == b.str();
    case Kind::kTimestamp:
    case Kind::kDuration: return a.seconds() == b.seconds() && a.nanos() == b.nanos();
    case Kind::kOptional:
      if (a.has_value() != b.has_value()) return false;
      return !a.has_value() || equal(a.optional_value(), b.optional_value());
    case Kind::kList: {
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.entries()) {
        const Value* other = b.find(k);
        if (other == nullptr || !equal(v, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

std::optional<std::partial_ordering> compare(const Value& a, const Value& b) {
  if (is_number(a.kind()) && is_number(b.kind())) return compare_numbers(a, b);
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case Kind::kBool: return a.as_bool() <=> b.as_bool();
    case Kind::kString:
    case Kind::kBytes: {
      const int c = a.str().compare(b.str());
      return c <=> 0;
    }
    case Kind::kTimestamp:
    case Kind::kDuration:
      if (a.seconds() != b.seconds()) return a.seconds() <=> b.seconds();
      return a.nanos() <=> b.nanos();
    default: return std::nullopt;
  }
}

std::string debug_string(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull: return "null";
    case Kind::kBool: return v.as_bool() ? "true" : "false";
    case Kind::kInt: return fmt::format("{}", v.as_int());
    case Kind::kUint: return fmt::format("{}u", v.as_uint());
    case Kind::kDouble: return fmt::format("{}", v.as_double());
    case Kind::kString: return fmt::format("\"{}\"", v.str());
    case Kind::kBytes: return fmt::format("b\"{}\"", v.str());
    case Kind::kType: return std::string(v.str());
    case Kind::kTimestamp: return fmt::format("timestamp({}s+{}ns)", v.seconds(), v.nanos());
    case Kind::kDuration: return fmt::format("duration({}s+{}ns)", v.seconds(), v.nanos());
    case Kind::kError: return fmt::format("error({})", v.str());
    case Kind::kOptional:
      return v.has_value() ? fmt::format("optional.of({})", debug_string(v.optional_value())) : "optional.none()";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.items().size(); ++i) out += (i ? ", " : "") + debug_string(v.items()[i]);
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.entries()) {
        out += (first ? "" : ", ") + debug_string(k) + ": " + debug_string(x);
        first = false;
      }
      return out + "}";
    }
  }
  return "?";
}

}  // namespace sy::cel
