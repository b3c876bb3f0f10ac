#include "store/user_visits.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

namespace sy::store {

uint64_t UserVisits::default_hash(std::string_view user) { return std::hash<std::string_view>()(user); }

void UserVisits::add(std::string_view user, uint32_t group, int64_t time_ms) {
  visits_.push_back({hash_(user), names_.size(), static_cast<uint32_t>(user.size()), group, time_ms});
  names_.append(user);
}

std::vector<int64_t> UserVisits::finish(size_t groups) {
  // By hash, then group: names are compared once per visit after, not at every step of the
  // sort. A run of one hash with two names (a collision) is sorted again by name.
  std::sort(visits_.begin(), visits_.end(), [](const Visit& a, const Visit& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.group < b.group;
  });
  for (auto run = visits_.begin(); run != visits_.end();) {
    auto end = std::find_if(run, visits_.end(), [&](const Visit& v) { return v.hash != run->hash; });
    if (std::any_of(run, end, [&](const Visit& v) { return name(v) != name(*run); })) {
      std::sort(run, end, [this](const Visit& a, const Visit& b) {
        const int c = name(a).compare(name(b));
        return c != 0 ? c < 0 : a.group < b.group;
      });
    }
    run = end;
  }
  std::vector<int64_t> users(groups, 0);
  for (size_t i = 0; i < visits_.size();) {  // one user's visits, by group
    const Visit& first = visits_[i];
    auto same_user = [&](const Visit& v) { return v.hash == first.hash && name(v) == name(first); };
    Visit best = first;
    int64_t best_count = 0;
    int64_t best_last_ms = 0;
    while (i < visits_.size() && same_user(visits_[i])) {
      const uint32_t group = visits_[i].group;
      int64_t count = 0;
      int64_t last_ms = std::numeric_limits<int64_t>::min();
      for (; i < visits_.size() && visits_[i].group == group && same_user(visits_[i]); ++i) {
        count += 1;
        last_ms = std::max(last_ms, visits_[i].time_ms);
      }
      users[group] += 1;
      if (count > best_count || (count == best_count && last_ms > best_last_ms)) {
        best.group = group;
        best_count = count;
        best_last_ms = last_ms;
      }
    }
    favourites_.push_back(best);
  }
  visits_ = {};
  return users;
}

std::optional<uint32_t> UserVisits::favourite(std::string_view user) const {
  const uint64_t hash = hash_(user);
  auto it = std::lower_bound(favourites_.begin(), favourites_.end(), std::pair{hash, user},
                             [this](const Visit& f, const std::pair<uint64_t, std::string_view>& key) {
                               return f.hash != key.first ? f.hash < key.first : name(f) < key.second;
                             });
  if (it == favourites_.end() || it->hash != hash || name(*it) != user) {
    return std::nullopt;
  }
  return it->group;
}

}  // namespace sy::store
