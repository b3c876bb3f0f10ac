#pragma once
// Shared by the dialect translators of this folder; not part of the module's interface.

#include <array>
#include <memory>
#include <optional>

#include "translate/translate.h"

namespace sy::translate {

std::unique_ptr<StreamDecoder> make_openai_stream_decoder();
std::unique_ptr<StreamDecoder> make_anthropic_stream_decoder();
std::unique_ptr<StreamDecoder> make_gemini_stream_decoder();
std::unique_ptr<StreamEncoder> make_openai_stream_encoder(const EncoderOptions& options);
std::unique_ptr<StreamEncoder> make_anthropic_stream_encoder(const EncoderOptions& options);

// A 400 about the client's request, naming the field at fault.
tl::unexpected<Error> invalid(std::string message, std::string param);
// " (model 'anthropic/claude-…')" for error messages; "" when no target is known.
std::string for_model(std::string_view target);

// Appends a JSON number or the text of an integer without locale or exponent surprises.
void append_int(std::string& out, int64_t v);
void append_double(std::string& out, double v);
// Appends `json_text` quoted as a JSON string's escaped contents (no quotes): a JSON object
// becomes the text of an OpenAI `arguments` string.
void append_escaped(std::string& out, std::string_view text);

}  // namespace sy::translate

#include "core/json_scan.h"

namespace sy::translate {

// The number of a scanned field; nullopt when it is not a number (or does not fit).
std::optional<int64_t> int_of(json::Field f);
std::optional<double> double_of(json::Field f);
// The fields `keys` of the JSON object `raw` (missing ones kMissing); false if not an object.
template <size_t N>
bool fields(std::string_view raw, const std::array<std::string_view, N>& keys, std::array<json::Field, N>& out) {
  return static_cast<bool>(json::scan_object(raw, keys, out));
}

}  // namespace sy::translate
