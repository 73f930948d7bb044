// text.hpp — ASCII helpers shared by the lib/ units and the daemon's
// --doctor (internal, never installed: the Makefile puts lib/src on the
// include path of plugin/doctor/ only).  Locale-free on purpose: mail
// protocol tokens are ASCII, and a process locale must never change how a
// cipher or user name compares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rfc8314::text {

inline bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool isBlank(char c) noexcept { return c == ' ' || c == '\t'; }
inline bool isSpace(char c) noexcept { return isBlank(c) || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
inline char toLower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
inline char toUpper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Without leading and trailing blanks (space, tab).
inline std::string_view trimBlanks(std::string_view s) noexcept {
    while (!s.empty() && isBlank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isBlank(s.back()))
        s.remove_suffix(1);
    return s;
}

// Without leading and trailing white space, line ends included.
inline std::string_view trimSpace(std::string_view s) noexcept {
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (toLower(a[i]) != toLower(b[i]))
            return false;
    return true;
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = toLower(c);
    return out;
}

// A decimal number of at most 10 digits and at most `max`, blanks around it
// allowed; nullopt for anything else (sign, other characters, empty).
inline std::optional<std::uint64_t> parseDecimal(std::string_view s, std::uint64_t max) noexcept {
    s = trimBlanks(s);
    if (s.empty() || s.size() > 10)
        return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        if (!isDigit(c))
            return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > max)
        return std::nullopt;
    return n;
}

inline std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = toUpper(c);
    return out;
}

} // namespace rfc8314::text
