// `kollakube import` end to end through its CLI11 command: files written, modes, warnings on
// stderr, no password value on any output, exit codes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chart/passwords.hpp"
#include "cli/import_commands.hpp"
#include "spec/spec.hpp"

namespace kolla::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kTestdata = fs::path(KOLLA_SOURCE_DIR) / "src/migrate/testdata";

struct RunResult {
  int code = 0;
  std::string out, err;
};

// Runs `kollakube <args>` with only the import command registered, like apps/kollakube does.
RunResult kollakube(std::vector<std::string> args) {
  CLI::App app{"kollakube"};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("-n,--namespace", global.namespace_);
  add_import_commands(app, global);
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  RunResult run;
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    run.code = e.get_exit_code() == 0 ? kOk : kUsage;
  } catch (const CommandError& e) {
    err << "error: " << e.what() << "\n";
    run.code = e.exit_code;
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

class ImportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kollakube-import-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ImportCommand, WritesTheDeploymentAndThePrivateSecret) {
  const fs::path out = dir_ / "deployment.yaml";
  const fs::path secret = dir_ / "secret.yaml";
  const RunResult run = kollakube({"import", "--globals", (kTestdata / "globals.yml").string(),
                                   "--passwords", (kTestdata / "passwords.yml").string(), "-o",
                                   out.string(), "--secret-out", secret.string(), "-n", "cloud"});
  ASSERT_EQ(run.code, kOk) << run.err;
  const spec::Spec s = spec::load_file(out);
  EXPECT_EQ(s.namespace_, "cloud");
  EXPECT_TRUE(s.is_enabled("cinder"));
  EXPECT_FALSE(s.is_enabled("heat"));

  struct stat st {};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(secret);
  std::ostringstream text;
  text << in.rdbuf();
  const auto parsed = chart::parse_password_secret(text.str(), "secret.yaml");
  EXPECT_EQ(parsed.namespace_, "cloud");
  EXPECT_EQ(parsed.name, s.passwords_secret);
  EXPECT_EQ(parsed.values.at("keystone_admin_password"), "sample-admin-Cc3");

  // Warnings for what was not mapped, on stderr; no value anywhere on the terminal.
  EXPECT_THAT(run.err, HasSubstr("warning: " + (kTestdata / "globals.yml").string() +
                                 ": enable_octavia: 'octavia' is not supported"));
  EXPECT_THAT(run.err, HasSubstr("octavia_database_password: no kolla-kubernetes chart uses it"));
  EXPECT_THAT(run.err, HasSubstr("kollakube genpwd -f " + out.string()));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr("sample-")));
}

TEST_F(ImportCommand, PrintsTheDeploymentToStdout) {
  const RunResult run =
      kollakube({"import", "--globals", (kTestdata / "globals-minimal.yml").string(), "-o", "-"});
  ASSERT_EQ(run.code, kOk) << run.err;
  const spec::Spec s = spec::parse_yaml(run.out, "<stdout>");
  EXPECT_EQ(s.network.internal_address, "192.168.1.250");
  EXPECT_THAT(run.out, HasSubstr("# Not enabled there"));
}

TEST_F(ImportCommand, ExitCodes) {
  const fs::path out = dir_ / "d.yaml";
  EXPECT_EQ(kollakube({"import", "-o", out.string()}).code, kUsage);  // --globals missing
  EXPECT_EQ(
      kollakube({"import", "--globals", (dir_ / "absent.yml").string(), "-o", out.string()}).code,
      kUsage);  // CLI11 checks the file exists
  EXPECT_EQ(kollakube({"import", "--globals", (kTestdata / "globals.yml").string(), "-o",
                       out.string(), "--secret-out", (dir_ / "s.yaml").string()})
                .code,
            kUsage);  // --secret-out without --passwords
  const fs::path bad = dir_ / "bad.yml";
  std::ofstream(bad) << "enable_cinder: perhaps\n";
  EXPECT_EQ(kollakube({"import", "--globals", bad.string(), "-o", out.string()}).code,
            kInvalidInput);
  EXPECT_FALSE(fs::exists(out)) << "nothing written on bad input";
  ASSERT_EQ(
      kollakube({"import", "--globals", (kTestdata / "globals.yml").string(), "-o", out.string()})
          .code,
      kOk);
  // An existing file is replaced only with --force.
  EXPECT_EQ(
      kollakube({"import", "--globals", (kTestdata / "globals.yml").string(), "-o", out.string()})
          .code,
      kUsage);
  EXPECT_EQ(kollakube({"import", "--globals", (kTestdata / "globals.yml").string(), "-o",
                       out.string(), "--force"})
                .code,
            kOk);
}

}  // namespace
}  // namespace kolla::cli
