#pragma once
// Google service-account OAuth 2.0 ("two-legged"): a JWT signed RS256 with the key file's
// private key is exchanged at its token_uri for an access token, cached until shortly before
// it expires.
//
//   auto key = ServiceAccountKey::load("sa.json");                      // Result<ServiceAccountKey>
//   GoogleTokenSource tokens(*key, "https://www.googleapis.com/auth/bigquery.insertdata");
//   auto token = tokens.token(poster);           // "ya29...."; send as `authorization: Bearer ...`
//
// Claims: iss = client_email, scope, aud = token_uri, iat = now, exp = now + 1 h (Google's
// maximum). The private key never leaves this module and is never logged.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "export/http_poster.h"

namespace sy::exports {

inline constexpr std::string_view kScopeBigQueryInsert = "https://www.googleapis.com/auth/bigquery.insertdata";
inline constexpr std::string_view kScopeBigQuery = "https://www.googleapis.com/auth/bigquery";
inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

// The fields of a service account's JSON key file that the flow needs.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;      // PEM ("-----BEGIN PRIVATE KEY-----...")
  std::string private_key_id;   // sent as the JWT's `kid` when present
  std::string token_uri = "https://oauth2.googleapis.com/token";
  std::string project_id;

  static Result<ServiceAccountKey> parse(std::string_view json);
  static Result<ServiceAccountKey> load(const std::string& path);
};

// base64 without padding, URL alphabet (RFC 4648 §5), as JWTs use.
std::string base64url(std::string_view data);

// "<header>.<claims>.<signature>", each base64url; RS256 = RSASSA-PKCS1-v1_5 with SHA-256.
Result<std::string> sign_jwt_rs256(std::string_view header_json, std::string_view claims_json, std::string_view private_key_pem);

// The signed assertion for `scope`, issued at `now` and valid for one hour.
Result<std::string> service_account_assertion(const ServiceAccountKey& key, std::string_view scope,
                                              std::chrono::system_clock::time_point now);

class GoogleTokenSource {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  GoogleTokenSource(ServiceAccountKey key, std::string scope, WallClock clock = std::chrono::system_clock::now);

  // A cached token while it has more than `kRefreshMargin` left; else a new one from
  // token_uri through `poster`. A 4xx from the token endpoint is kUnauthorized (the key or the
  // clock is wrong); a connection error or 5xx is kUpstreamUnreachable (try again later).
  Result<std::string> token(HttpPoster& poster);
  // Forgets the cached token (after a 401 from the API).
  void invalidate() { token_.clear(); }

  static constexpr std::chrono::seconds kRefreshMargin{300};

 private:
  ServiceAccountKey key_;
  std::string scope_;
  WallClock clock_;
  std::string token_;
  std::chrono::system_clock::time_point expires_{};
};

}  // namespace sy::exports
