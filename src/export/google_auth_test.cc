// The pieces under the exporters: base64, gzip, RS256 JWTs, service-account keys.
#include "export/google_auth.h"
#include "core/base64.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "export/gzip.h"
#include "export/http_poster.h"
#include "export/testing/fakes.h"

namespace sy::exports {
namespace {

namespace json = boost::json;
using testing::base64_decode;

const testing::RsaKeyPair& key_pair() {
  static const testing::RsaKeyPair pair = testing::generate_rsa_key();
  return pair;
}

TEST(Base64, StandardAndUrlAlphabets) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("user:secret"), "dXNlcjpzZWNyZXQ=");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_decode(base64url("\xfb\xff\x01")), "\xfb\xff\x01");
}

TEST(Gzip, RoundTripsAndRefusesGarbage) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += R"({"event":"llm_request"},)";
  const std::string packed = gzip(text);
  EXPECT_LT(packed.size(), text.size() / 20);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  auto back = gunzip(packed, 1 << 20);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, text);
  EXPECT_FALSE(gunzip("not gzip", 1 << 20));
  EXPECT_FALSE(gunzip(packed, 1000));  // past the limit
}

TEST(RetryAfter, SecondsOnly) {
  EXPECT_EQ(parse_retry_after("3"), std::chrono::seconds(3));
  EXPECT_EQ(parse_retry_after(" 0 "), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after(""), std::chrono::milliseconds(-1));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::chrono::milliseconds(-1));
}

TEST(ServiceAccountKey, ParsesTheKeyFileFields) {
  auto key = ServiceAccountKey::parse(R"({"type":"service_account","project_id":"p1","private_key_id":"kid1",
    "private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n","client_email":"sa@p1.iam.gserviceaccount.com"})");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->client_email, "sa@p1.iam.gserviceaccount.com");
  EXPECT_EQ(key->project_id, "p1");
  EXPECT_EQ(key->private_key_id, "kid1");
  EXPECT_EQ(key->token_uri, "https://oauth2.googleapis.com/token");  // the default
  auto missing = ServiceAccountKey::parse(R"({"client_email":"x"})");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("private_key"), std::string::npos);
  EXPECT_FALSE(ServiceAccountKey::load("/nonexistent/sa.json"));
}

TEST(Jwt, Rs256SignatureVerifiesWithThePublicKey) {
  ServiceAccountKey key;
  key.client_email = "exporter@proj.iam.gserviceaccount.com";
  key.private_key = key_pair().private_pem;
  key.private_key_id = "abc123";
  key.token_uri = "https://oauth2.googleapis.com/token";
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  auto jwt = service_account_assertion(key, kScopeBigQueryInsert, now);
  ASSERT_TRUE(jwt) << jwt.error().message;

  const size_t dot1 = jwt->find('.');
  const size_t dot2 = jwt->rfind('.');
  ASSERT_NE(dot1, dot2);
  EXPECT_EQ(json::parse(base64_decode(jwt->substr(0, dot1))), json::parse(R"({"alg":"RS256","typ":"JWT","kid":"abc123"})"));
  EXPECT_EQ(json::parse(base64_decode(jwt->substr(dot1 + 1, dot2 - dot1 - 1))),
            json::parse(R"({"iss":"exporter@proj.iam.gserviceaccount.com",
                            "scope":"https://www.googleapis.com/auth/bigquery.insertdata",
                            "aud":"https://oauth2.googleapis.com/token","iat":1700000000,"exp":1700003600})"));
  EXPECT_EQ(jwt->find('='), std::string::npos);  // base64url without padding

  // Verified independently with the public key.
  BIO* bio = BIO_new_mem_buf(key_pair().public_pem.data(), static_cast<int>(key_pair().public_pem.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pub, nullptr);
  const std::string signature = base64_decode(jwt->substr(dot2 + 1));
  EXPECT_EQ(signature.size(), 256u);  // RSA-2048
  const auto verify = [&](std::string_view input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const int ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub) == 1
                       ? EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                          reinterpret_cast<const unsigned char*>(input.data()), input.size())
                       : -1;
    EVP_MD_CTX_free(ctx);
    return ok == 1;
  };
  EXPECT_TRUE(verify(std::string_view(*jwt).substr(0, dot2)));
  EXPECT_FALSE(verify(std::string_view(*jwt).substr(0, dot2 - 1)));
  EVP_PKEY_free(pub);
}

TEST(Jwt, RefusesAKeyThatIsNotRsaPem) {
  auto jwt = sign_jwt_rs256("{}", "{}", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(jwt);
  EXPECT_NE(jwt.error().message.find("RSA private key"), std::string::npos);
}

}  // namespace
}  // namespace sy::exports
