#include "export/google_auth.h"


#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/base64.h"

namespace sy::exports {
namespace json = boost::json;

namespace {

std::string string_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};

std::string excerpt(std::string_view body) { return std::string(body.substr(0, 300)); }

}  // namespace

Result<ServiceAccountKey> ServiceAccountKey::parse(std::string_view text) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return fail(ErrorCode::kInvalidRequest, "service account key: not a JSON object");
  const json::object& o = v.get_object();
  ServiceAccountKey key;
  key.client_email = string_field(o, "client_email");
  key.private_key = string_field(o, "private_key");
  key.private_key_id = string_field(o, "private_key_id");
  key.project_id = string_field(o, "project_id");
  if (auto uri = string_field(o, "token_uri"); !uri.empty()) key.token_uri = std::move(uri);
  if (key.client_email.empty() || key.private_key.empty()) {
    return fail(ErrorCode::kInvalidRequest,
                "service account key: `client_email` and `private_key` are required; download a JSON key of the service account");
  }
  return key;
}

Result<ServiceAccountKey> ServiceAccountKey::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::kInvalidRequest, fmt::format("service account key '{}': cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  auto key = parse(text.str());
  if (!key) return fail(ErrorCode::kInvalidRequest, fmt::format("'{}': {}", path, key.error().message));
  return key;
}

std::string base64url(std::string_view data) {
  std::string out = base64_encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

Result<std::string> sign_jwt_rs256(std::string_view header_json, std::string_view claims_json, std::string_view private_key_pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    return fail(ErrorCode::kInvalidRequest, "service account key: `private_key` is not an RSA private key in PEM");
  }
  const std::string signing_input = base64url(header_json) + "." + base64url(claims_json);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, input, signing_input.size()) != 1) {
    return fail(ErrorCode::kInternal, "JWT: RS256 signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input, signing_input.size()) != 1) {
    return fail(ErrorCode::kInternal, "JWT: RS256 signing failed");
  }
  signature.resize(length);
  return signing_input + "." + base64url(signature);
}

Result<std::string> service_account_assertion(const ServiceAccountKey& key, std::string_view scope,
                                              std::chrono::system_clock::time_point now) {
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  const json::object claims{
      {"iss", key.client_email}, {"scope", scope}, {"aud", key.token_uri}, {"iat", iat}, {"exp", iat + 3600},
  };
  return sign_jwt_rs256(json::serialize(header), json::serialize(claims), key.private_key);
}

GoogleTokenSource::GoogleTokenSource(ServiceAccountKey key, std::string scope, WallClock clock)
    : key_(std::move(key)), scope_(std::move(scope)), clock_(std::move(clock)) {}

Result<std::string> GoogleTokenSource::token(HttpPoster& poster) {
  const auto now = clock_();
  if (!token_.empty() && now + kRefreshMargin < expires_) return token_;
  auto url = http::Url::parse(key_.token_uri);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("service account key: token_uri: {}", url.error().message));
  auto assertion = service_account_assertion(key_, scope_, now);
  if (!assertion) return tl::unexpected(assertion.error());
  // The grant type's ':' are percent-encoded; a JWT is base64url and dots, safe in a form.
  const std::string form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + *assertion;
  const std::array<http::Header, 2> headers{http::Header{"content-type", "application/x-www-form-urlencoded"},
                                            http::Header{"accept", "application/json"}};
  auto reply = poster.send(*url, "POST", "", headers, form);
  if (!reply) return fail(ErrorCode::kUpstreamUnreachable, fmt::format("token endpoint {}: {}", url->origin(), reply.error().message));
  if (reply->status != 200) {
    const ErrorCode code = reply->status >= 400 && reply->status < 500 && reply->status != 429 ? ErrorCode::kUnauthorized
                                                                                                : ErrorCode::kUpstreamUnreachable;
    return fail(code, fmt::format("token endpoint {} answered {}: {}", url->origin(), reply->status, excerpt(reply->body)));
  }
  std::error_code ec;
  json::value v = json::parse(reply->body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const std::string token = o != nullptr ? string_field(*o, "access_token") : std::string();
  if (token.empty()) return fail(ErrorCode::kUpstreamError, fmt::format("token endpoint {}: no access_token in its answer", url->origin()));
  int64_t expires_in = 3600;
  if (const json::value* e = o->if_contains("expires_in"); e != nullptr && e->is_int64()) expires_in = e->get_int64();
  token_ = token;
  expires_ = now + std::chrono::seconds(expires_in);
  return token_;
}

}  // namespace sy::exports
