// The mock's text-to-speech: the synthetic signal, and OpenAI's audio/speech and ElevenLabs'
// text-to-speech over loopback, as a gateway's TTS engine would read them.
#include "mock/speech.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_scan.h"
#include "http/client.h"
#include "mock/mock.h"

namespace sy::mock {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  int status = 0;  // 0: the connection was reset before a response
  std::string content_type;
  std::string retry_after;
  std::string character_count;
  std::string body;
  bool complete = false;  // the body ended as HTTP frames an end (no reset)
};

http::Task<void> exchange(http::Client& client, http::Url url, std::string target, std::string body, Headers headers,
                          Reply& out) {
  auto ex = client.exchange(url);
  std::vector<http::Header> fields;
  for (const auto& [name, value] : headers) fields.push_back({name, value});
  const std::array<std::string_view, 1> parts{body};
  if (auto sent = co_await ex->send({"POST", target, fields, parts}); !sent) co_return;
  out.status = ex->status();
  out.content_type = std::string(ex->header("content-type"));
  out.retry_after = std::string(ex->header("retry-after"));
  out.character_count = std::string(ex->header("x-character-count"));
  for (;;) {
    auto piece = co_await ex->read_some();
    if (!piece) co_return;
    if (piece->empty()) break;
    out.body += *piece;
  }
  out.complete = true;
}

// The value of top-level `key` in JSON `text`: a string decoded, anything else as raw JSON.
std::string field(std::string_view text, std::string_view key) {
  const std::array<std::string_view, 1> keys{key};
  std::array<json::Field, 1> f;
  if (!json::scan_object(text, keys, f)) return "<not an object>";
  return f[0].kind == json::Kind::kString ? json::unescape(f[0].raw) : std::string(f[0].raw);
}

std::string base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    if (v < 0) continue;  // '=' padding
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

uint32_t le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}
uint32_t le16(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[at]) | static_cast<unsigned char>(s[at + 1]) << 8);
}

// The root mean square of 16-bit LE samples, in sample units.
double rms(std::string_view pcm) {
  double sum = 0;
  const size_t n = pcm.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const auto s = static_cast<int16_t>(le16(pcm, 2 * i));
    sum += static_cast<double>(s) * s;
  }
  return n == 0 ? 0 : std::sqrt(sum / static_cast<double>(n));
}

// Bytes of 16-bit mono PCM for `characters` at `rate` and `speed` (65 ms a character, >= 200 ms).
size_t expected_bytes(size_t characters, int rate, double speed = 1.0) {
  const double seconds = std::max(0.065 * static_cast<double>(characters) / speed, 0.2);
  return 2 * static_cast<size_t>(std::llround(seconds * rate));
}

constexpr std::string_view kText = "The quick brown fox jumps over the lazy dog, twice.";  // 51 characters
constexpr std::string_view kRachel = "21m00Tcm4TlvDq8ikWAM";

// --- the signal ---

TEST(SpeechSignal, DurationFollowsTheText) {
  const SpeechVoice voice = speech_voice("alloy", 175);
  EXPECT_EQ(SpeechSignal(kText, voice, 24000).samples(), expected_bytes(kText.size(), 24000) / 2);
  EXPECT_NEAR(SpeechSignal(kText, voice, 24000).seconds(), 51 * 0.065, 1e-4);
  EXPECT_NEAR(SpeechSignal(kText, voice, 24000, 2.0).seconds(), 51 * 0.065 / 2, 1e-4);
  EXPECT_NEAR(SpeechSignal("Hi", voice, 24000).seconds(), 0.2, 1e-4);  // the minimum
  EXPECT_NEAR(SpeechSignal("héllo wörld", voice, 16000).seconds(), 11 * 0.065, 1e-4) << "code points, not bytes";
  const SpeechSignal empty("", voice, 24000);
  std::string silence;
  empty.render(0, empty.samples(), silence);
  EXPECT_EQ(silence.size(), 2 * 4800u);
  EXPECT_EQ(rms(silence), 0.0);
}

TEST(SpeechSignal, VoicedDeterministicAndTheSameInAnyPieces) {
  const SpeechSignal s(kText, speech_voice("nova", 215), 24000);
  std::string whole;
  s.render(0, s.samples(), whole);
  std::string pieces;
  for (int i = 0; i < s.pieces(); ++i) s.render_piece(i, pieces);
  EXPECT_EQ(whole, pieces);
  EXPECT_EQ(s.pieces(), static_cast<int>((s.samples() + 959) / 960));
  std::string again;
  SpeechSignal(kText, speech_voice("nova", 215), 24000).render(0, s.samples(), again);
  EXPECT_EQ(whole, again);
  EXPECT_GT(rms(whole), 2000.0);
  std::string other;
  SpeechSignal(kText, speech_voice("onyx", 120), 24000).render(0, s.samples(), other);
  EXPECT_NE(whole, other) << "voices differ in pitch";
  // The pause at the space after "The" (characters 3..4) is silent.
  const size_t at = 3 * s.samples() / kText.size() + 10;
  EXPECT_EQ(le16(whole, 2 * at), 0u);
}

