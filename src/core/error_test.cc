#include "core/error.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace sy {
namespace {

TEST(Error, StatusMapping) {
  EXPECT_EQ(http_status(ErrorCode::kInvalidRequest), 400);
  EXPECT_EQ(http_status(ErrorCode::kModelNotFound), 404);
  EXPECT_EQ(http_status(ErrorCode::kConflict), 409);
  EXPECT_EQ(http_status(ErrorCode::kPreconditionFailed), 412);
  EXPECT_EQ(http_status(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(http_status(ErrorCode::kHeaderTooLarge), 431);
  EXPECT_EQ(http_status(ErrorCode::kUpstreamUnreachable), 502);
  EXPECT_EQ(http_status(ErrorCode::kUpstreamTimeout), 504);
}

TEST(Error, OpenAiTypes) {
  EXPECT_EQ(openai_error_type(ErrorCode::kModelNotFound), "invalid_request_error");
  EXPECT_EQ(openai_error_type(ErrorCode::kUnauthorized), "authentication_error");
  EXPECT_EQ(openai_error_type(ErrorCode::kUpstreamUnreachable), "api_error");
  EXPECT_EQ(openai_error_type(ErrorCode::kConflict), "invalid_request_error");
  EXPECT_EQ(error_code_name(ErrorCode::kModelNotFound), "model_not_found");
  EXPECT_EQ(error_code_name(ErrorCode::kPreconditionFailed), "precondition_failed");
}

Result<int> half(int x) {
  if (x % 2 != 0) return fail(ErrorCode::kInvalidRequest, "odd", "x");
  return x / 2;
}

TEST(Result, ValueAndError) {
  EXPECT_EQ(*half(4), 2);
  auto r = half(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "x");
}

}  // namespace
}  // namespace sy
