#pragma once
// ElevenLabs' text-to-speech, as api.elevenlabs.io speaks it:
//   POST /v1/text-to-speech/{voice_id}/stream?output_format=pcm_24000   → chunked audio/pcm
//   POST /v1/text-to-speech/{voice_id}?output_format=pcm_16000          → the whole clip at once
// body {"text": ..., "model_id": "eleven_flash_v2_5", "voice_settings": {...}}. The model_id
// carries the behaviour (mock/behaviour.h) as a chat model name does; output is raw 16-bit LE
// mono PCM at the pcm_<rate>'s rate (the mock synthesizes no mp3, opus or u-law). Auth when
// MockOptions::api_key is set: xi-api-key (or Authorization: Bearer). Errors are
// {"detail":{"status":"voice_not_found","message":...}}, or FastAPI's {"detail":[...]} list
// for a body that fails validation (422). Details and sources: elevenlabs.cc, docs/mock.md.

#include <string>
#include <string_view>

#include "http/message.h"
#include "mock/mock.h"

namespace sy::mock {

// Whether `path` is under ElevenLabs' /v1/text-to-speech/.
bool is_elevenlabs(std::string_view path);

http::Task<void> elevenlabs_tts(http::Request& req, http::Response& res, const MockOptions& options);

// {"detail":{"status":<status>,"message":<message>}}
std::string elevenlabs_error_json(std::string_view status, std::string_view message);

}  // namespace sy::mock