// --- over loopback ---

class MockSpeech : public ::testing::Test {
 protected:
  void SetUp() override {
    auto port = mock_.start();
    ASSERT_TRUE(port) << port.error().message;
    url_ = *http::Url::parse(fmt::format("http://127.0.0.1:{}", *port));
    auto keyed = keyed_.start();
    ASSERT_TRUE(keyed) << keyed.error().message;
    keyed_url_ = *http::Url::parse(fmt::format("http://127.0.0.1:{}", *keyed));
  }

  static Reply post(const http::Url& url, std::string target, std::string body, Headers headers = {}) {
    Reply reply;
    boost::asio::io_context ioc;
    {
      http::Client client;  // its pooled connections live on ioc: it goes first
      boost::asio::co_spawn(ioc, exchange(client, url, std::move(target), std::move(body), std::move(headers), reply),
                            [&](std::exception_ptr) { ioc.stop(); });
      ioc.run();
    }
    return reply;
  }

  Reply speech(std::string_view json_fields, std::string_view model = "gpt-4o-mini-tts") {
    return post(url_, "/v1/audio/speech", fmt::format(R"({{"model":"{}",{}}})", model, json_fields));
  }
  Reply openai_pcm(std::string_view text, std::string_view extra = "", std::string_view model = "gpt-4o-mini-tts") {
    return speech(fmt::format(R"("input":"{}","voice":"alloy","response_format":"pcm"{})", text, extra), model);
  }
  Reply eleven(std::string_view voice, std::string_view query, std::string_view body, bool stream = true, Headers headers = {}) {
    return post(url_, fmt::format("/v1/text-to-speech/{}{}{}", voice, stream ? "/stream" : "", query), std::string(body),
                std::move(headers));
  }

  MockUpstream mock_{MockOptions{}};
  MockUpstream keyed_{MockOptions{.api_key = "sk-test"}};
  http::Url url_;
  http::Url keyed_url_;
};

TEST_F(MockSpeech, OpenAiPcmLengthFollowsTheText) {
  const Reply r = openai_pcm(kText);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "audio/pcm");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), expected_bytes(kText.size(), 24000));  // 2 bytes × 24 kHz × duration
  EXPECT_GT(rms(r.body), 2000.0);
  // Twice the text, twice the audio; twice the speed, half.
  const Reply twice = openai_pcm(fmt::format("{} {}", kText, kText));
  EXPECT_EQ(twice.body.size(), expected_bytes(2 * kText.size() + 1, 24000));
  EXPECT_EQ(openai_pcm(kText, R"(,"speed":2.0)").body.size(), expected_bytes(kText.size(), 24000, 2.0));
}

TEST_F(MockSpeech, OpenAiWavIsTheSamePcmAfterAStreamedHeader) {
  const Reply wav = speech(fmt::format(R"("input":"{}","voice":"alloy","response_format":"wav")", kText));
  ASSERT_EQ(wav.status, 200) << wav.body;
  EXPECT_EQ(wav.content_type, "audio/wav");
  ASSERT_GE(wav.body.size(), 44u);
  const std::string_view h(wav.body.data(), 44);
  EXPECT_EQ(h.substr(0, 4), "RIFF");
  EXPECT_EQ(le32(h, 4), 0xFFFFFFFFu) << "streamed: size unknown";
  EXPECT_EQ(h.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(le32(h, 16), 16u);
  EXPECT_EQ(le16(h, 20), 1u) << "PCM";
  EXPECT_EQ(le16(h, 22), 1u) << "channels";
  EXPECT_EQ(le32(h, 24), 24000u) << "rate";
  EXPECT_EQ(le32(h, 28), 48000u) << "byte rate";
  EXPECT_EQ(le16(h, 32), 2u) << "block align";
  EXPECT_EQ(le16(h, 34), 16u) << "bits";
  EXPECT_EQ(h.substr(36, 4), "data");
  EXPECT_EQ(le32(h, 40), 0xFFFFFFFFu);
  EXPECT_EQ(wav.body.substr(44), openai_pcm(kText).body);
}

TEST_F(MockSpeech, OpenAiSseEventsCarryTheSameAudioThenUsage) {
  const Reply r = speech(fmt::format(R"("input":"{}","voice":"alloy","response_format":"pcm","stream_format":"sse")", kText));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.content_type.starts_with("text/event-stream")) << r.content_type;
  std::string audio;
  std::vector<std::string> events;
  std::string_view rest = r.body;
  while (!rest.empty()) {
    const size_t end = rest.find("\n\n");
    ASSERT_NE(end, std::string_view::npos) << "every event ends with a blank line";
    const std::string_view line = rest.substr(0, end);
    ASSERT_TRUE(line.starts_with("data: ")) << line;
    events.emplace_back(line.substr(6));
    rest.remove_prefix(end + 2);
  }
  ASSERT_GE(events.size(), 2u);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(field(events[i], "type"), "speech.audio.delta");
    audio += base64_decode(field(events[i], "audio"));
  }
  EXPECT_EQ(audio, openai_pcm(kText).body);
  const std::string& done = events.back();
  EXPECT_EQ(field(done, "type"), "speech.audio.done");
  const std::string usage = field(done, "usage");
  EXPECT_EQ(field(usage, "input_tokens"), "10");  // words
  EXPECT_EQ(field(usage, "output_tokens"), std::to_string(events.size() - 1));  // one per 40 ms piece
  EXPECT_EQ(field(usage, "total_tokens"), std::to_string(10 + events.size() - 1));
}

