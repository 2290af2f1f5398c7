#include "fencing/agent.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "common/redact.hpp"

namespace kolla::fencing {

std::string_view to_string(PowerState state) {
  switch (state) {
    case PowerState::kOn:
      return "on";
    case PowerState::kOff:
      return "off";
    case PowerState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

AgentError::AgentError(const std::string& message) : std::runtime_error(redact(message)) {}

std::string Credentials::get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? std::string{} : it->second;
}

std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const int v = value(c);
    if (v < 0) throw std::invalid_argument("invalid base64 in Secret data");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFFu));
    }
  }
  return out;
}

Credentials credentials_from_secret(const json& secret) {
  Credentials c;
  if (secret.contains("data") && secret["data"].is_object()) {
    for (const auto& [k, v] : secret["data"].items()) {
      if (v.is_string()) c.values[k] = base64_decode(v.get<std::string>());
    }
  }
  if (secret.contains("stringData") && secret["stringData"].is_object()) {
    for (const auto& [k, v] : secret["stringData"].items()) {
      if (v.is_string()) c.values[k] = v.get<std::string>();
    }
  }
  for (const auto& [k, v] : c.values) {
    if (k != "username" && k != "user") register_secret(v);
  }
  return c;
}

std::string expand(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      const auto close = text.find('}', i);
      if (close != std::string::npos) {
        auto it = vars.find(text.substr(i + 1, close - i - 1));
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

PowerState parse_power_output(std::string_view text) {
  std::string word;
  bool on = false;
  auto flush = [&]() -> bool {
    std::string w = word;
    word.clear();
    if (w == "off") return true;
    if (w == "on") on = true;
    return false;
  };
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (flush()) {
      return PowerState::kOff;
    }
  }
  if (flush()) return PowerState::kOff;
  return on ? PowerState::kOn : PowerState::kUnknown;
}

CommandRunner default_runner() {
  return [](const std::vector<std::string>& argv, const RunOptions& options) {
    return run_process(argv, options);
  };
}

namespace {

std::string env_name(const std::string& key) {
  std::string out = "FENCE_";
  for (char c : key) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c))
                      ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                      : '_');
  }
  return out;
}

std::string tail(const ProcessResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() > 300) text = "..." + text.substr(text.size() - 300);
  return redact(text);
}

ProcessResult run_checked_start(const CommandRunner& runner, const std::vector<std::string>& argv,
                                const RunOptions& options) {
  try {
    return runner(argv, options);
  } catch (const std::exception& e) {
    throw AgentError("cannot run " + argv.front() + ": " + e.what());
  }
}

}  // namespace

CommandAgent::CommandAgent(AgentConfig config, Credentials credentials, CommandRunner runner)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      runner_(std::move(runner)) {}

std::vector<std::string> CommandAgent::argv_for(const Target& target,
                                                const std::string& action) const {
  const std::map<std::string, std::string> vars{
      {"node", target.node}, {"action", action}, {"address", target.address}};
  std::vector<std::string> argv;
  for (const auto& a : config_.command) argv.push_back(expand(a, vars));
  return argv;
}

std::map<std::string, std::string> CommandAgent::env() const {
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : credentials_.values) env[env_name(k)] = v;
  return env;
}

ProcessResult CommandAgent::run(const Target& target, const std::string& action) {
  RunOptions options;
  options.timeout = config_.timeout;
  options.extra_env = env();
  options.extra_env["FENCE_NODE"] = target.node;
  options.extra_env["FENCE_ACTION"] = action;
  if (!target.address.empty()) options.extra_env["FENCE_ADDRESS"] = target.address;
  return run_checked_start(runner_, argv_for(target, action), options);
}

void CommandAgent::power_off(const Target& target) {
  auto r = run(target, "off");
  if (r.timed_out) throw AgentError("fence command timed out");
  if (r.exit_code != 0) {
    throw AgentError("fence command exited " + std::to_string(r.exit_code) + ": " + tail(r));
  }
}

PowerState CommandAgent::power_status(const Target& target) {
  auto r = run(target, "status");
  if (r.timed_out) throw AgentError("fence status command timed out");
  if (r.exit_code == 2) return PowerState::kOff;
  if (r.exit_code != 0) {
    throw AgentError("fence status command exited " + std::to_string(r.exit_code) + ": " + tail(r));
  }
  return parse_power_output(r.out);
}

IpmiAgent::IpmiAgent(AgentConfig config, Credentials credentials, CommandRunner runner)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      runner_(std::move(runner)) {}

