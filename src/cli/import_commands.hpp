#pragma once
// kollakube import: migration from kolla-ansible (docs/migration.md). Registered from
// apps/kollakube/main.cpp with add_import_commands(app, global).

#include "cli/cli.hpp"

namespace kolla::cli {

void add_import_commands(CLI::App& app, GlobalOptions& global);  // import

}  // namespace kolla::cli