TEST_F(MockSpeech, OpenAiRejectsAnUnknownVoiceNamingTheValidOnes) {
  const Reply r = speech(R"("input":"Hi","voice":"bob","response_format":"pcm")");
  ASSERT_EQ(r.status, 400);
  const std::string error = field(r.body, "error");
  EXPECT_EQ(field(error, "type"), "invalid_request_error");
  EXPECT_EQ(field(error, "param"), "voice");
  EXPECT_EQ(field(error, "code"), "invalid_value");
  const std::string message = field(error, "message");
  for (std::string_view v : {"'bob'", "'alloy'", "'ash'", "'marin'", "'cedar'"}) EXPECT_NE(message.find(v), std::string::npos) << message;
  // A custom voice object is accepted.
  EXPECT_EQ(speech(R"("input":"Hi","voice":{"id":"voice_1234"},"response_format":"pcm")").status, 200);
}

TEST_F(MockSpeech, OpenAiRejectsMissingOrOverlongInput) {
  Reply r = speech(R"("voice":"alloy","response_format":"pcm")");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(field(field(r.body, "error"), "param"), "input");
  EXPECT_EQ(field(field(r.body, "error"), "code"), "missing_required_parameter");
  r = openai_pcm(std::string(4097, 'a'));
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(field(field(r.body, "error"), "code"), "string_above_max_length");
  EXPECT_EQ(openai_pcm(std::string(4096, 'a'), "", "pace-1000x").status, 200);  // 266 s of audio, quickly
  r = openai_pcm("Hi", R"(,"speed":5)");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(field(field(r.body, "error"), "param"), "speed");
}

TEST_F(MockSpeech, OpenAiCompressedFormatsAreRefused) {
  for (std::string_view format : {R"(,"response_format":"mp3")", R"(,"response_format":"opus")", ""}) {
    const Reply r = speech(fmt::format(R"("input":"Hi","voice":"alloy"{})", format));  // mp3 is the default
    ASSERT_EQ(r.status, 400) << format;
    const std::string error = field(r.body, "error");
    EXPECT_EQ(field(error, "type"), "invalid_request_error");
    EXPECT_EQ(field(error, "param"), "response_format");
    EXPECT_NE(field(error, "message").find("only pcm and wav"), std::string::npos) << error;
  }
}

TEST_F(MockSpeech, OpenAiSpeechNeedsTheKey) {
  const std::string body = R"({"model":"tts-1","input":"Hi","voice":"alloy","response_format":"pcm"})";
  const Reply denied = post(keyed_url_, "/v1/audio/speech", body);
  ASSERT_EQ(denied.status, 401);
  EXPECT_EQ(field(field(denied.body, "error"), "code"), "invalid_api_key");
  EXPECT_EQ(post(keyed_url_, "/v1/audio/speech", body, {{"authorization", "Bearer sk-test"}}).status, 200);
}

TEST_F(MockSpeech, OpenAiFaultsInItsErrorShape) {
  const Reply r = openai_pcm("Hi", "", "status-503");
  ASSERT_EQ(r.status, 503);
  EXPECT_EQ(field(field(r.body, "error"), "type"), "server_error");
  const Reply reset = openai_pcm(kText, "", "reset-after-2/pace-2x");
  EXPECT_EQ(reset.status, 200);
  EXPECT_FALSE(reset.complete);
  EXPECT_EQ(reset.body.size(), 2 * 960 * 2u);
  const Reply garbled = openai_pcm(kText, "", "garble-after-1");
  EXPECT_TRUE(garbled.complete);
  EXPECT_EQ(garbled.body.size() % 2, 1u) << "cut off mid-sample";
  EXPECT_EQ(openai_pcm("Hi", "", "drop").status, 0);
}

