// Spoken answers over real sockets: `audio` on /v1/chat/completions, whole and streamed, and
// POST /v1/audio/speech, spoken by the embedded espeak-ng engine or by the mock's remote TTS
// protocols; the audio is decoded and checked (rate, duration against the text, not silence),
// engines fail over, and the request log records the speech.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "audio/pcm.h"
#include "audio/wav.h"
#include "core/base64.h"
#include "harness.h"
#include "process.h"

namespace sy::testing {
namespace {

namespace bj = boost::json;
using http::Header;

constexpr std::string_view kAdmin = "sk-admin-speech";

class Speech : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0"});
    const int mock_port = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port, 0) << mock_->output();
    dir_ = std::filesystem::temp_directory_path() / ("switchyard-speech-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "switchyard.yaml") << fmt::format(R"(demo: false
database: {1}/config.db
admin_key: {2}
providers:
  - {{name: mock, kind: openai, base_url: "http://127.0.0.1:{0}/v1", models: '*'}}
  - {{name: claude, kind: anthropic, base_url: "http://127.0.0.1:{0}/v1", models: '*'}}
routers:
  talk:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: claude/len-20/seed-2}}, weight: 1}}]}}
tts:
  engines:
    - {{name: espeak, kind: espeak}}
    - {{name: openai-tts, kind: openai, base_url: "http://127.0.0.1:{0}/v1", api_key: k, model: gpt-4o-mini-tts, usd_per_million_chars: 15}}
    - {{name: down-tts, kind: openai, base_url: "http://127.0.0.1:{0}/v1", api_key: k, model: tts-1/status-503}}
    - {{name: hung-tts, kind: openai, base_url: "http://127.0.0.1:{0}/v1", api_key: k, model: tts-1/hang, first_audio_timeout_ms: 300}}
    - {{name: eleven, kind: elevenlabs, base_url: "http://127.0.0.1:{0}", api_key: k, model: eleven_flash_v2_5,
        voices: {{alloy: 21m00Tcm4TlvDq8ikWAM}}}}
)",
                                                           mock_port, dir_.string(), kAdmin);
    gateway_ = new Process({SY_BINARY, "serve", "--config", (dir_ / "switchyard.yaml").string(), "--listen", "127.0.0.1:0",
                            "--workers", "2"});
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove_all(dir_);
  }
  static bj::value record(const std::string& id) {
    const std::string auth = fmt::format("Bearer {}", kAdmin);
    const std::array<Header, 1> h{Header{"authorization", auth}};
    for (int i = 0; i < 300; ++i) {
      const Reply r = call(port_, "GET", "/v1/logs/" + id, "", h);
      if (r.status == 200) return bj::parse(r.body);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no record of " << id;
    return bj::object{};
  }

  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int port_ = 0;
  static inline std::filesystem::path dir_;
};

std::string b64(const bj::value& v) {
  auto d = base64_decode(std::string_view(v.as_string()));
  EXPECT_TRUE(d.has_value());
  return d.value_or("");
}

// Speech of `text` that is real: audible, and about as long as the text (espeak-ng speaks about
// 12-20 characters a second at its default rate).
void expect_speech(std::span<const int16_t> samples, std::string_view text) {
  const double seconds = static_cast<double>(samples.size()) / audio::kSampleRate;
  EXPECT_GT(seconds, static_cast<double>(text.size()) / 40.0) << text;
  EXPECT_LT(seconds, static_cast<double>(text.size()) / 5.0 + 1.0) << text;
  EXPECT_GT(audio::rms(samples), 300.0);
}

std::vector<int16_t> pcm_of(std::string_view bytes) {
  std::vector<int16_t> s(bytes.size() / 2);
  std::memcpy(s.data(), bytes.data(), s.size() * 2);
  return s;
}

