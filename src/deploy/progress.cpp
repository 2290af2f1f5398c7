#include "deploy/progress.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>
#include <stdexcept>

namespace kolla::deploy {

namespace {

const json* find_condition(const json& object, const std::string& type) {
  const auto ptr = json::json_pointer("/status/conditions");
  if (!object.is_object() || !object.contains(ptr) || !object.at(ptr).is_array()) return nullptr;
  for (const auto& c : object.at(ptr)) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool condition_true(const json& object, const std::string& type) {
  const json* c = find_condition(object, type);
  return c != nullptr && c->value("status", "") == "True";
}

std::string str_at(const json& object, const char* pointer) {
  const auto ptr = json::json_pointer(pointer);
  if (!object.is_object() || !object.contains(ptr)) return {};
  const json& v = object.at(ptr);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

std::int64_t int_at(const json& object, const char* pointer, std::int64_t fallback) {
  const auto ptr = json::json_pointer(pointer);
  if (!object.is_object() || !object.contains(ptr)) return fallback;
  const json& v = object.at(ptr);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

// Ready for the generation the controller last saw.
bool current_and_ready(const json& object) {
  const std::int64_t generation = int_at(object, "/metadata/generation", 0);
  const std::int64_t observed = int_at(object, "/status/observedGeneration", -1);
  return observed >= generation && condition_true(object, "Ready");
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string cut(const std::string& text, std::size_t max) {
  if (max == 0 || text.size() <= max) return text;
  if (max <= 3) return text.substr(0, max);
  return text.substr(0, max - 3) + "...";
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

ServiceRow row_from_service(const json& svc, std::int64_t now) {
  ServiceRow row;
  row.name = str_at(svc, "/metadata/name");
  row.created = true;
  row.phase = str_at(svc, "/status/phase");
  if (row.phase.empty()) row.phase = "Pending";
  row.ready = current_and_ready(svc);
  row.waiting_on = row.ready ? std::string{} : str_at(svc, "/status/waitingOn");
  row.step = str_at(svc, "/status/currentStep");
  if (const json* c = find_condition(svc, "Ready")) row.message = c->value("message", "");
  if (!str_at(svc, "/metadata/deletionTimestamp").empty()) row.phase = "Deleting";
  if (auto created = parse_timestamp(str_at(svc, "/metadata/creationTimestamp"))) {
    std::int64_t end = now;
    if (row.ready) {
      if (const json* c = find_condition(svc, "Ready")) {
        if (auto at = parse_timestamp(c->value("lastTransitionTime", ""))) end = *at;
      }
    }
    row.elapsed = std::max<std::int64_t>(0, end - *created);
  }
  return row;
}

}  // namespace

std::optional<std::int64_t> parse_timestamp(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  }
  std::int64_t offset = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (text[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (i >= text.size() || (text[i] != 'Z' && text[i] != 'z')) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

std::string format_duration(std::int64_t seconds) {
  if (seconds < 0) return "-";
  char buffer[32];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%llds", static_cast<long long>(seconds));
  } else if (seconds < 3600) {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>((seconds % 3600) / 60));
  }
  return buffer;
}

DeploymentView make_view(const json& osd, const std::vector<json>& services, std::int64_t now) {
  DeploymentView view;
  std::map<std::string, const json*> by_name;
  for (const auto& s : services) by_name[str_at(s, "/metadata/name")] = &s;
  if (osd.is_object()) {
    view.exists = true;
    view.name = str_at(osd, "/metadata/name");
    view.namespace_ = str_at(osd, "/metadata/namespace");
    view.ready = current_and_ready(osd);
    view.degraded = condition_true(osd, "Degraded");
    view.invalid_spec = condition_true(osd, "InvalidSpec");
    view.deleting = !str_at(osd, "/metadata/deletionTimestamp").empty();
    if (const json* c = find_condition(osd, "Ready")) {
      view.reason = c->value("reason", "");
      view.message = c->value("message", "");
    }
    const auto entries_ptr = json::json_pointer("/status/services");
    if (osd.contains(entries_ptr) && osd.at(entries_ptr).is_array()) {
      for (const auto& entry : osd.at(entries_ptr)) {
        const std::string name = entry.value("name", "");
        if (name.empty()) continue;
        ServiceRow row;
        auto it = by_name.find(name);
        if (it != by_name.end()) {
          row = row_from_service(*it->second, now);
          by_name.erase(it);
        } else {
          row.name = name;
          row.phase = entry.value("phase", "Pending");
          if (row.phase == "WaitingForDependency") {
            std::vector<std::string> deps;
            for (const auto& d : entry.value("waitingOn", json::array())) {
              if (d.is_string()) deps.push_back(d.get<std::string>());
            }
            if (!deps.empty()) row.waiting_on = "deps: " + join(deps, ", ");
          }
          row.message = entry.value("message", "");
        }
        if (entry.contains("wave") && entry["wave"].is_number_integer()) {
          row.wave = entry["wave"].get<int>();
        }
        view.services.push_back(std::move(row));
      }
    }
  }
  // Services the status does not list yet (the first reconcile has not written it).
  for (const auto& [name, svc] : by_name) view.services.push_back(row_from_service(*svc, now));
  view.total = static_cast<int>(view.services.size());
  for (const auto& row : view.services) view.ready_count += row.ready ? 1 : 0;
  return view;
}

std::string render_progress_bar(int ready, int total, int width) {
  width = std::max(width, 1);
  int filled = total > 0 ? (std::clamp(ready, 0, total) * width) / total : 0;
  std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(width - filled), '.') + "] ";
  return bar + std::to_string(ready) + "/" + std::to_string(total) + " ready";
}

std::string render_table(const DeploymentView& view, std::size_t max_waiting) {
  const std::vector<std::string> headers = {"SERVICE", "PHASE", "READY", "WAITING-ON", "ELAPSED"};
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : view.services) {
    std::string waiting = row.waiting_on.empty() ? "-" : cut(row.waiting_on, max_waiting);
    cells.push_back({row.name, row.phase.empty() ? "-" : row.phase, row.ready ? "yes" : "no",
                     waiting, format_duration(row.elapsed)});
  }
  std::vector<std::size_t> widths;
  for (const auto& h : headers) widths.push_back(h.size());
  for (const auto& r : cells) {
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  }
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string text;
    for (std::size_t i = 0; i < r.size(); ++i) {
      text += i + 1 == r.size() ? r[i] : pad(r[i], widths[i] + 2);
    }
    out << text << "\n";
  };
  line(headers);
  for (const auto& r : cells) line(r);
  return out.str();
}

std::vector<std::string> change_lines(const DeploymentView& before, const DeploymentView& after,
                                      std::int64_t since_start) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "[%5s] ", format_duration(since_start).c_str());
  std::vector<std::string> lines;
  std::map<std::string, const ServiceRow*> old_rows;
  for (const auto& row : before.services) old_rows[row.name] = &row;
  for (const auto& row : after.services) {
    auto it = old_rows.find(row.name);
    const ServiceRow* old = it == old_rows.end() ? nullptr : it->second;
    if (old != nullptr && old->phase == row.phase && old->ready == row.ready &&
        old->waiting_on == row.waiting_on && old->step == row.step) {
      continue;
    }
    std::string text = prefix + row.name + ": ";
    if (row.ready) {
      text += "Ready";
      if (row.elapsed >= 0) text += " after " + format_duration(row.elapsed);
    } else {
      text += row.phase.empty() ? "-" : row.phase;
      if (!row.step.empty()) text += " " + row.step;
      if (!row.waiting_on.empty()) text += ", waiting on " + row.waiting_on;
      if (row.phase == "Failed" && !row.message.empty()) text += ": " + row.message;
    }
    lines.push_back(text);
  }
  if (after.exists && (before.ready_count != after.ready_count || before.total != after.total ||
                       before.ready != after.ready || before.degraded != after.degraded)) {
    std::string text = prefix + render_progress_bar(after.ready_count, after.total, 20);
    if (after.ready) {
      text += " - " + after.name + " Ready";
    } else if (after.degraded) {
      text += " - Degraded: " + after.message;
    }
    lines.push_back(text);
  }
  return lines;
}

Outcome outcome(const DeploymentView& view) {
  if (!view.exists) return Outcome::kMissing;
  if (view.invalid_spec) return Outcome::kInvalidSpec;
  if (view.ready && view.ready_count == view.total) return Outcome::kReady;
  if (view.degraded) return Outcome::kDegraded;
  return Outcome::kInProgress;
}

const ServiceRow* failing_service(const DeploymentView& view) {
  for (const auto& row : view.services) {
    if (row.phase == "Failed") return &row;
  }
  for (const auto& row : view.services) {
    if (row.created && !row.ready) return &row;
  }
  for (const auto& row : view.services) {
    if (!row.ready) return &row;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> parse_waiting_on(const std::string& waiting_on) {
  std::vector<std::pair<std::string, std::string>> out;
  std::stringstream in(waiting_on);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    item = item.substr(first, item.find_last_not_of(' ') - first + 1);
    const auto slash = item.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == item.size()) continue;
    out.emplace_back(item.substr(0, slash), item.substr(slash + 1));
  }
  return out;
}

std::vector<std::string> format_events(const std::vector<json>& events, std::size_t limit) {
  struct Line {
    std::int64_t at;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& e : events) {
    std::string when = e.value("lastTimestamp", json()).is_string()
                           ? e["lastTimestamp"].get<std::string>()
                           : std::string{};
    if (when.empty() && e.value("eventTime", json()).is_string()) when = e["eventTime"];
    if (when.empty()) when = str_at(e, "/metadata/creationTimestamp");
    const std::int64_t at = parse_timestamp(when).value_or(0);
    std::string clock = "--:--:--";
    if (at > 0) {
      std::time_t t = static_cast<std::time_t>(at);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buffer[16];
      std::strftime(buffer, sizeof buffer, "%H:%M:%S", &tm);
      clock = buffer;
    }
    std::string text = clock + " " + e.value("type", "Normal") + " " + e.value("reason", "") + " " +
                       str_at(e, "/involvedObject/kind") + "/" + str_at(e, "/involvedObject/name") +
                       ": " + e.value("message", "");
    const std::int64_t count = e.value("count", std::int64_t{1});
    if (count > 1) text += " (x" + std::to_string(count) + ")";
    lines.push_back({at, text});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.at < b.at; });
  std::vector<std::string> out;
  const std::size_t start = lines.size() > limit ? lines.size() - limit : 0;
  for (std::size_t i = start; i < lines.size(); ++i) out.push_back(lines[i].text);
  return out;
}

json status_document(const json& osd, const std::vector<json>& services) {
  json doc = {{"name", str_at(osd, "/metadata/name")},
              {"namespace", str_at(osd, "/metadata/namespace")},
              {"generation", int_at(osd, "/metadata/generation", 0)},
              {"status", osd.is_object() ? osd.value("status", json::object()) : json::object()}};
  json by_name = json::object();
  for (const auto& s : services) {
    by_name[str_at(s, "/metadata/name")] = s.value("status", json::object());
  }
  doc["services"] = by_name;
  return doc;
}

}  // namespace kolla::deploy
