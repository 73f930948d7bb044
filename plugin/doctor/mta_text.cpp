// mta_text.cpp — MTA configuration value grammar (see mta_text.hpp).
#include "mta_text.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdint>

#include "text.hpp"

namespace rfc8314::doctor {

std::vector<std::string> splitList(std::string_view s, std::string_view seps) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (seps.find(c) != std::string_view::npos) {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty())
            out += sep;
        out += s;
    }
    return out;
}

std::string trimmed(std::string_view s) { return std::string(text::trimSpace(s)); }

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::optional<unsigned> number(std::string_view s) {
    // No blanks inside a token: "1 0" is not ten.
    if (s != text::trimBlanks(s))
        return std::nullopt;
    auto n = text::parseDecimal(s, 999999999);
    if (!n)
        return std::nullopt;
    return static_cast<unsigned>(*n);
}

std::optional<long> parseDuration(std::string_view v) {
    std::string s = text::lower(text::trimSpace(v));
    if (s.empty())
        return std::nullopt;
    long mult = 1;
    switch (s.back()) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 604800; break;
    default: mult = 0; break;
    }
    if (mult != 0)
        s.pop_back();
    else
        mult = 1;
    auto n = number(s);
    if (!n)
        return std::nullopt;
    return static_cast<long>(*n) * mult;
}

std::string showDuration(long seconds) { return std::to_string(seconds) + "s"; }

std::optional<unsigned> portOf(std::string_view s) {
    if (auto n = number(s))
        return n;
    const std::string l = text::lower(s);
    if (l == "smtp")
        return 25u;
    if (l == "submission")
        return 587u;
    if (l == "submissions" || l == "smtps" || l == "urd")
        return 465u;
    if (struct servent* se = getservbyname(l.c_str(), "tcp"))
        return static_cast<unsigned>(ntohs(static_cast<std::uint16_t>(se->s_port)));
    return std::nullopt;
}

bool versionAtLeast(std::string_view version, unsigned major, unsigned minor) {
    const auto parts = splitList(version, ".");
    if (parts.size() < 2)
        return false;
    const auto ma = number(parts[0]);
    const auto mi = number(parts[1]);
    if (!ma || !mi)
        return false;
    return *ma > major || (*ma == major && *mi >= minor);
}

} // namespace rfc8314::doctor
