#pragma once
// SpokenResponse: an OpenAI chat completion with its speech (`audio` in the request). It sits
// between the gateway's relay and the client's response: the text passes through as the relay
// writes it, is spoken as it comes (speech/speech.h), and the audio is written into the same
// answer in OpenAI's audio-output shape.
//
//   SpokenResponse spoken(res, speech, dialect, ex, "audio_req_01H…");
//   co_await relay(..., spoken, ...);         // writes text as always
//   co_await spoken.close();                  // the speech is over before the frame goes
//
// Streamed: chunks with `delta.audio` — {id, expires_at, transcript} before each spoken piece,
// {id, data (base64)} as its audio comes — interleaved with the text chunks; the finish chunk,
// the usage chunk and [DONE] wait until every piece is spoken. Whole: the answer's
// choices[0].message gets `audio` {id, data, expires_at, transcript}.

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/dialect.h"
#include "http/message.h"
#include "speech/speech.h"
#include "telemetry/record.h"

namespace sy::gateway {

// The speech's figures into the request's record; `first_audio`: when the first audio byte went
// to the client ({} when none did), `started`: when the request arrived.
void log_speech(telemetry::RequestRecord& log, const speech::SpeechStats& stats, speech::Clock::time_point first_audio,
                speech::Clock::time_point started);

class SpokenResponse final : public http::Response {
 public:
  SpokenResponse(http::Response& inner, speech::Speech& speech, const ClientDialect& dialect,
                 const boost::asio::any_io_executor& ex, std::string audio_id);

  http::Task<bool> send(int status, std::string_view content_type, std::string_view body,
                        std::span<const http::Header> headers) override;
  http::Task<bool> begin_stream(int status, std::string_view content_type,
                                std::span<const http::Header> headers) override;
  http::Task<bool> write(std::string_view data) override;
  http::Task<bool> end_stream() override;
  bool started() const override { return inner_.started(); }
  int status() const override { return inner_.status(); }
  void abort() override { inner_.abort(); }

  // Ends the speech (cancelled when the answer did not end normally) and waits for it.
  http::Task<void> close();
  // When the first audio byte went to the client; {} when none did.
  speech::Clock::time_point first_audio() const { return first_audio_; }

 private:
  // The speech's output ready so far, as chunks with `delta.audio`, appended to `events`.
  void audio_events(std::string& events);
  http::Task<bool> forward(std::string& events);  // writes and clears them
  http::Task<void> run_speech();                  // spawned when the stream begins
  http::Task<void> pump();                        // spawned too: writes the speech as it is ready
  http::Task<void> stop_pump();
  // The rest of the speech, before the stream's end; then what was held back.
  http::Task<bool> drain();
  void note_ids(std::string_view json);  // the chunk id, created and model of the text's chunks

  http::Response& inner_;
  speech::Speech& speech_;
  const ClientDialect& dialect_;
  boost::asio::any_io_executor ex_;
  std::string audio_id_;
  std::string chunk_head_;  // `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,`
  std::string partial_;     // an event the relay wrote in part
  std::string held_;        // events after the text's end, written once the speech is over
  bool draining_ = false;
  bool client_gone_ = false;
  bool first_piece_ = true;
  bool speaking_ = false;        // the stream began: the speech runs beside it
  bool speech_running_ = false;
  bool pumping_ = false;
  bool writing_ = false;
  speech::Event write_free_;
  speech::Event pump_done_;
  speech::Event speech_done_;
  speech::Clock::time_point first_audio_{};
  int64_t expires_at_ = 0;
};

}  // namespace sy::gateway
