#include "kube/errors.hpp"

#include <nlohmann/json.hpp>

#include "common/redact.hpp"

namespace kolla::kube {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "BadRequest";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kGone:
      return "Gone";
    case ErrorCode::kUnsupportedMediaType:
      return "UnsupportedMediaType";
    case ErrorCode::kInvalid:
      return "Invalid";
    case ErrorCode::kTooManyRequests:
      return "TooManyRequests";
    case ErrorCode::kServerError:
      return "ServerError";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kConnection:
      return "Connection";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kOther:
      return "Other";
  }
  return "Other";
}

ApiError::ApiError(ErrorCode code, int http_status, std::string message, std::string reason,
                   std::vector<StatusCause> causes, std::optional<std::chrono::seconds> retry_after)
    : std::runtime_error(redact(message)),
      code_(code),
      http_status_(http_status),
      reason_(std::move(reason)),
      causes_(std::move(causes)),
      retry_after_(retry_after) {}

bool ApiError::retryable() const {
  switch (code_) {
    case ErrorCode::kConnection:
    case ErrorCode::kServerError:
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kTimeout:
      return true;
    default:
      return false;
  }
}

ErrorCode error_code_for(int http_status, std::string_view reason) {
  switch (http_status) {
    case 400:
      return ErrorCode::kBadRequest;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 405:
      return ErrorCode::kMethodNotAllowed;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 415:
      return ErrorCode::kUnsupportedMediaType;
    case 422:
      return ErrorCode::kInvalid;
    case 429:
      return ErrorCode::kTooManyRequests;
    case 504:
      return ErrorCode::kTimeout;
    default:
      break;
  }
  if (reason == "Expired" || reason == "Gone") return ErrorCode::kGone;
  if (reason == "Timeout") return ErrorCode::kTimeout;
  if (http_status >= 500 && http_status < 600) return ErrorCode::kServerError;
  return ErrorCode::kOther;
}

ApiError error_from_response(int http_status, std::string_view body, std::string_view context,
                             std::optional<std::chrono::seconds> retry_after) {
  std::string reason;
  std::string message;
  std::vector<StatusCause> causes;
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    reason = parsed.value("reason", "");
    message = parsed.value("message", "");
    if (const auto details = parsed.find("details");
        details != parsed.end() && details->is_object()) {
      if (const auto list = details->find("causes"); list != details->end() && list->is_array()) {
        for (const auto& cause : *list) {
          if (!cause.is_object()) continue;
          causes.push_back(
              {cause.value("reason", ""), cause.value("message", ""), cause.value("field", "")});
        }
      }
      if (!retry_after) {
        if (const auto secs = details->find("retryAfterSeconds");
            secs != details->end() && secs->is_number_integer()) {
          retry_after = std::chrono::seconds(secs->get<int>());
        }
      }
    }
    if (const auto code = parsed.find("code");
        http_status == 200 && code != parsed.end() && code->is_number_integer()) {
      http_status = code->get<int>();  // a Status inside a watch ERROR event
    }
  }
  if (message.empty()) {
    std::string text(body.substr(0, 300));
    for (auto& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    message = "HTTP " + std::to_string(http_status) + (text.empty() ? "" : ": " + text);
  }
  std::string full;
  if (!context.empty()) {
    full += context;
    full += ": ";
  }
  full += message;
  const ErrorCode code = error_code_for(http_status, reason);
  return ApiError(code, http_status, std::move(full), std::move(reason), std::move(causes),
                  retry_after);
}

}  // namespace kolla::kube
