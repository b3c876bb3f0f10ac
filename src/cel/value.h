#pragma once
// Value: one CEL value in 16 bytes; scalars inline, strings as views or shared heap text,
// lists, maps, errors and optionals as shared immutable heap objects.
//
//   Value v = Value::string_view("es");      // borrows: the text must outlive v
//   if (v.kind() == Kind::kString) use(v.str());
//   Value e = Value::error("no such key: x");  // CEL errors are values
//
// A Value may borrow text from the Program that produced it and from the Activation it was
// evaluated over; keep both alive while the value is in use. Heap objects are reference
// counted atomically, so values can be shared between threads once built.

#include <atomic>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::cel {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kType,
  kTimestamp,
  kDuration,
  kOptional,
  kError,
};

struct HeapObject {
  mutable std::atomic<int32_t> refs{1};
  virtual ~HeapObject() = default;
};

// The heap form of strings, bytes and error messages (visible so that str() inlines).
struct TextObject final : HeapObject {
  explicit TextObject(std::string t) : text(std::move(t)) {}
  std::string text;
};

// Equality of two texts, inlined for the short names and values routing rules compare: up to
// 16 bytes as two overlapping word loads per side, longer ones through memcmp.
inline bool same_text(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) {
    return false;
  }
  const char* x = a.data();
  const char* y = b.data();
  auto load = [](const char* p, auto word) {
    std::memcpy(&word, p, sizeof word);
    return word;
  };
  if (n >= 8) {
    if (n > 16) {
      return std::memcmp(x, y, n) == 0;
    }
    return load(x, uint64_t{}) == load(y, uint64_t{}) &&
           load(x + n - 8, uint64_t{}) == load(y + n - 8, uint64_t{});
  }
  if (n >= 4) {
    return load(x, uint32_t{}) == load(y, uint32_t{}) &&
           load(x + n - 4, uint32_t{}) == load(y + n - 4, uint32_t{});
  }
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) {
      return false;
    }
  }
  return true;
}

class Value {
 public:
  Value() noexcept : kind_(Kind::kNull), heap_(false), aux_(0), i_(0) {}
  Value(const Value& o) noexcept : kind_(o.kind_), heap_(o.heap_), aux_(o.aux_), i_(o.i_) {
    if (heap_) h_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Value(Value&& o) noexcept : kind_(o.kind_), heap_(o.heap_), aux_(o.aux_), i_(o.i_) {
    o.heap_ = false;
    o.kind_ = Kind::kNull;
  }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      Value tmp(o);
      swap(tmp);
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      kind_ = o.kind_;
      heap_ = o.heap_;
      aux_ = o.aux_;
      i_ = o.i_;
      o.heap_ = false;
      o.kind_ = Kind::kNull;
    }
    return *this;
  }
  ~Value() { release(); }
  void swap(Value& o) noexcept {
    std::swap(kind_, o.kind_);
    std::swap(heap_, o.heap_);
    std::swap(aux_, o.aux_);
    std::swap(i_, o.i_);
  }

  static Value null() { return {}; }
  static Value boolean(bool b) { return Value(Kind::kBool, static_cast<int64_t>(b)); }
  static Value integer(int64_t i) { return Value(Kind::kInt, i); }
  static Value uinteger(uint64_t u) {
    Value v(Kind::kUint, 0);
    v.u_ = u;
    return v;
  }
  static Value dbl(double d) {
    Value v(Kind::kDouble, 0);
    v.d_ = d;
    return v;
  }
  // Borrows `s`: the caller keeps the text alive (program constants, activation JSON).
  static Value string_view(std::string_view s) { return text_view(Kind::kString, s); }
  static Value bytes_view(std::string_view s) { return text_view(Kind::kBytes, s); }
  static Value string(std::string s);
  static Value bytes(std::string s);
  static Value list(std::vector<Value> items);
  static Value map(std::vector<std::pair<Value, Value>> entries);  // keys must be unique
  static Value type(std::string_view static_name) {  // name must have static storage
    Value v = text_view(Kind::kType, static_name);
    return v;
  }
  static Value timestamp(int64_t seconds, int32_t nanos) { return time_value(Kind::kTimestamp, seconds, nanos); }
  static Value duration(int64_t seconds, int32_t nanos) { return time_value(Kind::kDuration, seconds, nanos); }
  static Value optional_none() { return Value(Kind::kOptional, 0); }
  static Value optional_of(Value inner);
  static Value error(std::string message);

  Kind kind() const { return kind_; }
  bool is_error() const { return kind_ == Kind::kError; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  uint64_t as_uint() const { return u_; }
  double as_double() const { return d_; }
  std::string_view str() const {  // string, bytes, type name, error message
    if (heap_) {
      return static_cast<const TextObject*>(h_)->text;
    }
    return {p_, aux_};
  }
  const std::vector<Value>& items() const;  // list
  const std::vector<std::pair<Value, Value>>& entries() const;  // map
  const Value* find(const Value& key) const;  // map lookup with CEL numeric key equality
  const Value* find_string(std::string_view key) const;
  // Map: the first key equal to an earlier one, or nullptr (found in linear time, so literals,
  // transforms and JSON objects can be checked for repeated keys however large they are).
  const Value* duplicate_key() const;
  size_t size() const;  // list, map
  // Values reachable from this one, counting shared ones each time they are reachable: bounds
  // the work of equality, formatting and rendering however the value was built.
  size_t weight() const;
  int64_t seconds() const { return i_; }
  int32_t nanos() const { return static_cast<int32_t>(aux_); }
  bool has_value() const { return heap_; }  // optional
  const Value& optional_value() const;       // optional with a value

 private:
  Value(Kind k, int64_t i) : kind_(k), heap_(false), aux_(0), i_(i) {}
  static Value text_view(Kind k, std::string_view s) {
    Value v(k, 0);
    v.p_ = s.data();
    v.aux_ = static_cast<uint32_t>(s.size());
    return v;
  }
  static Value time_value(Kind k, int64_t s, int32_t n) {
    Value v(k, s);
    v.aux_ = static_cast<uint32_t>(n);
    return v;
  }
  static Value from_heap(Kind k, HeapObject* h) {
    Value v(k, 0);
    v.heap_ = true;
    v.h_ = h;
    return v;
  }
  void release() noexcept {
    if (heap_ && h_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete h_;
  }

  Kind kind_;
  bool heap_;
  uint32_t aux_;
  union {
    int64_t i_;
    uint64_t u_;
    double d_;
    const char* p_;
    HeapObject* h_;
  };
};

static_assert(sizeof(Value) == 16);

// CEL name of the value's type: "int", "map", "google.protobuf.Timestamp", ...
std::string_view type_name(Kind k);
// CEL equality (heterogeneous numbers compare by value; mismatched kinds are unequal).
bool equal(const Value& a, const Value& b);
// CEL ordering; nullopt when the two kinds have no ordering overload.
std::optional<std::partial_ordering> compare(const Value& a, const Value& b);
// Debug rendering in CEL-ish syntax (used by the tool and test messages).
std::string debug_string(const Value& v);

}  // namespace sy::cel