TEST_F(Speech, AWholeAnswerCarriesItsSpeechAsWav) {
  const Reply r = call(port_, "POST", "/v1/chat/completions",
                       chat_body("mock/len-24/seed-5", false, R"(,"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::value answer = bj::parse(r.body);
  const auto& message = answer.at("choices").at(0).at("message");
  const std::string content(message.at("content").as_string());
  const auto& audio = message.at("audio");
  EXPECT_EQ(std::string(audio.at("transcript").as_string()), content);
  EXPECT_TRUE(std::string(audio.at("id").as_string()).starts_with("audio_"));
  EXPECT_GT(audio.at("expires_at").as_int64(), 1'700'000'000);
  auto wav = audio::read_wav(b64(audio.at("data")));
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->sample_rate, 24000);
  EXPECT_EQ(wav->channels, 1);
  expect_speech(wav->samples, content);
  const bj::value rec = record(r.header("x-switchyard-request-id"));
  EXPECT_EQ(rec.at("speech").at("engine"), "espeak");
  EXPECT_EQ(rec.at("speech").at("chars").as_int64(), static_cast<int64_t>(content.size()));
  EXPECT_NEAR(rec.at("speech").at("audio_seconds").to_number<double>(), wav->seconds(), 0.05);
}

TEST_F(Speech, AStreamInterleavesTextAndSpeechInOrder) {
  std::string sse;
  const Reply r = stream(port_, "/v1/chat/completions",
                         chat_body("mock/len-60/seed-9/tps-100", true, R"(,"audio":{"voice":"nova","format":"pcm16"})"), {},
                         [&](std::string_view piece) { sse += piece; });
  ASSERT_EQ(r.status, 200);
  std::string text, transcript, pcm;
  size_t first_audio = std::string::npos, last_text = 0, finish = std::string::npos, done = std::string::npos;
  size_t index = 0;
  for (size_t at = 0; at < sse.size(); ++index) {
    const size_t end = sse.find("\n\n", at);
    ASSERT_NE(end, std::string::npos);
    const std::string_view data = std::string_view(sse).substr(at + 6, end - at - 6);
    at = end + 2;
    if (data == "[DONE]") {
      done = index;
      continue;
    }
    const bj::value chunk = bj::parse(data);
    const auto& choices = chunk.at("choices").as_array();
    if (choices.empty()) continue;
    const auto& delta = choices[0].at("delta").as_object();
    if (auto* c = delta.if_contains("content"); c && c->is_string()) {
      text += c->as_string();
      last_text = index;
    }
    if (auto* a = delta.if_contains("audio")) {
      if (auto* t = a->as_object().if_contains("transcript")) transcript += t->as_string();
      if (auto* d = a->as_object().if_contains("data")) {
        pcm += b64(*d);
        if (first_audio == std::string::npos) first_audio = index;
      }
    }
    if (!choices[0].at("finish_reason").is_null()) finish = index;
  }
  EXPECT_EQ(transcript, text);
  ASSERT_NE(first_audio, std::string::npos) << sse.substr(0, 2000);
  // Spoken while the model writes (600 ms of text; pieces are spoken after at most 300 ms):
  // speech before the last text, every piece before the finish chunk, and [DONE] last.
  EXPECT_LT(first_audio, last_text);
  EXPECT_LT(first_audio, finish);
  EXPECT_LT(finish, done);
  expect_speech(pcm_of(pcm), text);
}

// A router whose model speaks another protocol (Anthropic): the translated answer is spoken the
// same way, streamed and whole; mp3 frames come back.
TEST_F(Speech, ARoutedTranslatedAnswerIsSpokenToo) {
  const Reply whole = call(port_, "POST", "/v1/chat/completions",
                           chat_body("switchyard/talk", false, R"(,"audio":{"voice":"onyx","format":"mp3"})"));
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.header("x-switchyard-provider"), "claude");
  const bj::value answer = bj::parse(whole.body);
  const std::string mp3 = b64(answer.at("choices").at(0).at("message").at("audio").at("data"));
  ASSERT_GT(mp3.size(), 1000u);
  // MPEG-2 layer III frames (the first is LAME's Info frame): sync, version 2, layer III.
  EXPECT_EQ(static_cast<unsigned char>(mp3[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(mp3[1]) & 0xFE, 0xF2);
  std::string sse;
  const Reply streamed = stream(port_, "/v1/chat/completions",
                                chat_body("switchyard/talk", true, R"(,"audio":{"voice":"onyx"})"), {},
                                [&](std::string_view piece) { sse += piece; });
  ASSERT_EQ(streamed.status, 200);
  EXPECT_NE(sse.find(R"("audio":{"id":"audio_)"), std::string::npos);
  EXPECT_NE(sse.find(R"("data":")"), std::string::npos);
  EXPECT_TRUE(sse.ends_with("data: [DONE]\n\n")) << sse.substr(sse.size() - 200);
}

TEST_F(Speech, EnginesFailOverAndTheRecordSaysSo) {
  const Reply r = call(port_, "POST", "/v1/chat/completions",
                       chat_body("mock/len-10", false, R"(,"audio":{"voice":"alloy","format":"pcm16","model":"down-tts"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::value answer = bj::parse(r.body);
  const std::string pcm = b64(answer.at("choices").at(0).at("message").at("audio").at("data"));
  EXPECT_GT(pcm.size(), 24000u);  // spoken, by the next engine
  const bj::value rec = record(r.header("x-switchyard-request-id"));
  EXPECT_EQ(rec.at("speech").at("engine"), "espeak");
  EXPECT_NE(std::string(rec.at("speech").at("error").as_string()).find("down-tts"), std::string::npos) << rec;
}

// An engine that never answers is cut off at its first-audio limit, and the next one speaks.
TEST_F(Speech, AHungEngineFailsOverAtItsFirstAudioLimit) {
  const auto start = std::chrono::steady_clock::now();
  const Reply r = call(port_, "POST", "/v1/chat/completions",
                       chat_body("mock/len-8", false, R"(,"audio":{"voice":"alloy","format":"pcm16","model":"hung-tts"})"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GT(b64(bj::parse(r.body).at("choices").at(0).at("message").at("audio").at("data")).size(), 24000u);
  EXPECT_LT(took, std::chrono::seconds(10));  // not the upstream read timeout (300 s)
  const bj::value rec = record(r.header("x-switchyard-request-id"));
  EXPECT_NE(std::string(rec.at("speech").at("error").as_string()).find("no audio within 300 ms"), std::string::npos) << rec;
  EXPECT_EQ(rec.at("speech").at("engine"), "espeak");
}

TEST_F(Speech, RemoteEnginesSpeakTheirProtocols) {
  for (std::string_view engine : {"openai-tts", "eleven"}) {
    const Reply r = call(port_, "POST", "/v1/audio/speech",
                         fmt::format(R"({{"model":"{}","input":"Remote speech, streamed.","voice":"alloy","response_format":"pcm"}})", engine));
    ASSERT_EQ(r.status, 200) << engine << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "audio/pcm");
    const auto samples = pcm_of(r.body);
    // The mock speaks 65 ms per character.
    EXPECT_NEAR(static_cast<double>(samples.size()) / 24000.0, 0.065 * 24, 0.1) << engine;
    EXPECT_GT(audio::rms(samples), 300.0) << engine;
    const bj::value rec = record(r.header("x-switchyard-request-id"));
    EXPECT_EQ(std::string_view(rec.at("speech").at("engine").as_string()), engine);
  }
}

// A client that leaves in the middle of a spoken stream: the speech stops with the relay, and the
// gateway serves on (under ASan: nothing touched after it is freed).
TEST_F(Speech, AClientThatLeavesMidStreamStopsTheSpeech) {
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string body = chat_body("mock/len-300/seed-3/tps-200", true, R"(,"audio":{"voice":"alloy"})");
    const std::string request = fmt::format(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
        "content-length: {}\r\n\r\n{}",
        body.size(), body);
    ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::string got;
    char buf[4096];
    // Until some audio came (i = 0), some text (i = 1), or only the head (i = 2).
    const std::string_view until = i == 0 ? R"("data":")" : i == 1 ? R"("content":)" : "\r\n\r\n";
    while (got.find(until) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ASSERT_GT(n, 0);
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const Reply r = call(port_, "POST", "/v1/chat/completions",
                       chat_body("mock/len-6", false, R"(,"audio":{"voice":"alloy","format":"pcm16"})"));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Speech, BadAudioSettingsAreClearErrors) {
  Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-3", false, R"(,"audio":{"voice":"bob"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("alloy"), std::string::npos) << r.body;  // the valid voices are listed
  EXPECT_NE(r.body.find("audio.voice"), std::string::npos) << r.body;
  r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-3", false, R"(,"audio":{"voice":"alloy","format":"flac"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("mp3"), std::string::npos) << r.body;
  r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-3", false, R"(,"modalities":["text","audio"])"));
  EXPECT_EQ(r.status, 400);
  r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-3", false, R"(,"audio":{"voice":"alloy","model":"nope"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("openai-tts"), std::string::npos) << r.body;
  r = call(port_, "POST", "/v1/audio/speech", R"({"model":"espeak","voice":"alloy"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("input"), std::string::npos) << r.body;
  // The gateway serves on.
  EXPECT_EQ(call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-3", false)).status, 200);
}

TEST_F(Speech, SpeechEndpointServesWavAndSse) {
  Reply r = call(port_, "POST", "/v1/audio/speech", R"({"model":"espeak","input":"The gateway speaks.","voice":"echo","response_format":"wav"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto wav = audio::read_wav(r.body);
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->sample_rate, 24000);
  expect_speech(wav->samples, "The gateway speaks.");
  r = call(port_, "POST", "/v1/audio/speech",
           R"({"model":"espeak","input":"Events too.","voice":"echo","response_format":"pcm","stream_format":"sse"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("type":"speech.audio.delta")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("type":"speech.audio.done")"), std::string::npos);
}

}  // namespace
}  // namespace sy::testing
