// civil_time.cpp — dates as the log writes them, to seconds and back.  See
// record.hpp (CivilTime).
//
// Proleptic Gregorian arithmetic on plain integers: no time zone, no libc
// time functions, so a date means the same on every machine and a bad
// one is an error value, never undefined behaviour.
#include <cstdio>
#include <string>

#include "record.hpp"
#include "scan.hpp"

namespace rfc8314::report {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
// days_from_civil): exact, branch-light, no time zone or libc involved.
std::int64_t daysFromCivil(int y, int m, int d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, int& y, int& m, int& d) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

} // namespace

namespace scan {

CivilTime isoPrefix(std::string_view s) noexcept {
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || !validClock(h, mi, se))
        return -1;
    return civilTime(y, mo, d, h, mi, se);
}

} // namespace scan

CivilTime civilTime(int year, int month, int day, int hour, int minute, int second) noexcept {
    return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

int civilDay(CivilTime t) noexcept {
    int y, m, d;
    civilFromDays(t / 86400, y, m, d);
    return y * 10000 + m * 100 + d;
}

std::string formatTime(CivilTime t) {
    if (t < 0)
        return "-";
    int y, m, d;
    civilFromDays(t / 86400, y, m, d);
    const int s = static_cast<int>(t % 86400);
    if (y > 9999) { // an epoch from far away: rare, so printf may do it
        char buf[48];
        std::snprintf(buf, sizeof buf, "%d-%02d-%02d %02d:%02d:%02d", y, m, d, s / 3600, (s / 60) % 60,
                      s % 60);
        return buf;
    }
    // By hand: four of these per user row, and snprintf showed in the profile.
    std::string out = "0000-00-00 00:00:00";
    auto put = [&](std::size_t at, int v, int width) {
        for (int k = width - 1; k >= 0; --k, v /= 10)
            out[at + static_cast<std::size_t>(k)] = static_cast<char>('0' + v % 10);
    };
    put(0, y, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, s / 3600, 2);
    put(14, (s / 60) % 60, 2);
    put(17, s % 60, 2);
    return out;
}

std::string formatDay(int v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", v / 10000, (v / 100) % 100, v % 100);
    return buf;
}

} // namespace rfc8314::report
