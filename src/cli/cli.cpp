#include "cli/cli.hpp"
