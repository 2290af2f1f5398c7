#pragma once
// Logging set-up: human lines on a terminal, one JSON object per line otherwise.
// Messages pass through redact() so no secret reaches a log.

#include <spdlog/spdlog.h>

#include <string_view>

namespace kolla {

enum class LogFormat { kAuto, kText, kJson };

// Configures the default spdlog logger (stderr). level: trace, debug, info, warn, error.
void init_logging(std::string_view level = "info", LogFormat format = LogFormat::kAuto);

}  // namespace kolla
