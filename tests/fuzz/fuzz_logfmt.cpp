// fuzz_logfmt.cpp — libFuzzer target: log and JSON escaping of network
// values.
//
// Input: QUEUEID \0 KEY \0 VALUE \0 KEY \0 VALUE ...  Every field is also
// escaped on its own.
//
// Properties (abort() on violation): escapeLogValue, LogLine::str,
// jsonEscape and JsonLine::str never contain CR, LF or NUL; an escaped log
// value is either the input itself (all bytes in the bare-safe set) or a
// quoted string that decodes back to exactly the input; JSON output contains
// no raw control byte or DEL and is valid UTF-8.
#include <optional>
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/logfmt.hpp"

using namespace rfc8314;

namespace {

bool noLineBreak(std::string_view s) {
    return s.find('\r') == std::string_view::npos && s.find('\n') == std::string_view::npos &&
           s.find('\0') == std::string_view::npos;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Undo escapeLogValue's quoting; nullopt when `s` is not a well-formed
// quoted value.
std::optional<std::string> unquote(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return std::nullopt;
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        char c = s[i];
        if (c == '"')
            return std::nullopt; // an unescaped quote inside
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i + 1 >= s.size())
            return std::nullopt;
        switch (s[i]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'x': {
            if (i + 3 >= s.size())
                return std::nullopt;
            const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
            break;
        }
        default: return std::nullopt;
        }
    }
    return out;
}

bool validUtf8NoControl(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1Fu; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0Fu; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07u; }
        else return false;
        if (i + n > s.size())
            return false;
        for (std::size_t k = 1; k < n; ++k) {
            const unsigned char d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0u) != 0x80u)
                return false;
            cp = (cp << 6) | (d & 0x3Fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

void checkValue(std::string_view v) {
    const std::string e = escapeLogValue(v);
    fuzz::require(noLineBreak(e), "escapeLogValue output has no CR, LF or NUL", e);
    if (e != v) {
        const auto back = unquote(e);
        fuzz::require(back.has_value(), "escapeLogValue output is a well-formed quoted string", e);
        fuzz::require(*back == v, "escapeLogValue output decodes back to its input", e);
    } else {
        fuzz::require(!v.empty() && v.find_first_of(" \t\",=\"\\") == std::string_view::npos,
                      "a bare log value is non-empty and has no blank, comma, '=', quote or backslash",
                      v);
    }
    const std::string j = jsonEscape(v);
    fuzz::require(noLineBreak(j), "jsonEscape output has no CR, LF or NUL", j);
    fuzz::require(validUtf8NoControl(j), "jsonEscape output is valid UTF-8 without control bytes", j);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto f = fuzz::splitNul(fuzz::asText(data, size));
    for (const auto& v : f)
        checkValue(v);

    LogLine line(fuzz::field(f, 0));
    JsonLine json;
    for (std::size_t i = 1; i < f.size(); i += 2) {
        line.add(f[i], fuzz::field(f, i + 1));
        json.add(f[i], fuzz::field(f, i + 1));
    }
    line.add("n", static_cast<long long>(size) - 1000);
    json.add("n", static_cast<long long>(size) - 1000);
    fuzz::require(noLineBreak(line.str()), "LogLine::str has no CR, LF or NUL", line.str());
    const std::string js = json.str();
    fuzz::require(noLineBreak(js), "JsonLine::str has no CR, LF or NUL", js);
    fuzz::require(validUtf8NoControl(js), "JsonLine::str is valid UTF-8 without control bytes", js);
    return 0;
}
