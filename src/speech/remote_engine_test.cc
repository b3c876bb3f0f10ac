// The OpenAI and ElevenLabs engines against the mock upstream on loopback.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "http/client.h"
#include "mock/mock.h"
#include "mock/speech.h"
#include "speech/elevenlabs_engine.h"
#include "speech/openai_engine.h"
#include "speech/remote.h"
#include "speech/testing/collect.h"

namespace sy::speech {
namespace {

namespace asio = boost::asio;
using testing::CollectSink;
using testing::run_to_end;

constexpr std::string_view kKey = "sk-test-key";
constexpr std::string_view kText = "Hello there. This sentence is spoken by the mock upstream.";
constexpr std::string_view kRachel = "21m00Tcm4TlvDq8ikWAM";  // a premade voice the mock knows

// Samples of the mock's speech for `text` at `speed`.
size_t mock_samples(std::string_view text, double speed = 1.0) {
  return mock::SpeechSignal(text, mock::speech_voice("any"), audio::kSampleRate, speed).samples();
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

class RemoteEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto port = mock_.start();
    ASSERT_TRUE(port) << port.error().message;
  }

  std::unique_ptr<OpenAiEngine> openai(std::string model = "tts-1", std::string key = std::string(kKey)) {
    auto made = OpenAiEngine::make({.name = "openai-tts", .kind = "openai", .base_url = mock_.base_url(),
                                    .api_key = std::move(key), .model = std::move(model),
                                    .voices = {{"narrator", "onyx"}}});
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
  std::unique_ptr<ElevenLabsEngine> eleven(std::string model = "eleven_flash_v2_5", std::string key = std::string(kKey)) {
    auto made = ElevenLabsEngine::make({.name = "eleven", .kind = "elevenlabs", .base_url = mock_.base_url(),
                                        .api_key = std::move(key), .model = std::move(model),
                                        .voices = {{"rachel", std::string(kRachel)}, {"ghost", "NoSuchVoiceId"}}});
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }

  Result<void> speak(const TtsEngine& engine, CollectSink& sink, std::string_view voice, std::string_view model = {},
                     double speed = 1.0, std::string_view text = kText) {
    return run_to_end(ioc_, engine.speak({.text = text, .voice = voice, .model = model, .speed = speed}, client_, sink));
  }

  mock::MockUpstream mock_{{.api_key = std::string(kKey)}};
  asio::io_context ioc_;
  http::Client client_;  // destroyed before the io_context its connections live on
};

TEST_F(RemoteEngineTest, OpenAiPcmArrivesInPieces) {
  auto engine = openai("tts-1/pace-10x");
  CollectSink sink;
  Result<void> r = speak(*engine, sink, "alloy");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(sink.pieces, 3);
  EXPECT_EQ(sink.samples.size() * 2, 2 * mock_samples(kText));
  EXPECT_GT(audio::rms(sink.samples), 1000);
  for (const std::thread::id id : sink.threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST_F(RemoteEngineTest, OpenAiSpeedAndConfiguredVoice) {
  auto engine = openai();
  CollectSink fast;
  ASSERT_TRUE(speak(*engine, fast, "narrator", {}, 2.0));
  EXPECT_EQ(fast.samples.size(), mock_samples(kText, 2.0));
  CollectSink clamped;  // 10 is sent as the API's 4
  ASSERT_TRUE(speak(*engine, clamped, "cedar", {}, 10.0));
  EXPECT_EQ(clamped.samples.size(), mock_samples(kText, 4.0));
}

TEST_F(RemoteEngineTest, OpenAiBody) {
  auto engine = openai();
  EXPECT_EQ(engine->body({.text = "Say \"hi\"", .voice = "narrator", .speed = 1.5}),
            R"({"model":"tts-1","input":"Say \"hi\"","voice":"onyx","response_format":"pcm",)"
            R"("stream_format":"audio","speed":1.5})");
  auto custom = OpenAiEngine::make({.name = "o", .kind = "openai", .base_url = "http://127.0.0.1:1/v1",
                                    .voices = {{"me", "voice_1234"}}});
  ASSERT_TRUE(custom);
  EXPECT_EQ((*custom)->config().model, OpenAiEngine::kDefaultModel);
  EXPECT_TRUE(contains((*custom)->body({.text = "x", .voice = "me", .model = "tts-1-hd"}),
                       R"("model":"tts-1-hd","input":"x","voice":{"id":"voice_1234"})"));
}

TEST_F(RemoteEngineTest, OpenAiUnknownVoiceListsTheNames) {
  auto engine = openai();
  EXPECT_TRUE(engine->check_voice("marin", "voice"));
  EXPECT_TRUE(engine->check_voice("narrator", "voice"));
  Result<void> bad = engine->check_voice("bob", "audio.voice");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(bad.error().param, "audio.voice");
  EXPECT_EQ(bad.error().message,
            "voice 'bob' is not available in engine 'openai-tts'; use one of: alloy, ash, ballad, coral, echo, fable, "
            "onyx, nova, sage, shimmer, verse, marin, cedar, narrator");
  CollectSink sink;
  Result<void> spoken = speak(*engine, sink, "bob");
  ASSERT_FALSE(spoken);
  EXPECT_EQ(spoken.error().upstream_status, 0);  // refused before any request
}

TEST_F(RemoteEngineTest, OpenAiUpstreamStatusesBecomeErrors) {
  struct Case {
    std::string model;
    int status;
    ErrorCode code;
  };
  for (const Case& c : {Case{"tts-1/status-500", 500, ErrorCode::kUpstreamError},
                        Case{"tts-1/status-429", 429, ErrorCode::kRateLimited},
                        Case{"tts-1/status-503", 503, ErrorCode::kUnavailable}}) {
    auto engine = openai(c.model);
    CollectSink sink;
    Result<void> r = speak(*engine, sink, "alloy");
    ASSERT_FALSE(r) << c.model;
    EXPECT_EQ(r.error().upstream_status, c.status) << c.model;
    EXPECT_EQ(r.error().code, c.code) << c.model;
    EXPECT_TRUE(contains(r.error().message, fmt::format("engine 'openai-tts' answered HTTP {}: ", c.status)))
        << r.error().message;
    EXPECT_EQ(sink.pieces, 0);
  }
}

TEST_F(RemoteEngineTest, OpenAiWrongKeyIs401) {
  auto engine = openai("tts-1", "sk-wrong");
  CollectSink sink;
  Result<void> r = speak(*engine, sink, "alloy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().upstream_status, 401);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  EXPECT_TRUE(contains(r.error().message, "Incorrect API key provided")) << r.error().message;
  EXPECT_FALSE(contains(r.error().message, "sk-wrong"));
}

TEST_F(RemoteEngineTest, OpenAiAudioCutInsideASampleIsAnError) {
  auto engine = openai("tts-1/garble-after-3");
  CollectSink sink;
  Result<void> r = speak(*engine, sink, "alloy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
  EXPECT_TRUE(contains(r.error().message, "inside a sample")) << r.error().message;
  EXPECT_GT(sink.pieces, 0);  // the whole samples before the cut were heard
}

TEST_F(RemoteEngineTest, UnreachableUpstream) {
  auto engine = OpenAiEngine::make({.name = "gone", .kind = "openai", .base_url = "http://127.0.0.1:1/v1"});
  ASSERT_TRUE(engine);
  CollectSink sink;
  Result<void> r = speak(**engine, sink, "alloy");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnreachable);
  EXPECT_TRUE(contains(r.error().message, "engine 'gone': ")) << r.error().message;
}

TEST_F(RemoteEngineTest, ElevenLabsPcmArrivesInPieces) {
  auto engine = eleven("eleven_flash_v2_5/pace-10x");
  CollectSink sink;
  Result<void> r = speak(*engine, sink, "rachel");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(sink.pieces, 3);
  EXPECT_EQ(sink.samples.size(), mock_samples(kText));
  EXPECT_GT(audio::rms(sink.samples), 1000);
  CollectSink by_id;  // a bare voice id the config lists
  ASSERT_TRUE(speak(*engine, by_id, kRachel));
  EXPECT_EQ(by_id.samples, sink.samples);
}

TEST_F(RemoteEngineTest, ElevenLabsSpeedIsClampedToTheApiRange) {
  auto engine = eleven();
  CollectSink faster;
  ASSERT_TRUE(speak(*engine, faster, "rachel", {}, 1.2));
  EXPECT_EQ(faster.samples.size(), mock_samples(kText, 1.2));
  CollectSink clamped;
  ASSERT_TRUE(speak(*engine, clamped, "rachel", {}, 3.0));
  EXPECT_EQ(clamped.samples.size(), mock_samples(kText, 1.2));
  EXPECT_EQ(engine->body({.text = "x", .voice = "rachel"}), R"({"text":"x","model_id":"eleven_flash_v2_5"})");
  EXPECT_EQ(engine->body({.text = "x", .voice = "rachel", .speed = 0.5}),
            R"({"text":"x","model_id":"eleven_flash_v2_5","voice_settings":{"speed":0.7}})");
  EXPECT_EQ(engine->target({.text = "x", .voice = "rachel"}),
            "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream?output_format=pcm_24000");
}

TEST_F(RemoteEngineTest, ElevenLabsUnknownVoices) {
  auto engine = eleven();
  Result<void> bad = engine->check_voice("alloy", "voice");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "voice 'alloy' is not available in engine 'eleven'; use one of: rachel, ghost");
  CollectSink sink;  // listed, but the provider does not know the id
  Result<void> r = speak(*engine, sink, "ghost");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().upstream_status, 404);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(contains(r.error().message, "A voice with the voice_id NoSuchVoiceId was not found. (voice_not_found)"))
      << r.error().message;
}

TEST_F(RemoteEngineTest, ElevenLabsUpstreamStatusesBecomeErrors) {
  for (const auto& [model, status, code] : {std::tuple{"eleven_flash_v2_5/status-500", 500, ErrorCode::kUpstreamError},
                                            std::tuple{"eleven_flash_v2_5/status-429", 429, ErrorCode::kRateLimited}}) {
    auto engine = eleven(model);
    CollectSink sink;
    Result<void> r = speak(*engine, sink, "rachel");
    ASSERT_FALSE(r) << model;
    EXPECT_EQ(r.error().upstream_status, status) << model;
    EXPECT_EQ(r.error().code, code) << model;
    EXPECT_TRUE(contains(r.error().message, "engine 'eleven' answered HTTP")) << r.error().message;
  }
  auto engine = eleven("eleven_flash_v2_5", "sk-wrong");
  CollectSink sink;
  Result<void> r = speak(*engine, sink, "rachel");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().upstream_status, 401);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  EXPECT_TRUE(contains(r.error().message, "Invalid API key (invalid_api_key)")) << r.error().message;
}

TEST(PcmAssembler, KeepsAnOddByteForTheNextPiece) {
  const std::vector<int16_t> samples{1, -2, 300, -32768, 32767, 0x1234};
  const std::string_view bytes = audio::as_bytes(samples);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    PcmAssembler pcm;
    std::vector<int16_t> out;
    for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
      const auto got = pcm.push(piece);
      out.insert(out.end(), got.begin(), got.end());
    }
    EXPECT_EQ(out, samples) << cut;
    EXPECT_FALSE(pcm.mid_sample());
  }
  PcmAssembler pcm;  // one byte at a time
  std::vector<int16_t> out;
  for (char c : bytes) {
    const auto got = pcm.push(std::string_view(&c, 1));
    out.insert(out.end(), got.begin(), got.end());
  }
  EXPECT_EQ(out, samples);
  EXPECT_TRUE(pcm.push(bytes.substr(0, 3)).size() == 1 && pcm.mid_sample());
}

TEST(ProviderErrors, ReadTheirShapes) {
  EXPECT_EQ(read_openai_error(R"({"error":{"message":"Rate limit","type":"requests"}})"), "Rate limit");
  EXPECT_EQ(read_openai_error(R"({"error":"plain"})"), "plain");
  EXPECT_EQ(read_openai_error("<html>"), "");
  EXPECT_EQ(read_elevenlabs_error(R"({"detail":{"status":"quota_exceeded","message":"No credits"}})"),
            "No credits (quota_exceeded)");
  EXPECT_EQ(read_elevenlabs_error(R"({"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required"}]})"),
            "Field required");
  EXPECT_EQ(read_elevenlabs_error(R"({"detail":"Not Found"})"), "Not Found");
  const Error e = upstream_error("x", 502, "<html>bad gateway</html>", read_openai_error);
  EXPECT_EQ(e.message, "engine 'x' answered HTTP 502: <html>bad gateway</html>");
  EXPECT_EQ(e.code, ErrorCode::kUpstreamError);
  EXPECT_EQ(e.upstream_status, 502);
  EXPECT_EQ(upstream_error("x", 500, "", read_openai_error).message, "engine 'x' answered HTTP 500: no body");
}

}  // namespace
}  // namespace sy::speech
