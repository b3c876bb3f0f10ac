#include "speech/espeak_engine.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <vector>

namespace sy::speech {
namespace {

namespace asio = boost::asio;

constexpr int kMinWpm = 80;  // espeak-ng's range
constexpr int kMaxWpm = 450;

// One speak() call's job, shared by espeak-ng's thread (its callbacks) and the coroutine that
// awaits it. The callbacks own it too, so one that comes after the coroutine is gone touches
// nothing else; once the coroutine has let go (release()), they do nothing at all.
class Job : public std::enable_shared_from_this<Job> {
 public:
  Job(asio::any_io_executor executor, asio::steady_timer& timer) : executor_(std::move(executor)), timer_(&timer) {}

  // espeak-ng's thread.
  void add_audio(std::span<const int16_t> pcm) {
    const std::lock_guard lock(mutex_);
    if (released_) return;
    pending_.insert(pending_.end(), pcm.begin(), pcm.end());
    wake_locked();
  }
  void finish(Result<void> result) {
    const std::lock_guard lock(mutex_);
    if (released_) return;
    done_ = std::move(result);
    wake_locked();
  }

  // The coroutine's executor. Swaps the audio that came since the last call into `out` (its
  // old contents dropped) and returns the job's result once it is over.
  std::optional<Result<void>> take(std::vector<int16_t>& out) {
    out.clear();
    const std::lock_guard lock(mutex_);
    out.swap(pending_);
    wake_posted_ = false;
    return std::move(done_);
  }
  // The coroutine is leaving (returning, or its frame destroyed): stop the job and forget the
  // timer and the executor, which may not outlive the frame.
  void release() {
    cancelled_->store(true);
    const std::lock_guard lock(mutex_);
    released_ = true;
    timer_ = nullptr;
    executor_ = asio::any_io_executor();
  }
  std::shared_ptr<std::atomic<bool>> cancelled() const { return cancelled_; }

 private:
  // Wakes the coroutine, at most one wake-up in flight. Posting under the lock orders it
  // before release(): the executor is alive while it is posted to.
  void wake_locked() {
    if (wake_posted_) return;
    wake_posted_ = true;
    auto wake = [self = shared_from_this()] { self->wake(); };
    asio::post(executor_, std::move(wake));
  }
  void wake() {  // on the executor, as the coroutine is; a timer released meanwhile is null
    asio::steady_timer* timer = nullptr;
    {
      const std::lock_guard lock(mutex_);
      timer = timer_;
    }
    if (timer != nullptr) timer->cancel();
  }

  std::mutex mutex_;
  asio::any_io_executor executor_;     // guarded by mutex_
  asio::steady_timer* timer_;          // guarded by mutex_; used on the executor only
  std::vector<int16_t> pending_;       // guarded by mutex_
  std::optional<Result<void>> done_;   // guarded by mutex_
  bool wake_posted_ = false;           // guarded by mutex_
  bool released_ = false;              // guarded by mutex_
  const std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

// Releases the job however the coroutine ends.
class ReleaseOnExit {
 public:
  explicit ReleaseOnExit(std::shared_ptr<Job> job) : job_(std::move(job)) {}
  ~ReleaseOnExit() { job_->release(); }
  ReleaseOnExit(const ReleaseOnExit&) = delete;
  ReleaseOnExit& operator=(const ReleaseOnExit&) = delete;

