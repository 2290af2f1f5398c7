#pragma once
// Typed API errors. The message comes from the server's Status object and never holds a token.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::kube {

enum class ErrorCode {
  kBadRequest,            // 400 (other than Invalid)
  kUnauthorized,          // 401
  kForbidden,             // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kAlreadyExists,         // 409 reason AlreadyExists
  kConflict,              // 409 (resourceVersion or apply conflict)
  kGone,                  // 410 (resourceVersion too old: re-list)
  kUnsupportedMediaType,  // 415
  kInvalid,               // 422, with causes
  kTooManyRequests,       // 429
  kServerError,           // 5xx
  kTimeout,               // the call ran past its timeout (ours or the server's 504)
  kConnection,            // no HTTP answer: DNS, refused, TLS handshake, connection cut
  kCancelled,             // cancelled by the caller (watch)
  kOther,                 // any other status
};

std::string_view to_string(ErrorCode code);

// One entry of Status.details.causes.
struct StatusCause {
  std::string reason;  // e.g. FieldValueRequired
  std::string message;
  std::string field;  // e.g. spec.containers[0].image
};

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorCode code, int http_status, std::string message, std::string reason = {},
           std::vector<StatusCause> causes = {},
           std::optional<std::chrono::seconds> retry_after = std::nullopt);

  ErrorCode code() const { return code_; }
  int http_status() const { return http_status_; }       // 0 when no HTTP answer
  const std::string& reason() const { return reason_; }  // Status.reason, e.g. "AlreadyExists"
  const std::vector<StatusCause>& causes() const { return causes_; }
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

  bool not_found() const { return code_ == ErrorCode::kNotFound; }
  bool already_exists() const { return code_ == ErrorCode::kAlreadyExists; }
  bool conflict() const { return code_ == ErrorCode::kConflict; }
  bool gone() const { return code_ == ErrorCode::kGone; }
  // Connection errors, 5xx, 429 and timeouts: worth retrying.
  bool retryable() const;

 private:
  ErrorCode code_;
  int http_status_;
  std::string reason_;
  std::vector<StatusCause> causes_;
  std::optional<std::chrono::seconds> retry_after_;
};

// The error for a non-2xx answer. body is usually a Status object; when it is not, the message
// is built from the status code and a (redacted, shortened) body. context such as
// "GET /api/v1/namespaces/x/pods/y" prefixes the message.
ApiError error_from_response(int http_status, std::string_view body, std::string_view context = {},
                             std::optional<std::chrono::seconds> retry_after = std::nullopt);

// Maps an HTTP status code and Status.reason to the code.
ErrorCode error_code_for(int http_status, std::string_view reason);

}  // namespace kolla::kube
