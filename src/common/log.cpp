#include "common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/redact.hpp"

namespace kolla {
namespace {

// A stderr sink that redacts, and writes JSON lines when asked.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(bool json) : json_(json) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    if (json_) {
      auto seconds = std::chrono::duration<double>(msg.time.time_since_epoch()).count();
      nlohmann::json line = {{"ts", seconds},
                             {"level", spdlog::level::to_string_view(msg.level).data()},
                             {"msg", text}};
      if (msg.logger_name.size() > 0) {
        line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
      }
      std::cerr << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      spdlog::details::log_msg copy(msg);
      copy.payload = text;
      spdlog::memory_buf_t formatted;
      formatter_->format(copy, formatted);
      std::cerr.write(formatted.data(), static_cast<std::streamsize>(formatted.size()));
    }
  }
  void flush_() override { std::cerr.flush(); }

 private:
  bool json_;
};

}  // namespace

void init_logging(std::string_view level, LogFormat format) {
  bool json = format == LogFormat::kJson || (format == LogFormat::kAuto && !isatty(STDERR_FILENO));
  auto sink = std::make_shared<RedactingSink>(json);
  sink->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  auto logger = std::make_shared<spdlog::logger>("kolla", sink);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace kolla
