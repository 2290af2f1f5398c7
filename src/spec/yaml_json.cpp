#include "spec/yaml_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <regex>
#include <sstream>

namespace kolla::yaml {
namespace {

bool one_of(const std::string& text, std::initializer_list<const char*> words) {
  return std::any_of(words.begin(), words.end(), [&](const char* w) { return text == w; });
}

std::optional<nlohmann::json> parse_integer(const std::string& text) {
  static const std::regex kDecimal{R"(^[-+]?[0-9]+$)"};
  static const std::regex kHex{R"(^0x[0-9a-fA-F]+$)"};
  static const std::regex kOctal{R"(^0o[0-7]+$)"};
  int base = 10;
  std::string digits = text;
  if (std::regex_match(text, kHex)) {
    base = 16;
    digits = text.substr(2);
  } else if (std::regex_match(text, kOctal)) {
    base = 8;
    digits = text.substr(2);
  } else if (!std::regex_match(text, kDecimal)) {
    return std::nullopt;
  }
  if (!digits.empty() && digits.front() == '+') digits.erase(0, 1);
  const char* begin = digits.data();
  const char* end = digits.data() + digits.size();
  std::int64_t signed_value = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, signed_value, base);
      ec == std::errc() && ptr == end) {
    return nlohmann::json(signed_value);
  }
  std::uint64_t unsigned_value = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, unsigned_value, base);
      ec == std::errc() && ptr == end) {
    return nlohmann::json(unsigned_value);
  }
  return std::nullopt;  // too large: read as a float below
}

std::optional<nlohmann::json> parse_float(const std::string& text) {
  static const std::regex kFloat{R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)"};
  if (one_of(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return nlohmann::json(std::numeric_limits<double>::infinity());
  }
  if (one_of(text, {"-.inf", "-.Inf", "-.INF"})) {
    return nlohmann::json(-std::numeric_limits<double>::infinity());
  }
  if (one_of(text, {".nan", ".NaN", ".NAN"})) {
    return nlohmann::json(std::numeric_limits<double>::quiet_NaN());
  }
  if (!std::regex_match(text, kFloat)) return std::nullopt;
  try {
    return nlohmann::json(std::stod(text));
  } catch (const std::out_of_range&) {
    return nlohmann::json(text.front() == '-' ? -std::numeric_limits<double>::infinity()
                                              : std::numeric_limits<double>::infinity());
  }
}

std::string where(std::string_view source, const YAML::Mark& mark) {
  std::ostringstream out;
  out << source;
  if (!mark.is_null()) out << ':' << mark.line + 1 << ':' << mark.column + 1;
  return out.str();
}

void emit_value(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        emit_value(out, nlohmann::json(key));
        out << YAML::Value;
        emit_value(out, item);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) emit_value(out, item);
      out << YAML::EndSeq;
      return;
    case nlohmann::json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      const bool multiline = text.find('\n') != std::string::npos;
      // A literal block keeps exactly one final newline ("clip"); other shapes are quoted.
      const bool literal_fits = multiline && text.size() >= 2 && text.back() == '\n' &&
                                text[text.size() - 2] != '\n' && text.front() != ' ' &&
                                text.find_first_of("\r\t") == std::string::npos;
      if (literal_fits) {
        out << YAML::Literal << text;
      } else if (multiline) {
        out << YAML::DoubleQuoted << text;
      } else if (!resolve_plain_scalar(text).is_string()) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;  // yaml-cpp quotes it further when a plain scalar cannot hold it
      }
      return;
    }
    case nlohmann::json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      return;
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out << YAML::Null;
      return;
    case nlohmann::json::value_t::number_float: {
      double d = value.get<double>();
      if (std::isinf(d)) {
        out << (d > 0 ? ".inf" : "-.inf");
      } else if (std::isnan(d)) {
        out << ".nan";
      } else {
        out << value.dump();
      }
      return;
    }
    default:  // integers
      out << value.dump();
      return;
  }
}

}  // namespace

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

nlohmann::json resolve_plain_scalar(const std::string& text) {
  if (text.empty() || one_of(text, {"~", "null", "Null", "NULL"})) return nullptr;
  if (one_of(text, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) {
    return true;
  }
  if (one_of(text, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) {
    return false;
  }
  if (auto integer = parse_integer(text)) return *integer;
  if (auto real = parse_float(text)) return *real;
  return text;
}

nlohmann::json to_json(const YAML::Node& node, LineMap* lines, const std::string& base_path) {
  if (lines != nullptr && !node.Mark().is_null()) {
    lines->emplace(base_path, node.Mark().line + 1);
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // "!" marks a quoted (non-plain) scalar; explicit tags such as !!str also keep the text.
      if (node.Tag() == "?") return resolve_plain_scalar(node.Scalar());
      if (node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "tag:yaml.org,2002:float" ||
          node.Tag() == "tag:yaml.org,2002:bool" || node.Tag() == "tag:yaml.org,2002:null") {
        return resolve_plain_scalar(node.Scalar());
      }
      return node.Scalar();
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      std::size_t index = 0;
      for (const auto& item : node) {
        out.push_back(to_json(item, lines, index_path(base_path, index)));
        ++index;
      }
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          const auto mark = entry.first.Mark();
          throw YamlError("line " + std::to_string(mark.line + 1) +
                              ": mapping keys must be scalars" +
                              (base_path.empty() ? "" : " (under " + base_path + ")"),
                          mark.line + 1, mark.column + 1);
        }
        const std::string key = entry.first.Scalar();
        const std::string path = join_path(base_path, key);
        out[key] = to_json(entry.second, lines, path);
        if (lines != nullptr && !entry.first.Mark().is_null()) {
          (*lines)[path] = entry.first.Mark().line + 1;  // the key's line reads best in errors
        }
      }
      return out;
    }
  }
  return nullptr;
}

nlohmann::json parse(std::string_view text, std::string_view source, LineMap* lines) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw YamlError(where(source, e.mark) + ": malformed YAML: " + e.msg,
                    e.mark.is_null() ? 0 : e.mark.line + 1,
                    e.mark.is_null() ? 0 : e.mark.column + 1);
  }
  try {
    return to_json(node, lines);
  } catch (const YamlError& e) {
    throw YamlError(std::string(source) + ":" + std::to_string(e.line) + ":" +
                        std::to_string(e.column) + ": malformed YAML: " + e.what(),
                    e.line, e.column);
  }
}

std::string emit(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit_value(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace kolla::yaml
