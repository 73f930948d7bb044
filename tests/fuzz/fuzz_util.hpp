// fuzz_util.hpp — small helpers shared by the libFuzzer targets in this
// directory (test code only, never linked into the milter).
//
// Promises: splitting never reads outside the input; a failed property
// prints what was checked and the offending value, then calls abort(), so
// libFuzzer records the input as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// The input as text.
inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
    return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Split at every NUL byte: "a\0b\0" -> {"a", "b", ""}.  The seed corpora use
// NUL as the field separator, so every other byte (CR, LF, 8-bit) stays
// available inside a field.
inline std::vector<std::string_view> splitNul(std::string_view in) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t pos = in.find('\0', start);
        if (pos == std::string_view::npos) {
            out.push_back(in.substr(start));
            return out;
        }
        out.push_back(in.substr(start, pos - start));
        start = pos + 1;
    }
}

// The field at index i, or empty.
inline std::string_view field(const std::vector<std::string_view>& f, std::size_t i) {
    return i < f.size() ? f[i] : std::string_view();
}

// Printable rendering for a failure report: C escapes for anything not
// graphic ASCII.
inline std::string show(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        }
    }
    return out;
}

[[noreturn]] inline void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "PROPERTY FAILED: %s\n  value: \"%s\"\n", what, show(detail).c_str());
    std::fflush(stderr);
    std::abort();
}

inline void require(bool ok, const char* what, std::string_view detail) {
    if (!ok)
        fail(what, detail);
}

// Longest physical line of a folded field, counting from the start of the
// value (the caller adds the field name's length when it matters).  Lines
// end at LF; a CR before it is not counted.
inline std::size_t longestLine(std::string_view v, std::size_t firstLinePrefix = 0) {
    std::size_t longest = 0, cur = firstLinePrefix;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\n') {
            if (cur > longest)
                longest = cur;
            cur = 0;
        } else if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') {
            // part of the line end
        } else {
            ++cur;
        }
    }
    return cur > longest ? cur : longest;
}

} // namespace fuzz
