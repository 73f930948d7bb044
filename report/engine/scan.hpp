// scan.hpp — private to the report's engine: the byte-level helpers the
// syslog and JSON line scanners and the civil-time code share.  Inline, as
// they run for every byte of a timestamp.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "record.hpp"

namespace rfc8314::report::scan {

inline bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

inline int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The index of the first of s[i..) that is c1 or c2, or s.size().  Eight
// bytes a step (a byte equal to c has a zero in w ^ c repeated; the lowest
// flagged byte of the classic zero-byte test is always a true one): the
// values and keys of an audit line are scanned for every line.
inline std::size_t findEither(std::string_view s, std::size_t i, char c1, char c2) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const std::uint64_t r1 = ones * static_cast<unsigned char>(c1), r2 = ones * static_cast<unsigned char>(c2);
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        const std::uint64_t a = w ^ r1, b = w ^ r2;
        const std::uint64_t m = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
        if (m) {
            // Little-endian: the lowest set bit is the first byte.  On a
            // big-endian machine this would be the last; say so at build time.
            static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "findEither reads words little-endian");
            return i + static_cast<std::size_t>(__builtin_ctzll(m)) / 8;
        }
    }
    for (; i < s.size(); ++i)
        if (s[i] == c1 || s[i] == c2)
            return i;
    return s.size();
}

// a[0, n) == b[0, n), in words: a name compare that is a call to memcmp
// was a tenth of the run, for names of a few dozen bytes (Dict, the
// aggregator's usual-id check).
inline bool sameBytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n >= 8) {
        std::uint64_t x, y;
        for (; n > 8; a += 8, b += 8, n -= 8) {
            std::memcpy(&x, a, 8);
            std::memcpy(&y, b, 8);
            if (x != y)
                return false;
        }
        // The last word ends where the names end (it may overlap the one before).
        std::memcpy(&x, a + n - 8, 8);
        std::memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        std::uint32_t x0, y0, x1, y1;
        std::memcpy(&x0, a, 4);
        std::memcpy(&y0, b, 4);
        std::memcpy(&x1, a + n - 4, 4);
        std::memcpy(&y1, b + n - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    for (std::size_t k = 0; k < n; ++k)
        if (a[k] != b[k])
            return false;
    return true;
}

// n digits at s[i..i+n) as a number, or -1.
inline int digits(std::string_view s, std::size_t i, std::size_t n) noexcept {
    if (i + n > s.size())
        return -1;
    int v = 0;
    for (std::size_t k = i; k < i + n; ++k) {
        if (!isDigit(s[k]))
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

inline int daysInMonth(int y, int m) noexcept {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

inline bool validClock(int h, int mi, int s) noexcept {
    return h >= 0 && h < 24 && mi >= 0 && mi < 60 && s >= 0 && s < 61;
}

// The JSON string starting at s[i] == '"': its decoded value in `out`
// (a view into s, or into buf when it held escapes); returns the index
// after the closing quote, npos when malformed.
std::size_t jsonString(std::string_view s, std::size_t i, std::string& buf, std::string_view& out);

// "YYYY-MM-DDThh:mm:ss" at the start of s; the rest (fraction, zone) is
// the caller's.  -1 when malformed.
CivilTime isoPrefix(std::string_view s) noexcept;

} // namespace rfc8314::report::scan
