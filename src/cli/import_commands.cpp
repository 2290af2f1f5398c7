// kollakube import: a kolla-ansible globals.yml (and passwords.yml) → an
// OpenStackDeployment file (and the passwords Secret manifest). The mapping
// lives in src/migrate; this file reads and writes the files and reports.
// Password values are never printed.

#include "cli/import_commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "chart/passwords.hpp"
#include "common/process.hpp"
#include "migrate/migrate.hpp"

namespace kolla::cli {
namespace {

namespace fs = std::filesystem;

struct ImportOptions {
  std::string globals;
  std::string passwords;
  std::string output;
  std::string secret_out;
  std::string name = "openstack";
  std::string charts;
  bool force = false;
};

std::string read_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CommandError(kInvalidInput, path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes atomically (a temp file beside it, then rename) with the given mode.
void write_file(const fs::path& path, const std::string& text, mode_t mode, bool force) {
  std::error_code ec;
  if (!force && fs::exists(path, ec)) {
    throw CommandError(kUsage, path.string() + " exists (pass --force to replace it)");
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    throw CommandError(kFailed, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd, mode);
  bool ok = true;
  const char* data = text.data();
  std::size_t left = text.size();
  while (ok && left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n <= 0) {
      ok = false;
    } else {
      data += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (ok) fs::rename(name.data(), path, ec);
  if (!ok || ec) {
    fs::remove(name.data(), ec);
    throw CommandError(kFailed, "cannot write " + path.string());
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void run_import(const ImportOptions& options, const GlobalOptions& global) {
  migrate::ImportOptions mapping;
  mapping.name = options.name;
  if (!global.namespace_.empty()) mapping.namespace_ = global.namespace_;

  migrate::GlobalsImport globals;
  try {
    globals = migrate::import_globals(read_input(options.globals), options.globals, mapping);
  } catch (const migrate::MigrateError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
  // Read and map the passwords before writing anything, so that bad input
  // writes nothing.
  std::optional<migrate::PasswordsImport> passwords;
  fs::path secret_out;
  if (!options.passwords.empty()) {
    const fs::path charts = options.charts.empty() ? fs::path(kolla::source_dir()) / "charts"
                                                   : fs::path(options.charts);
    std::set<std::string> wanted = chart::contract_password_keys();
    for (const auto& key : chart::password_keys_in_charts(charts)) wanted.insert(key);
    const nlohmann::json& spec = globals.deployment["spec"];
    try {
      passwords =
          migrate::import_passwords(read_input(options.passwords), options.passwords, wanted,
                                    spec.value("passwordsSecret", "openstack-passwords"),
                                    globals.deployment["metadata"].value("namespace", "openstack"));
    } catch (const migrate::MigrateError& e) {
      throw CommandError(kInvalidInput, e.what());
    }
    secret_out = !options.secret_out.empty() ? fs::path(options.secret_out)
                 : options.output == "-"
                     ? fs::path("passwords-secret.yaml")
                     : fs::path(options.output).parent_path() / "passwords-secret.yaml";
  } else if (!options.secret_out.empty()) {
    throw CommandError(kUsage, "--secret-out needs --passwords");
  }

  for (const auto& w : globals.warnings)
    std::cerr << "warning: " << options.globals << ": " << w << "\n";
  if (passwords) {
    for (const auto& w : passwords->warnings) {
      std::cerr << "warning: " << options.passwords << ": " << w << "\n";
    }
  }

  const std::string yaml = globals.to_yaml(fs::path(options.globals).filename().string());
  if (options.output == "-") {
    std::cout << yaml << std::flush;
  } else {
    write_file(options.output, yaml, 0644, options.force);
    std::cerr << "wrote " << options.output << ": OpenStackDeployment "
              << globals.deployment["metadata"].value("namespace", "") << "/"
              << globals.deployment["metadata"].value("name", "") << " with "
              << globals.enabled.size() << " services (" << join(globals.enabled) << ")\n";
  }
  if (passwords) {
    write_file(secret_out, chart::to_manifest(passwords->secret), 0600, options.force);
    std::cerr << "wrote " << secret_out.string() << " (mode 0600): Secret "
              << passwords->secret.namespace_ << "/" << passwords->secret.name << " with "
              << passwords->secret.values.size() << " passwords from " << options.passwords << "\n";
    const std::size_t to_generate = passwords->missing.size() + passwords->empty.size();
    if (to_generate > 0) {
      std::cerr << "note: " << to_generate << " keys the charts use are not in "
                << options.passwords
                << " (e.g. the Keystone fernet keys); add them, keeping the "
                   "imported values, with:\n"
                << "  kollakube genpwd -f "
                << (options.output == "-" ? "DEPLOYMENT" : options.output) << " -o "
                << secret_out.string() << "\n";
    }
  }
}

}  // namespace

void add_import_commands(CLI::App& app, GlobalOptions& global) {
  auto options = std::make_shared<ImportOptions>();
  auto* import = app.add_subcommand("import",
                                    "Convert a kolla-ansible globals.yml (and "
                                    "passwords.yml) into an OpenStackDeployment "
                                    "(and the passwords Secret)");
  import->add_option("--globals", options->globals, "kolla-ansible globals.yml")
      ->required()
      ->check(CLI::ExistingFile);
  import
      ->add_option("--passwords", options->passwords,
                   "kolla-ansible passwords.yml (values are never printed)")
      ->check(CLI::ExistingFile);
  import
      ->add_option("-o,--output", options->output,
                   "OpenStackDeployment file to write ('-': stdout)")
      ->required();
  import->add_option("--secret-out", options->secret_out,
                     "passwords Secret manifest to write, mode 0600 (default: "
                     "passwords-secret.yaml beside --output)");
  import->add_option("--name", options->name, "metadata.name of the deployment")
      ->capture_default_str();
  import->add_option("--charts", options->charts,
                     "Charts directory: which password keys they use (default: "
                     "<source dir>/charts)");
  import->add_flag("--force", options->force, "Replace files that exist");
  import->fallthrough();
  import->callback([options, &global] { run_import(*options, global);
});
}  // namespace kolla::cli

}  // namespace kolla::cli
