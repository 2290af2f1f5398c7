#include "fencing/agent.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/redact.hpp"

namespace kolla::fencing {
namespace {

struct Call {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

// A runner that records calls and answers from a script of results.
struct FakeRunner {
  std::vector<Call> calls;
  std::function<ProcessResult(const std::vector<std::string>&)> answer;
  CommandRunner runner() {
    return [this](const std::vector<std::string>& argv, const RunOptions& options) {
      calls.push_back({argv, options.extra_env});
      return answer(argv);
    };
  }
};

ProcessResult result(int code, std::string out, std::string err = {}) {
  ProcessResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

TEST(FencingAgent, PowerOutputParsing) {
  EXPECT_EQ(parse_power_output("Chassis Power is off\n"), PowerState::kOff);
  EXPECT_EQ(parse_power_output("Chassis Power is on\n"), PowerState::kOn);
  EXPECT_EQ(parse_power_output("Status: OFF"), PowerState::kOff);
  EXPECT_EQ(parse_power_output("unknown"), PowerState::kUnknown);
  EXPECT_EQ(parse_power_output("offline"), PowerState::kUnknown);
  EXPECT_EQ(parse_power_output(""), PowerState::kUnknown);
}

TEST(FencingAgent, ExpandAndSecretDecoding) {
  EXPECT_EQ(expand("{node}-bmc:{port}/{action}", {{"node", "n1"}, {"action", "off"}}),
            "n1-bmc:{port}/off");
  EXPECT_EQ(base64_decode("c2VjcmV0LXB3"), "secret-pw");
  EXPECT_THROW(base64_decode("*&^"), std::invalid_argument);
  json secret = {{"data", {{"username", "YWRtaW4="}, {"password", "aHVudGVyMi1mZW5jZQ=="}}},
                 {"stringData", {{"token", "tok-12345"}}}};
  Credentials c = credentials_from_secret(secret);
  EXPECT_EQ(c.username(), "admin");
  EXPECT_EQ(c.password(), "hunter2-fence");
  EXPECT_EQ(c.get("token"), "tok-12345");
  // Registered: never printed again.
  EXPECT_EQ(redact("pw is hunter2-fence").find("hunter2-fence"), std::string::npos);
}

TEST(FencingAgent, CommandAgentTemplatesAndEnvironment) {
  AgentConfig config;
  config.type = AgentType::kCommand;
  config.command = {"/opt/fence", "--host={node}", "--bmc={address}", "{action}"};
  Credentials creds;
  creds.values = {{"password", "s3cret-command-pw"}, {"api-key", "k-777777"}};
  register_secret("s3cret-command-pw");
  FakeRunner fake;
  fake.answer = [](const std::vector<std::string>& argv) {
    if (argv.back() == "status") return result(0, "power: off\n");
    return result(0, "");
  };
  CommandAgent agent(config, creds, fake.runner());
  Target t{"node-7", "10.9.9.7"};
  EXPECT_EQ(agent.power_status(t), PowerState::kOff);
  agent.power_off(t);
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[1].argv,
            (std::vector<std::string>{"/opt/fence", "--host=node-7", "--bmc=10.9.9.7", "off"}));
  EXPECT_EQ(fake.calls[1].env.at("FENCE_PASSWORD"), "s3cret-command-pw");
  EXPECT_EQ(fake.calls[1].env.at("FENCE_API_KEY"), "k-777777");
  EXPECT_EQ(fake.calls[1].env.at("FENCE_NODE"), "node-7");
  EXPECT_EQ(fake.calls[1].env.at("FENCE_ACTION"), "off");
  for (const auto& a : fake.calls[1].argv) EXPECT_EQ(a.find("s3cret"), std::string::npos);
}

TEST(FencingAgent, CommandAgentFailuresAreRedactedErrors) {
  AgentConfig config;
  config.command = {"fence", "{action}"};
  register_secret("leaky-password-123");
  FakeRunner fake;
  fake.answer = [](const std::vector<std::string>& argv) {
    if (argv.back() == "status") return result(2, "");  // fence-agents: 2 = off
    return result(1, "", "login failed with leaky-password-123\n");
  };
  CommandAgent agent(config, {}, fake.runner());
  EXPECT_EQ(agent.power_status({"n", ""}), PowerState::kOff);
  try {
    agent.power_off({"n", ""});
    FAIL() << "expected AgentError";
  } catch (const AgentError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exited 1"), std::string::npos) << what;
    EXPECT_EQ(what.find("leaky-password-123"), std::string::npos) << what;
  }
  fake.answer = [](const std::vector<std::string>&) { return result(3, "", "boom"); };
  EXPECT_THROW(agent.power_status({"n", ""}), AgentError);
}

TEST(FencingAgent, CommandAgentRunsARealScript) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("fence-agent-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto script = dir / "fence.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\n"
           "echo \"$2 $1 pw=${FENCE_PASSWORD}\" >> \""
        << (dir / "calls").string()
        << "\"\n"
           "case \"$2\" in\n"
           "  off) touch \""
        << (dir / "off").string()
        << "\" ;;\n"
           "  status) if [ -e \""
        << (dir / "off").string()
        << "\" ]; then echo off; else echo on; fi ;;\n"
           "esac\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  AgentConfig config;
  config.command = {script.string(), "{node}", "{action}"};
  Credentials creds;
  creds.values = {{"password", "real-script-pw"}};
  CommandAgent agent(config, creds);
  EXPECT_EQ(agent.power_status({"n1", ""}), PowerState::kOn);
  agent.power_off({"n1", ""});
  EXPECT_EQ(agent.power_status({"n1", ""}), PowerState::kOff);
  std::ifstream calls(dir / "calls");
  std::string all((std::istreambuf_iterator<char>(calls)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all,
            "status n1 pw=real-script-pw\noff n1 pw=real-script-pw\nstatus n1 pw=real-script-pw\n");
  std::filesystem::remove_all(dir);
}

TEST(FencingAgent, IpmiPasswordOnlyInEnvironment) {
  AgentConfig config;
  config.type = AgentType::kIpmi;
  Credentials creds;
  creds.values = {{"username", "root"}, {"password", "ipmi-pass-999"}};
  FakeRunner fake;
  bool off = false;
  fake.answer = [&](const std::vector<std::string>& argv) {
    if (argv.back() == "off") {
      off = true;
      return result(0, "Chassis Power Control: Down/Off\n");
    }
    return result(0, off ? "Chassis Power is off\n" : "Chassis Power is on\n");
  };
  IpmiAgent agent(config, creds, fake.runner());
  Target t{"compute-1", "10.0.0.201"};
  EXPECT_EQ(agent.power_status(t), PowerState::kOn);
  agent.power_off(t);
  EXPECT_EQ(agent.power_status(t), PowerState::kOff);
  ASSERT_EQ(fake.calls.size(), 3u);
  EXPECT_EQ(fake.calls[1].argv,
            (std::vector<std::string>{"ipmitool", "-I", "lanplus", "-H", "10.0.0.201", "-U", "root",
                                      "-E", "chassis", "power", "off"}));
  for (const auto& call : fake.calls) {
    for (const auto& a : call.argv) EXPECT_EQ(a.find("ipmi-pass"), std::string::npos);
    EXPECT_EQ(call.env.at("IPMI_PASSWORD"), "ipmi-pass-999");
  }
  EXPECT_THROW(agent.power_off({"compute-1", ""}), AgentError);  // no BMC address
}

// A small Redfish BMC: one ComputerSystem, basic auth, ForceOff.
class FakeBmc {
 public:
  FakeBmc(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {
    server_.Get("/redfish/v1/Systems/1",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!authorized(req, res)) return;
                  ++gets;
                  res.set_content(json{{"Id", "1"}, {"PowerState", on ? "On" : "Off"}}.dump(),
                                  "application/json");
                });
    server_.Post("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   if (!authorized(req, res)) return;
                   auto body = json::parse(req.body, nullptr, false);
                   last_reset = body.is_object() ? body.value("ResetType", "") : "";
                   content_type = req.get_header_value("Content-Type");
                   ++resets;
                   if (fail_resets) {
                     res.status = 500;
                     res.set_content(R"({"error":{"message":"BMC busy"}})", "application/json");
                     return;
                   }
                   if (last_reset == "ForceOff") on = false;
                   res.status = 204;
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeBmc() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<bool> on{true};
  std::atomic<bool> fail_resets{false};
  std::atomic<int> gets{0};
  std::atomic<int> resets{0};
  std::string last_reset;
  std::string content_type;

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    const std::string header = req.get_header_value("Authorization");
    const bool basic = header.rfind("Basic ", 0) == 0;
    if (!basic || base64_decode(header.substr(6)) != user_ + ":" + password_) {
      res.status = 401;
      res.set_content(R"({"error":"unauthorized"})", "application/json");
      return false;
    }
    return true;
  }
  std::string user_;
  std::string password_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

AgentConfig redfish_config(const std::string& url) {
  AgentConfig c;
  c.type = AgentType::kRedfish;
  c.endpoint = url;
  c.system_path = "/redfish/v1/Systems/1";
  c.timeout = std::chrono::milliseconds(5000);
  return c;
}

TEST(FencingAgent, RedfishForceOffAgainstFakeBmc) {
  FakeBmc bmc("fence", "redfish-pw-4242");
  Credentials creds;
  creds.values = {{"username", "fence"}, {"password", "redfish-pw-4242"}};
  RedfishAgent agent(redfish_config(bmc.url()), creds);
  Target t{"compute-1", ""};
  EXPECT_EQ(agent.system_url(t), bmc.url() + "/redfish/v1/Systems/1");
  EXPECT_EQ(agent.power_status(t), PowerState::kOn);
  agent.power_off(t);
  EXPECT_EQ(bmc.resets.load(), 1);
  EXPECT_EQ(bmc.last_reset, "ForceOff");
  EXPECT_EQ(bmc.content_type, "application/json");
  EXPECT_EQ(agent.power_status(t), PowerState::kOff);
}

TEST(FencingAgent, RedfishErrorsAreReportedWithoutCredentials) {
  FakeBmc bmc("fence", "right-password-1");
  Credentials wrong;
  wrong.values = {{"username", "fence"}, {"password", "wrong-password-2"}};
  register_secret("wrong-password-2");
  RedfishAgent bad(redfish_config(bmc.url()), wrong);
  try {
    bad.power_status({"n", ""});
    FAIL() << "expected AgentError";
  } catch (const AgentError& e) {
    EXPECT_NE(std::string(e.what()).find("401"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-password-2"), std::string::npos);
  }
  Credentials right;
  right.values = {{"username", "fence"}, {"password", "right-password-1"}};
  RedfishAgent good(redfish_config(bmc.url()), right);
  bmc.fail_resets = true;
  EXPECT_THROW(good.power_off({"n", ""}), AgentError);
  EXPECT_EQ(good.power_status({"n", ""}), PowerState::kOn);
  // Nobody listening.
  RedfishAgent gone(redfish_config("http://127.0.0.1:1"), right);
  EXPECT_THROW(gone.power_status({"n", ""}), AgentError);
}

TEST(FencingAgent, Factory) {
  AgentConfig c;
  c.command = {"true"};
  EXPECT_EQ(make_agent(c, {})->kind(), "command");
  c.type = AgentType::kIpmi;
  EXPECT_EQ(make_agent(c, {})->kind(), "ipmi");
  c.type = AgentType::kRedfish;
  EXPECT_EQ(make_agent(c, {})->kind(), "redfish");
}

}  // namespace
}  // namespace kolla::fencing
