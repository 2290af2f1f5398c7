#pragma once
// Keeps secrets (tokens, passwords, keys) out of logs, errors and printed output.

#include <string>
#include <string_view>

namespace kolla {

// Remembers a secret value so that redact() masks every occurrence of it. Thread-safe.
// Values shorter than 4 characters are ignored (they would mask ordinary text).
void register_secret(std::string_view value);

// Masks registered secrets and well-known secret shapes: "Authorization: Bearer …",
// "password=…"/"password: …", and the userinfo password of URLs such as rabbit://u:pw@host.
std::string redact(std::string_view text);

}  // namespace kolla
