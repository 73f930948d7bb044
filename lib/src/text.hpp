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
// The classes of the mail grammars' per-octet tests, as one 256-entry
// table: the trace field checks its queue id and recipient once per
// message (issue 17), and a load and a bit test per octet beat the chains
// of range tests and strchr.  tests/test_text.cpp proves every entry equal
// to the predicates written out (all 256 octets).
enum CharClass : std::uint8_t {
    kClassAlnum = 1, // ALPHA / DIGIT
    kClassAtext = 2, // RFC 5322 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"
    kClassLdh = 4,   // a domain label's octets (RFC 1035): ALPHA / DIGIT / "-"
};
struct CharClassTable {
    std::uint8_t bits[256];
    constexpr CharClassTable() : bits() {
        for (int c = 0; c < 256; ++c) {
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            bool special = false;
            for (const char* p = "!#$%&'*+-/=?^_`{|}~"; *p; ++p)
                special = special || c == *p;
            bits[c] = static_cast<std::uint8_t>((alnum ? kClassAlnum | kClassAtext | kClassLdh : 0) |
                                                (special ? kClassAtext : 0) | (c == '-' ? kClassLdh : 0));
        }
    }
};
inline constexpr CharClassTable kCharClasses{};
inline bool inClass(char c, CharClass k) noexcept {
    return (kCharClasses.bits[static_cast<unsigned char>(c)] & k) != 0;
}

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

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
inline std::size_t utf8Length(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07u; }
    else return 0;
    if (i + n > s.size())
        return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (b(i + k) & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

// `value` as valid UTF-8: each byte that is not part of a valid sequence
// becomes U+FFFD, valid multi-byte sequences are copied, and each ASCII byte
// is handed to ascii(out, c) to escape as the caller's format wants.
template <class Ascii> std::string utf8Escape(std::string_view value, Ascii ascii) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size();) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x80) {
            ascii(out, c);
            ++i;
            continue;
        }
        const std::size_t n = utf8Length(value, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
        } else {
            out.append(value.substr(i, n));
            i += n;
        }
    }
    return out;
}

} // namespace rfc8314::text