 private:
  std::shared_ptr<Job> job_;
};

bool cancelled(const asio::cancellation_state& state) { return state.cancelled() != asio::cancellation_type::none; }

}  // namespace

int espeak_rate(int voice_wpm, double speed) {
  if (!std::isfinite(speed) || speed <= 0) speed = 1.0;
  return std::clamp(static_cast<int>(std::lround(voice_wpm * speed)), kMinWpm, kMaxWpm);
}

Result<std::unique_ptr<EspeakEngine>> EspeakEngine::open(EngineConfig config, const audio::EspeakOptions& options) {
  auto espeak = audio::Espeak::open(options);
  if (!espeak) {
    Error e = espeak.error();
    e.message = fmt::format("tts engine '{}' (espeak): {}", config.name, e.message);
    return tl::unexpected(std::move(e));
  }
  auto engine = std::make_unique<EspeakEngine>(std::move(config), std::move(*espeak));
  for (const auto& [name, voice] : engine->config_.voices) {
    if (auto v = engine->espeak_->voice(voice); !v) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("tts engine '{}': voice '{}' maps to '{}', which espeak-ng "
                                                          "cannot use: {}",
                                                          engine->config_.name, name, voice, v.error().message));
    }
  }
  return engine;
}

EspeakEngine::EspeakEngine(EngineConfig config, std::shared_ptr<audio::Espeak> espeak)
    : config_(std::move(config)), espeak_(std::move(espeak)) {}

Result<audio::Voice> EspeakEngine::resolve(std::string_view voice, std::string_view param) const {
  std::string_view espeak_name = voice;
  for (const auto& [name, mapped] : config_.voices) {
    if (name == voice) espeak_name = mapped;
  }
  Result<audio::Voice> resolved = espeak_->voice(espeak_name);
  if (resolved) return resolved;
  // Espeak's message names the engine 'espeak' and lists OpenAI's names: make it this engine's.
  Error e = resolved.error();
  e.param = std::string(param);
  constexpr std::string_view kEngine = "engine 'espeak'";
  if (const size_t at = e.message.find(kEngine); at != std::string::npos) {
    e.message.replace(at, kEngine.size(), fmt::format("engine '{}'", config_.name));
  }
  constexpr std::string_view kList = "use one of: ";
  if (const size_t at = e.message.find(kList); at != std::string::npos && !config_.voices.empty()) {
    std::string names;
    for (const auto& entry : config_.voices) fmt::format_to(std::back_inserter(names), "{}, ", entry.first);
    e.message.insert(at + kList.size(), names);
  }
  return tl::unexpected(std::move(e));
}

Result<void> EspeakEngine::check_voice(std::string_view voice, std::string_view param) const {
  auto resolved = resolve(voice, param);
  if (!resolved) return tl::unexpected(resolved.error());
  return {};
}

http::Task<Result<void>> EspeakEngine::speak(SpeakRequest request, http::Client& /*client*/, PcmSink& sink) const {
  Result<audio::Voice> voice = resolve(request.voice, "voice");
  if (!voice) co_return tl::unexpected(voice.error());
  voice->rate_wpm = espeak_rate(voice->rate_wpm, request.speed);
  const auto cancelled_error = [&] {
    return fail(ErrorCode::kUnavailable, fmt::format("engine '{}': speech cancelled", config_.name));
  };
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (cancelled(cancellation)) co_return cancelled_error();

  // The timer is an event: it never expires; a wake-up from the job cancels its wait.
  // (The executor first: GCC 12 mishandles a co_await inside a constructor's arguments.)
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
  const auto job = std::make_shared<Job>(timer.get_executor(), timer);
  const ReleaseOnExit release(job);
  auto on_audio = [job](std::span<const int16_t> pcm) { job->add_audio(pcm); };
  auto on_done = [job](Result<void> result) { job->finish(std::move(result)); };
  espeak_->synthesize(std::string(request.text), std::move(*voice), std::move(on_audio), std::move(on_done),
                      job->cancelled());

  std::vector<int16_t> pcm;
  for (;;) {
    std::optional<Result<void>> done = job->take(pcm);
    if (!pcm.empty()) sink.audio(pcm);
    if (done) {
      if (!*done) done->error().message = fmt::format("engine '{}': {}", config_.name, done->error().message);
      co_return std::move(*done);
    }
    if (cancelled(cancellation)) co_return cancelled_error();
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace sy::speech