TEST_F(MockSpeech, TtftAndPace) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  EXPECT_EQ(openai_pcm("Hi", "", "ttft-120ms").status, 200);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(120));
  // "Hello" is 325 ms of audio in 9 pieces: at real time the last is due 320 ms after the first.
  start = Clock::now();
  EXPECT_EQ(eleven(kRachel, "?output_format=pcm_24000", R"({"text":"Hello","model_id":"pace-1x"})").status, 200);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(MockSpeech, ElevenLabsPcmAtTheFormatsRate) {
  const std::string body = fmt::format(R"({{"text":"{}","model_id":"eleven_flash_v2_5"}})", kText);
  for (const int rate : {24000, 16000, 22050, 44100}) {
    const Reply r = eleven(kRachel, fmt::format("?output_format=pcm_{}", rate), body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "audio/pcm");
    EXPECT_EQ(r.character_count, "51");
    EXPECT_EQ(r.body.size(), expected_bytes(kText.size(), rate)) << rate;
    EXPECT_GT(rms(r.body), 2000.0);
  }
  // The non-streaming endpoint: the same clip in one body; another voice, another signal.
  const Reply whole = eleven(kRachel, "?output_format=pcm_16000", body, false);
  EXPECT_EQ(whole.body, eleven(kRachel, "?output_format=pcm_16000", body).body);
  EXPECT_NE(whole.body, eleven("pNInz6obpgDQGcFmaJgB", "?output_format=pcm_16000", body, false).body);
}

TEST_F(MockSpeech, ElevenLabsErrorsInItsShape) {
  const std::string body = R"({"text":"Hi"})";
  Reply r = eleven("nope123", "?output_format=pcm_24000", body);
  ASSERT_EQ(r.status, 404);
  const std::string detail = field(r.body, "detail");
  EXPECT_EQ(field(detail, "status"), "voice_not_found");
  EXPECT_EQ(field(detail, "message"), "A voice with the voice_id nope123 was not found.");

  r = eleven(kRachel, "?output_format=mp3_44100_128", body);
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(field(field(r.body, "detail"), "message").find("only pcm"), std::string::npos) << r.body;
  EXPECT_EQ(eleven(kRachel, "", body).status, 400) << "mp3_44100_128 is the default";

  r = eleven(kRachel, "?output_format=pcm_24000", R"({"model_id":"eleven_flash_v2_5"})");
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(r.body, R"({"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}]})");

  r = eleven(kRachel, "?output_format=pcm_24000", R"({"text":"Hi","voice_settings":{"stability":2.0}})");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(field(field(r.body, "detail"), "status"), "invalid_voice_settings");

  r = eleven(kRachel, "?output_format=pcm_24000", R"({"text":"Hi","model_id":"eleven_flash_v2_5/status-429"})");
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(field(field(r.body, "detail"), "status"), "too_many_concurrent_requests");
  EXPECT_EQ(r.retry_after, "1");
}

TEST_F(MockSpeech, ElevenLabsNeedsTheKey) {
  const std::string target = fmt::format("/v1/text-to-speech/{}/stream?output_format=pcm_24000", kRachel);
  const std::string body = R"({"text":"Hi"})";
  Reply r = post(keyed_url_, target, body);
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(field(field(r.body, "detail"), "status"), "needs_authorization");
  r = post(keyed_url_, target, body, {{"xi-api-key", "wrong"}});
  ASSERT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})");
  EXPECT_EQ(post(keyed_url_, target, body, {{"xi-api-key", "sk-test"}}).status, 200);
}

TEST_F(MockSpeech, ElevenLabsResetAfterNPieces) {
  const Reply r = eleven(kRachel, "?output_format=pcm_16000",
                         fmt::format(R"({{"text":"{}","model_id":"reset-after-3/pace-2x"}})", kText));
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.body.size(), 3 * 640 * 2u) << "three 40 ms pieces at 16 kHz";
}

TEST_F(MockSpeech, CountedInTheStats) {
  EXPECT_EQ(openai_pcm("Hi").status, 200);
  EXPECT_EQ(eleven(kRachel, "?output_format=pcm_24000", R"({"text":"Hi"})").status, 200);
  Reply stats;
  boost::asio::io_context ioc;
  {
    http::Client client;
    auto get = [&]() -> http::Task<void> {
      auto ex = client.exchange(url_);
      if (!co_await ex->send({"GET", "/mock/stats", {}, {}})) co_return;
      stats.status = ex->status();
      if (auto b = co_await ex->read_body()) stats.body = *b;
    };
    boost::asio::co_spawn(ioc, get(), [&](std::exception_ptr) { ioc.stop(); });
    ioc.run();
  }
  EXPECT_EQ(stats.body, R"({"requests":2,"active":0})");
}

}  // namespace
}  // namespace sy::mock
