#pragma once
// Internal to src/store (variant_stats): which groups (a route and variant) each user was
// served in a window, for the distinct users of each group and the group a user's outcomes
// count for. Visits are gathered in one array and sorted once: a hash map of users missed the
// cache on nearly every row of a busy router's day (~30k users), a fifth of the query.
//
//   UserVisits v;
//   v.add("u1", /*group=*/0, t1);  v.add("u1", 1, t2);  v.add("u2", 1, t3);
//   std::vector<int64_t> users = v.finish(/*groups=*/2);   // {1, 2}
//   v.favourite("u1");                                      // 1: a tie, the latest wins

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::store {

class UserVisits {
 public:
  using Hash = uint64_t (*)(std::string_view);
  static uint64_t default_hash(std::string_view user);

  explicit UserVisits(Hash hash = &default_hash) : hash_(hash) {}

  // One request of `user` (not empty) to `group`.
  void add(std::string_view user, uint32_t group, int64_t time_ms);

  // Call once, after the last add(): the distinct users of each group, indexed by group.
  std::vector<int64_t> finish(size_t groups);

  // The group `user` was served most (ties: the one served latest); nullopt for a user with
  // no visit. After finish().
  std::optional<uint32_t> favourite(std::string_view user) const;

 private:
  struct Visit {
    uint64_t hash;
    uint64_t offset;  // of the user's name in names_
    uint32_t size;
    uint32_t group;
    int64_t time_ms;
  };
  std::string_view name(const Visit& v) const { return std::string_view(names_).substr(v.offset, v.size); }

  Hash hash_;
  std::vector<Visit> visits_;
  std::vector<Visit> favourites_;  // a visit of each user to its favourite group, by (hash, name)
  std::string names_;                  // the users' names, back to back
};

}  // namespace sy::store
