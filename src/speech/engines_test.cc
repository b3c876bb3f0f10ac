#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "speech/engine.h"

namespace sy::speech {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

TEST(Engines, EmptyConfigurationIsEspeakAlone) {
  auto engines = Engines::build({});
  ASSERT_TRUE(engines) << engines.error().message;
  ASSERT_EQ((*engines)->all().size(), 1u);
  EXPECT_EQ((*engines)->all()[0]->name(), "espeak");
  EXPECT_EQ((*engines)->all()[0]->config().kind, "espeak");
  EXPECT_EQ((*engines)->find("espeak"), (*engines)->all()[0].get());
  EXPECT_EQ((*engines)->find("openai"), nullptr);
}

TEST(Engines, EachKindInOrder) {
  auto engines = Engines::build({
      {.name = "cloud", .kind = "openai", .base_url = "https://api.openai.com/v1", .api_key = "k"},
      {.name = "eleven", .kind = "elevenlabs", .base_url = "https://api.elevenlabs.io", .voices = {{"rachel", "21m00Tcm4TlvDq8ikWAM"}}},
      {.name = "local", .kind = "espeak"},
  });
  ASSERT_TRUE(engines) << engines.error().message;
  ASSERT_EQ((*engines)->all().size(), 3u);
  EXPECT_EQ((*engines)->all()[0]->name(), "cloud");
  EXPECT_EQ((*engines)->all()[0]->config().model, "gpt-4o-mini-tts");
  EXPECT_EQ((*engines)->all()[1]->config().model, "eleven_flash_v2_5");
  EXPECT_EQ((*engines)->find("local")->config().kind, "espeak");
  EXPECT_EQ((*engines)->find("espeak"), nullptr);  // listed engines only
}

TEST(Engines, ConfigurationErrors) {
  struct Case {
    std::vector<EngineConfig> configs;
    std::string_view message;
  };
  const Case cases[] = {
      {{{.name = "tts", .kind = "polly"}},
       "tts engine 'tts': unknown kind 'polly'; use one of: espeak, openai, elevenlabs"},
      {{{.name = "cloud", .kind = "openai"}}, "tts engine 'cloud' (openai): base_url is required"},
      {{{.name = "cloud", .kind = "openai", .base_url = "api.openai.com"}}, "tts engine 'cloud': base_url 'api.openai.com' must start with http://"},
      {{{.name = "eleven", .kind = "elevenlabs"}}, "tts engine 'eleven' (elevenlabs): base_url is required"},
      {{{.name = "eleven", .kind = "elevenlabs", .base_url = "https://api.elevenlabs.io"}},
       "tts engine 'eleven' (elevenlabs): list its voices as name → voice id"},
      {{{.name = "a", .kind = "espeak"}, {.name = "a", .kind = "espeak"}}, "tts engine 'a' is configured twice"},
      {{{.kind = "espeak"}}, "tts engine #1 (kind 'espeak') has no name"},
  };
  for (const Case& c : cases) {
    auto engines = Engines::build(c.configs);
    ASSERT_FALSE(engines) << c.message;
    EXPECT_EQ(engines.error().code, ErrorCode::kInvalidRequest) << c.message;
    EXPECT_TRUE(contains(engines.error().message, c.message)) << engines.error().message;
  }
}

// espeak-ng stays initialised once it has been (only the first open's data path counts), so
// this runs in a fresh process: a death test that re-runs this binary.
void build_without_espeak_data() {
  auto engines = Engines::build({}, {.data_path = "/nonexistent/espeak"});
  if (engines) std::exit(1);
  std::fprintf(stderr, "%s\n", engines.error().message.c_str());
  std::exit(engines.error().code == ErrorCode::kUnavailable ? 0 : 2);
}

TEST(Engines, MissingEspeakDataIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(build_without_espeak_data(), ::testing::ExitedWithCode(0),
              "tts engine 'espeak' \\(espeak\\): espeak-ng data not found in '/nonexistent/espeak'");
}

}  // namespace
}  // namespace sy::speech