std::vector<std::string> IpmiAgent::argv_for(const Target& target,
                                             const std::string& action) const {
  std::vector<std::string> argv{config_.ipmitool, "-I", config_.interface, "-H", target.address};
  if (!credentials_.username().empty()) {
    argv.push_back("-U");
    argv.push_back(credentials_.username());
  }
  argv.push_back("-E");  // the password from IPMI_PASSWORD
  argv.push_back("chassis");
  argv.push_back("power");
  argv.push_back(action);
  return argv;
}

ProcessResult IpmiAgent::run(const Target& target, const std::string& action) {
  if (target.address.empty()) throw AgentError("no BMC address for node " + target.node);
  RunOptions options;
  options.timeout = config_.timeout;
  options.extra_env["IPMI_PASSWORD"] = credentials_.password();
  return run_checked_start(runner_, argv_for(target, action), options);
}

void IpmiAgent::power_off(const Target& target) {
  auto r = run(target, "off");
  if (r.timed_out) throw AgentError("ipmitool timed out");
  if (r.exit_code != 0) {
    throw AgentError("ipmitool power off exited " + std::to_string(r.exit_code) + ": " + tail(r));
  }
}

PowerState IpmiAgent::power_status(const Target& target) {
  auto r = run(target, "status");
  if (r.timed_out) throw AgentError("ipmitool timed out");
  if (r.exit_code != 0) {
    throw AgentError("ipmitool power status exited " + std::to_string(r.exit_code) + ": " +
                     tail(r));
  }
  return parse_power_output(r.out);
}

RedfishAgent::RedfishAgent(AgentConfig config, Credentials credentials)
    : config_(std::move(config)), credentials_(std::move(credentials)) {}

std::string RedfishAgent::system_url(const Target& target) const {
  std::string base = expand(config_.endpoint, {{"node", target.node}, {"address", target.address}});
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string path = config_.system_path;
  if (path.empty() || path.front() != '/') path = "/" + path;
  return base + path;
}

namespace {

struct HttpAnswer {
  long status = 0;
  std::string body;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

HttpAnswer redfish_request(const AgentConfig& config, const Credentials& credentials,
                           const std::string& method, const std::string& url,
                           const std::string& body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw AgentError("curl_easy_init failed");
  HttpAnswer answer;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  const std::string user = credentials.username();
  const std::string password = credentials.password();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  if (config.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, config.ca_file.c_str());
  }
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    throw AgentError("redfish " + method + " " + url + ": " + curl_easy_strerror(rc));
  }
  return answer;
}

std::string short_body(const std::string& body) {
  std::string text = body.size() > 300 ? body.substr(0, 300) + "..." : body;
  return redact(text);
}

}  // namespace

void RedfishAgent::power_off(const Target& target) {
  const std::string url = system_url(target) + "/Actions/ComputerSystem.Reset";
  const auto answer =
      redfish_request(config_, credentials_, "POST", url, R"({"ResetType":"ForceOff"})");
  if (answer.status < 200 || answer.status >= 300) {
    throw AgentError("redfish ForceOff answered HTTP " + std::to_string(answer.status) + ": " +
                     short_body(answer.body));
  }
}

PowerState RedfishAgent::power_status(const Target& target) {
  const auto answer = redfish_request(config_, credentials_, "GET", system_url(target), "");
  if (answer.status != 200) {
    throw AgentError("redfish GET system answered HTTP " + std::to_string(answer.status) + ": " +
                     short_body(answer.body));
  }
  auto j = json::parse(answer.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw AgentError("redfish system is not JSON");
  const std::string state = j.value("PowerState", "");
  if (state == "Off") return PowerState::kOff;
  if (state == "On" || state == "PoweringOn" || state == "PoweringOff" || state == "Paused") {
    return PowerState::kOn;
  }
  return PowerState::kUnknown;
}

std::unique_ptr<FenceAgent> make_agent(const AgentConfig& config, Credentials credentials,
                                       CommandRunner runner) {
  switch (config.type) {
    case AgentType::kCommand:
      return std::make_unique<CommandAgent>(config, std::move(credentials), std::move(runner));
    case AgentType::kIpmi:
      return std::make_unique<IpmiAgent>(config, std::move(credentials), std::move(runner));
    case AgentType::kRedfish:
      return std::make_unique<RedfishAgent>(config, std::move(credentials));
  }
  throw AgentError("unknown agent type");
}

}  // namespace kolla::fencing
