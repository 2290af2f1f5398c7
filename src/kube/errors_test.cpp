#include "kube/errors.hpp"

#include <gtest/gtest.h>

#include "common/redact.hpp"

namespace kolla::kube {
namespace {

TEST(ErrorsTest, NotFoundFromStatus) {
  const auto e = error_from_response(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"configmaps \"x\" not found","reason":"NotFound","code":404})",
                                     "GET /api/v1/namespaces/a/configmaps/x");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(e.not_found());
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_EQ(e.reason(), "NotFound");
  EXPECT_STREQ(e.what(), "GET /api/v1/namespaces/a/configmaps/x: configmaps \"x\" not found");
  EXPECT_FALSE(e.retryable());
}

TEST(ErrorsTest, AlreadyExistsVersusConflict) {
  EXPECT_EQ(error_from_response(409, R"({"kind":"Status","reason":"AlreadyExists","message":"m"})")
                .code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(
      error_from_response(409, R"({"kind":"Status","reason":"Conflict","message":"m"})").code(),
      ErrorCode::kConflict);
}

TEST(ErrorsTest, InvalidCarriesCauses) {
  const auto e = error_from_response(422, R"({"kind":"Status","reason":"Invalid",
    "message":"ConfigMap \"B\" is invalid","details":{"name":"B","kind":"configmaps",
    "causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \"B\"","field":"metadata.name"}]}})");
  EXPECT_EQ(e.code(), ErrorCode::kInvalid);
  ASSERT_EQ(e.causes().size(), 1u);
  EXPECT_EQ(e.causes()[0].field, "metadata.name");
  EXPECT_EQ(e.causes()[0].reason, "FieldValueInvalid");
}

TEST(ErrorsTest, CodesByStatus) {
  EXPECT_EQ(error_code_for(401, ""), ErrorCode::kUnauthorized);
  EXPECT_EQ(error_code_for(403, "Forbidden"), ErrorCode::kForbidden);
  EXPECT_EQ(error_code_for(410, "Expired"), ErrorCode::kGone);
  EXPECT_EQ(error_code_for(429, ""), ErrorCode::kTooManyRequests);
  EXPECT_EQ(error_code_for(500, ""), ErrorCode::kServerError);
  EXPECT_EQ(error_code_for(503, ""), ErrorCode::kServerError);
  EXPECT_EQ(error_code_for(504, ""), ErrorCode::kTimeout);
  EXPECT_EQ(error_code_for(400, ""), ErrorCode::kBadRequest);
  EXPECT_EQ(error_code_for(418, ""), ErrorCode::kOther);
}

TEST(ErrorsTest, GoneInsideWatchErrorEvent) {
  // A watch ERROR event carries a Status with code 410 in a 200 stream.
  const auto e = error_from_response(
      200, R"j({"kind":"Status","status":"Failure","message":"too old resource version: 1 (99)",
      "reason":"Expired","code":410})j");
  EXPECT_TRUE(e.gone());
  EXPECT_EQ(e.http_status(), 410);
}

TEST(ErrorsTest, RetryAfterAndRetryable) {
  const auto e =
      error_from_response(429, R"({"kind":"Status","reason":"TooManyRequests","message":"slow down",
      "details":{"retryAfterSeconds":3}})");
  EXPECT_EQ(e.code(), ErrorCode::kTooManyRequests);
  ASSERT_TRUE(e.retry_after());
  EXPECT_EQ(e.retry_after()->count(), 3);
  EXPECT_TRUE(e.retryable());
  EXPECT_TRUE(ApiError(ErrorCode::kConnection, 0, "x").retryable());
}

TEST(ErrorsTest, NonStatusBodyAndRedaction) {
  register_secret("s3cr3t-token-value");
  const auto e = error_from_response(502, "bad gateway s3cr3t-token-value\nmore");
  EXPECT_EQ(e.code(), ErrorCode::kServerError);
  const std::string message = e.what();
  EXPECT_NE(message.find("HTTP 502"), std::string::npos);
  EXPECT_EQ(message.find("s3cr3t-token-value"), std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace kolla::kube
