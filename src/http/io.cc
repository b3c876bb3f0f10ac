#include "http/io.h"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace sy::http::io {
namespace {
constexpr size_t kTrimAfter = 512;  // entries: a burst this big is worth giving memory back for
}  // namespace

void Sweep::add(Entry* e, const boost::asio::any_io_executor& ex) {
  e->index_ = entries_.size();
  entries_.push_back(e);
  if (running_) return;
  running_ = true;
  timer_.emplace(ex);
  boost::asio::co_spawn(ex, run(this, alive_), boost::asio::detached);
}

void Sweep::remove(Entry* e) {
  entries_[e->index_] = entries_.back();
  entries_[e->index_]->index_ = e->index_;
  entries_.pop_back();
}

Task<void> Sweep::run(Sweep* self, std::shared_ptr<bool> alive) {
  size_t peak = 0;
  while (!self->entries_.empty()) {
    self->timer_->expires_after(self->tick_);
    co_await self->timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!*alive) co_return;  // the owner is gone
    const auto now = Clock::now();
    for (Entry* e : self->entries_) e->on_tick(now);
    peak = std::max(peak, self->entries_.size());
    if (peak >= kTrimAfter && self->entries_.size() < peak / 4) {
      malloc_trim(0);
      peak = self->entries_.size();
    }
  }
  if (peak >= kTrimAfter) malloc_trim(0);
  self->running_ = false;
}

}  // namespace sy::http::io
