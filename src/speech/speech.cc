#include "speech/speech.h"

#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace sy::speech {

using namespace boost::asio::experimental::awaitable_operators;

Result<std::vector<const TtsEngine*>> Engines::plan(std::string_view model, std::string_view param) const {
  std::vector<const TtsEngine*> plan;
  const TtsEngine* first = nullptr;
  if (!model.empty()) {
    first = find(model);
    for (const auto& e : engines_) {
      if (first == nullptr && e->config().model == model) first = e.get();
    }
    if (first == nullptr) {
      std::string names;
      for (const auto& e : engines_) names += fmt::format("{}{}", names.empty() ? "" : ", ", e->name());
      return fail(ErrorCode::kInvalidRequest, fmt::format("'{}' names no speech engine: '{}'. Use one of: {}.", param, model, names),
                  std::string(param));
    }
    plan.push_back(first);
  }
  for (const auto& e : engines_) {
    if (e.get() != first) plan.push_back(e.get());
  }
  return plan;
}

http::Task<void> Event::wait(Clock::time_point deadline) {
  if (!signalled_) {
    timer_.expires_at(deadline);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  signalled_ = false;
}

// An engine's audio: encoded as it comes, counted, and handed out.
class Speech::Sink final : public PcmSink {
 public:
  explicit Sink(Speech& s) : s_(s) {}
  void audio(std::span<const int16_t> pcm) override {
    if (pcm.empty() || s_.cancelled_) return;
    got_audio = true;
    if (s_.stats_.samples == 0) s_.stats_.first_audio = Clock::now();
    s_.stats_.samples += static_cast<int64_t>(pcm.size());
    std::string bytes;
    s_.encoder_->push(pcm, bytes);
    s_.emit(false, std::move(bytes));
  }
  bool got_audio = false;

 private:
  Speech& s_;
};

Speech::Speech(SpeechOptions options, http::Client& client, const boost::asio::any_io_executor& ex)
    : options_(std::move(options)), client_(client), client_executor_(ex), chunker_(options_.chunker), work_(ex), ready_(ex) {
  auto encoder = audio::Encoder::make(options_.format, options_.streaming);
  if (encoder) {
    encoder_ = std::move(*encoder);
  } else {
    stats_.error = encoder.error().message;
  }
}

void Speech::emit(bool transcript, std::string bytes) {
  if (bytes.empty()) return;
  if (!transcript && !out_.empty() && !out_.back().transcript) {
    out_.back().bytes += bytes;  // not taken yet: one piece of audio
  } else {
    out_.push_back({transcript, std::move(bytes)});
  }
  ready_.notify();
}

void Speech::add_text(std::string_view text) {
  if (text_ended_ || cancelled_) return;
  std::vector<std::string> ready;
  chunker_.add(text, ready);
  for (auto& p : ready) pieces_.push_back(std::move(p));
  if (!chunker_.holding()) {
    held_since_ = {};
  } else if (held_since_ == Clock::time_point{}) {
    held_since_ = Clock::now();
  }
  if (!ready.empty()) work_.notify();
}

void Speech::end_text() {
  if (text_ended_) return;
  text_ended_ = true;
  if (std::string rest = chunker_.take_rest(); !rest.empty()) pieces_.push_back(std::move(rest));
  held_since_ = {};
  work_.notify();
}

void Speech::cancel() {
  cancelled_ = true;
  work_.notify();
}

std::deque<Speech::Out> Speech::take() {
  std::deque<Out> out;
  out.swap(out_);
  return out;
}

http::Task<void> Speech::run() {
  while (!cancelled_ && encoder_ != nullptr && !failed_) {
    if (pieces_.empty() && held_since_ != Clock::time_point{} && Clock::now() - held_since_ >= options_.max_wait) {
      // Waited long enough for a boundary: speak the words held so far.
      if (std::string words = chunker_.take_rest(/*whole_words=*/true); !words.empty()) pieces_.push_back(std::move(words));
      held_since_ = chunker_.holding() ? Clock::now() : Clock::time_point{};
    }
    if (!pieces_.empty()) {
      std::string piece = std::move(pieces_.front());
      pieces_.pop_front();
      co_await speak(std::move(piece));
      continue;
    }
    if (text_ended_) break;
    const auto deadline = held_since_ == Clock::time_point{} ? Clock::time_point::max() : held_since_ + options_.max_wait;
    co_await work_.wait(deadline);
  }
  if (!cancelled_ && encoder_ != nullptr) {
    std::string tail;
    encoder_->finish(tail);
    emit(false, std::move(tail));
  }
  finished_ = true;
  ready_.notify();
}

http::Task<void> Speech::watchdog(boost::asio::steady_timer& limit, const Sink& sink) {
  co_await limit.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (!sink.got_audio) co_return;  // too late: the race ends here
  limit.expires_at(Clock::time_point::max());  // audio came: wait until the engine is done
  co_await limit.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

http::Task<void> Speech::speak(std::string piece) {
  emit(true, piece);
  while (engine_ < options_.engines.size() && !cancelled_) {
    const TtsEngine& engine = *options_.engines[engine_];
    // The request's model is the first engine's; the others speak with their own.
    const SpeakRequest request{.text = piece, .voice = options_.voice,
                               .model = engine_ == 0 ? std::string_view(options_.model) : std::string_view(),
                               .speed = options_.speed};
    Sink sink(*this);
    // The engine's call races a watchdog: no audio by the engine's first-audio limit, and the
    // call is cancelled (an engine that hangs fails over like one that errs).
    boost::asio::steady_timer limit(client_executor_, std::chrono::milliseconds(engine.config().first_audio_timeout_ms));
    auto race = engine.speak(request, client_, sink) || watchdog(limit, sink);
    std::variant<Result<void>, std::monostate> raced = co_await std::move(race);
    Result<void> spoken = raced.index() == 0 ? std::move(std::get<0>(raced))
                                             : fail(ErrorCode::kUpstreamTimeout,
                                                    fmt::format("no audio within {} ms", engine.config().first_audio_timeout_ms));
    if (spoken) {
      if (stats_.engine.empty()) stats_.engine = engine.name();
      stats_.chars += static_cast<int64_t>(piece.size());
      stats_.cost_usd += static_cast<double>(piece.size()) * engine.config().usd_per_million_chars / 1e6;
      co_return;
    }
    stats_.error = std::string(engine.name()) + ": " + spoken.error().message;
    ++engine_;  // this engine is not used again for this answer
    if (sink.got_audio) co_return;  // part of the piece was heard: go on with the next piece
  }
  failed_ = true;
}

}  // namespace sy::speech
