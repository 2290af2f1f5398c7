#pragma once
// YAML <-> JSON conversions shared by the spec, the chart renderer and the CLI.
//
// Plain scalars resolve the way Kubernetes reads YAML (sigs.k8s.io/yaml, YAML 1.1 booleans):
// null (~, null, empty), booleans (true/false, yes/no, on/off, y/n in their usual cases),
// integers (decimal, 0x hex, 0o octal), floats (incl. .inf/.nan); quoted scalars stay strings.

#include <yaml-cpp/yaml.h>

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kolla::yaml {

// Malformed YAML: message carries "<source>:<line>:<column>: ...".
struct YamlError : std::runtime_error {
  YamlError(const std::string& message, int line_number, int column_number)
      : std::runtime_error(message), line(line_number), column(column_number) {}
  int line;    // 1-based; 0 when unknown
  int column;  // 1-based; 0 when unknown
};

// Where each node came from: dotted path ("spec.services.nova.values") → 1-based line.
// Array elements are written "path[3]". The root is "".
using LineMap = std::map<std::string, int>;

// Joins a path and a key the way LineMap and error messages spell it.
std::string join_path(const std::string& path, const std::string& key);
std::string index_path(const std::string& path, std::size_t index);

// Converts a parsed node. Aliases are followed; merge keys (<<) are not supported and are
// kept as ordinary keys. Map keys must be scalars (throws YamlError naming the line otherwise).
nlohmann::json to_json(const YAML::Node& node, LineMap* lines = nullptr,
                       const std::string& base_path = "");

// Parses one YAML document (the first if several). Throws YamlError with the line and column
// of the problem; source names the input in the message ("examples/aio.yaml", "<stdin>").
nlohmann::json parse(std::string_view text, std::string_view source, LineMap* lines = nullptr);

// The JSON value a plain (unquoted) scalar denotes.
nlohmann::json resolve_plain_scalar(const std::string& text);

// Emits block-style YAML (no leading "---"); strings that would read back as another type are
// quoted, so parse(emit(x)) == x for every JSON value without NaN.
std::string emit(const nlohmann::json& value);

}  // namespace kolla::yaml
