#include "speech/remote.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cstring>

#include "core/json_scan.h"

namespace sy::speech {
namespace {

constexpr size_t kQuotedBodyChars = 300;  // of a body that holds no message, in an error

// The string at `key` of the object `text`; "" when there is none.
std::string string_field(std::string_view text, std::string_view key) {
  const std::array<std::string_view, 1> keys{key};
  std::array<json::Field, 1> field;
  if (!json::scan_object(text, keys, field) || field[0].kind != json::Kind::kString) return {};
  return json::unescape(field[0].raw);
}

// The top-level field `key` of the object `text`; missing when `text` is not an object.
json::Field top_field(std::string_view text, std::string_view key) {
  const std::array<std::string_view, 1> keys{key};
  std::array<json::Field, 1> field;
  if (!json::scan_object(text, keys, field)) return {};
  return field[0];
}

Error named(std::string_view engine, Error e) {
  e.message = fmt::format("engine '{}': {}", engine, e.message);
  return e;
}

}  // namespace

std::span<const int16_t> PcmAssembler::push(std::string_view bytes) {
  samples_.clear();
  if (bytes.empty()) return {};
  samples_.resize((bytes.size() + (has_odd_ ? 1 : 0)) / 2);
  auto* out = reinterpret_cast<char*>(samples_.data());
  size_t written = 0;
  if (has_odd_ && !samples_.empty()) out[written++] = odd_;
  const size_t whole = samples_.size() * 2 - written;
  if (whole > 0) std::memcpy(out + written, bytes.data(), whole);
  has_odd_ = whole < bytes.size();
  if (has_odd_) odd_ = bytes.back();
  return samples_;
}

std::string read_openai_error(std::string_view body) {
  const json::Field error = top_field(body, "error");
  if (error.kind == json::Kind::kObject) return string_field(error.raw, "message");
  if (error.kind == json::Kind::kString) return json::unescape(error.raw);
  return {};
}

std::string read_elevenlabs_error(std::string_view body) {
  const json::Field detail = top_field(body, "detail");
  if (detail.kind == json::Kind::kObject) {
    std::string message = string_field(detail.raw, "message");
    const std::string status = string_field(detail.raw, "status");
    if (!status.empty() && !message.empty()) return fmt::format("{} ({})", message, status);
    return message.empty() ? status : message;
  }
  if (detail.kind == json::Kind::kString) return json::unescape(detail.raw);
  if (detail.kind == json::Kind::kArray) {  // FastAPI's validation errors: the first one's msg
    std::vector<json::Field> items;
    if (json::scan_array(detail.raw, items) && !items.empty() && items[0].kind == json::Kind::kObject) {
      return string_field(items[0].raw, "msg");
    }
  }
  return {};
}

Error upstream_error(std::string_view engine, int status, std::string_view body, ErrorReader read_error) {
  std::string message = read_error != nullptr ? read_error(body) : std::string();
  if (message.empty()) {
    message = body.empty() ? std::string("no body") : std::string(body.substr(0, kQuotedBodyChars));
  }
  return Error{code_for_status(status), fmt::format("engine '{}' answered HTTP {}: {}", engine, status, message), {},
               status};
}

http::Task<Result<void>> post_for_pcm(http::Client& client, http::Url url, http::OutRequest request, PcmSink& sink,
                                      PcmPost how) {
  const std::unique_ptr<http::Exchange> ex = client.exchange(url);
  if (auto sent = co_await ex->send(request); !sent) co_return tl::unexpected(named(how.engine, sent.error()));
  const int status = ex->status();
  const bool json = ex->header("content-type").starts_with("application/json");
  if (status < 200 || status > 299 || json) {
    auto body = co_await ex->read_body();
    if (!body) co_return tl::unexpected(named(how.engine, body.error()));
    if (status < 200 || status > 299) {
      co_return tl::unexpected(upstream_error(how.engine, status, *body, how.read_error));
    }
    co_return tl::unexpected(Error{
        ErrorCode::kUpstreamError,
        fmt::format("engine '{}' answered HTTP {} with JSON instead of audio: {}", how.engine, status,
                    std::string_view(*body).substr(0, kQuotedBodyChars)),
        {}, status});
  }
  PcmAssembler pcm;
  for (;;) {
    auto piece = co_await ex->read_some();
    if (!piece) co_return tl::unexpected(named(how.engine, piece.error()));
    if (piece->empty()) break;
    if (const std::span<const int16_t> samples = pcm.push(*piece); !samples.empty()) sink.audio(samples);
  }
  if (pcm.mid_sample()) {
    co_return fail(ErrorCode::kUpstreamError,
                   fmt::format("engine '{}': the audio ended inside a sample (an odd number of PCM16 bytes)",
                               how.engine));
  }
  co_return Result<void>();
}

tl::unexpected<Error> unknown_voice(std::string_view engine, std::string_view voice, std::string_view param,
                                    std::span<const std::string_view> names) {
  return fail(ErrorCode::kInvalidRequest,
              fmt::format("voice '{}' is not available in engine '{}'; use one of: {}", voice, engine,
                          fmt::join(names, ", ")),
              std::string(param));
}

}  // namespace sy::speech
