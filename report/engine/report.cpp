// report.cpp — audit lines back into records, records into summaries.  See
// report.hpp.
//
// The parser is a hand scanner over string_views: 10 million lines must go
// through in seconds, so there is no regex, no per-line allocation once the
// scratch buffers are warm, and a value is copied only when it was quoted
// (its unescaped bytes need a home).
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace rfc8314::report {

namespace {

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// n digits at s[i..i+n) as a number, or -1.
int digits(std::string_view s, std::size_t i, std::size_t n) noexcept {
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

bool startsWith(std::string_view s, std::string_view p) noexcept {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

int monthNumber(std::string_view m) noexcept {
    static constexpr std::string_view names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (m == names[i])
            return i + 1;
    return 0;
}

bool weekday(std::string_view w) noexcept {
    for (std::string_view d : {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"})
        if (w == d)
            return true;
    return false;
}

// After an optional ".digits" at s[i]: the index of what follows.
std::size_t fractionEnd(std::string_view s, std::size_t i) noexcept {
    if (i < s.size() && s[i] == '.')
        for (++i; i < s.size() && isDigit(s[i]); ++i) {
        }
    return i;
}

int daysInMonth(int y, int m) noexcept {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

bool validClock(int h, int mi, int s) noexcept {
    return h >= 0 && h < 24 && mi >= 0 && mi < 60 && s >= 0 && s < 61;
}

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

// "YYYY-MM-DDThh:mm:ss" at the start of s; the rest (fraction, zone) is
// the caller's.  -1 when malformed.
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

// The unescaped value of a quoted or bare token, in `buf` when it had to
// be unescaped; false when malformed.
bool valueOf(std::string_view written, std::string& buf, std::string_view& out) {
    if (written.empty() || written.front() != '"') {
        out = written;
        return true;
    }
    buf.clear();
    if (!unescapeLogValue(written, buf))
        return false;
    out = buf;
    return true;
}

// Audit keys as the milter writes them (session.cpp auditEvent).
enum Key { KUser, KMech, KTls, KCipher, KGroup, KBits, KClient, KListener, KVerdict, KReason,
           KBucket, KExempt, KCleartext, KUnknown };

Key keyOf(std::string_view k) noexcept {
    switch (k.size()) {
    case 3: if (k == "tls") return KTls; break;
    case 4:
        if (k == "user") return KUser;
        if (k == "mech") return KMech;
        if (k == "bits") return KBits;
        break;
    case 5: if (k == "group") return KGroup; break;
    case 6:
        if (k == "cipher") return KCipher;
        if (k == "client") return KClient;
        if (k == "reason") return KReason;
        if (k == "bucket") return KBucket;
        break;
    case 7: if (k == "verdict") return KVerdict; break;
    case 8: if (k == "listener") return KListener; break;
    case 12: if (k == "exempt_until") return KExempt; break;
    case 14: if (k == "cleartext_auth") return KCleartext; break;
    default: break;
    }
    return KUnknown;
}

// "name[addr]:port" -> "addr"; anything else is kept whole.
std::string_view clientAddress(std::string_view c) noexcept {
    const auto open = c.rfind('[');
    if (open == std::string_view::npos)
        return c;
    const auto close = c.find(']', open);
    if (close == std::string_view::npos)
        return c;
    return c.substr(open + 1, close - open - 1);
}

bool smallNumber(std::string_view s, int& out) noexcept {
    if (s.empty() || s.size() > 9)
        return false;
    int v = 0;
    for (char c : s) {
        if (!isDigit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

TlsVersion tlsOf(std::string_view t) noexcept {
    if (t == "none" || t.empty())
        return TlsVersion::None;
    // The milter's own spellings first (facts.cpp toString): one compare
    // for almost every line instead of a case-blind search of them all.
    if (t.size() == 7 && t.compare(0, 6, "TLSv1.") == 0) {
        switch (t[6]) {
        case '3': return TlsVersion::TLSv1_3;
        case '2': return TlsVersion::TLSv1_2;
        case '1': return TlsVersion::TLSv1_1;
        case '0': return TlsVersion::TLSv1_0;
        default: break;
        }
    }
    return parseTlsVersion(t);
}


void seen(CivilTime& first, CivilTime& last, CivilTime t) noexcept {
    if (t < 0)
        return;
    if (first < 0 || t < first)
        first = t;
    if (t > last)
        last = t;
}

VerdictIdx verdictOf(std::string_view v) noexcept {
    if (v == "accept") return VAccept;
    if (v == "exempt") return VExempt;
    if (v == "would-reject") return VWouldReject;
    if (v == "tempfail") return VTempfail;
    if (v == "reject") return VReject;
    return VOther;
}

Reason reasonOf(std::string_view r) noexcept {
    if (r.empty() || r == "none") return RNone;
    if (r == "cleartext") return RCleartext;
    if (r == "tls-version") return RTlsVersion;
    if (r == "cipher-bits") return RCipherBits;
    return ROther;
}

// Where a JSON string starting at s[i] == '"' ends (index after the closing
// quote), decoding it into buf when it holds escapes; npos when malformed.
std::size_t jsonString(std::string_view s, std::size_t i, std::string& buf, std::string_view& out) {
    const std::size_t start = ++i;
    // Almost every string has no escape: find its end with memchr and
    // take it as it is.
    if (start <= s.size()) {
        const char* p = s.data() + start;
        const std::size_t left = s.size() - start;
        const void* q = std::memchr(p, '"', left);
        if (q && !std::memchr(p, '\\', static_cast<std::size_t>(static_cast<const char*>(q) - p))) {
            const std::size_t end = start + static_cast<std::size_t>(static_cast<const char*>(q) - p);
            out = s.substr(start, end - start);
            return end + 1;
        }
    }
    bool escaped = false;
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\') {
            escaped = true;
            ++i;
        }
        ++i;
    }
    if (i >= s.size())
        return std::string_view::npos;
    const std::string_view body = s.substr(start, i - start);
    if (!escaped) {
        out = body;
        return i + 1;
    }
    buf.clear();
    auto put = [&](std::uint32_t cp) {
        if (cp < 0x80) {
            buf += static_cast<char>(cp);
        } else if (cp < 0x800) {
            buf += static_cast<char>(0xC0 | (cp >> 6));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf += static_cast<char>(0xE0 | (cp >> 12));
            buf += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            buf += static_cast<char>(0xF0 | (cp >> 18));
            buf += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            buf += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            buf += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    auto hex4 = [&](std::size_t k, std::uint32_t& v) {
        if (k + 4 > body.size())
            return false;
        v = 0;
        for (std::size_t j = k; j < k + 4; ++j) {
            const int h = hexValue(body[j]);
            if (h < 0)
                return false;
            v = v * 16 + static_cast<std::uint32_t>(h);
        }
        return true;
    };
    for (std::size_t k = 0; k < body.size(); ++k) {
        const char c = body[k];
        if (c != '\\') {
            buf += c;
            continue;
        }
        const char e = body[++k];
        switch (e) {
        case '"': buf += '"'; break;
        case '\\': buf += '\\'; break;
        case '/': buf += '/'; break;
        case 'b': buf += '\b'; break;
        case 'f': buf += '\f'; break;
        case 'n': buf += '\n'; break;
        case 'r': buf += '\r'; break;
        case 't': buf += '\t'; break;
        case 'u': {
            std::uint32_t cp;
            if (!hex4(k + 1, cp))
                return std::string_view::npos;
            k += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                std::uint32_t lo;
                if (k + 2 < body.size() && body[k + 1] == '\\' && body[k + 2] == 'u' &&
                    hex4(k + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    k += 6;
                } else {
                    cp = 0xFFFD; // a lone surrogate has no UTF-8 form
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            put(cp);
            break;
        }
        default:
            return std::string_view::npos;
        }
    }
    out = buf;
    return i + 1;
}

} // namespace

bool unescapeLogValue(std::string_view w, std::string& out) {
    if (w.empty() || w.front() != '"') {
        out.append(w);
        return true;
    }
    if (w.size() < 2 || w.back() != '"')
        return false;
    w = w.substr(1, w.size() - 2);
    for (std::size_t i = 0; i < w.size(); ++i) {
        const char c = w[i];
        if (c == '"')
            return false; // a bare quote inside: not something we wrote
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i >= w.size())
            return false;
        switch (w[i]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'x': {
            if (i + 2 >= w.size())
                return false;
            const int hi = hexValue(w[i + 1]), lo = hexValue(w[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            return false;
        }
    }
    return true;
}

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

// ---- syslog -----------------------------------------------------------------

LineKind LineParser::parseSyslog(std::string_view line, Record& r) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    // No syslog line starts with a brace: this is the JSON audit file, given
    // as a plain input (a rotated set named by one glob, say).
    if (!line.empty() && line.front() == '{')
        return parseJson(line, r);
    CivilTime when = -1;
    std::string_view rest;
    bool dated = false;

    // Traditional BSD timestamp: "Nov 24 11:22:39 " (day space-padded),
    // also with a fraction, "Nov 24 11:22:39.123456 " (journalctl -o
    // short-precise).
    if (line.size() >= 16 && line[3] == ' ' && line[6] == ' ' && line[9] == ':' &&
        line[12] == ':' && (line[15] == ' ' || line[15] == '.')) {
        const int mo = monthNumber(line.substr(0, 3));
        const int d = line[4] == ' ' ? digits(line, 5, 1) : digits(line, 4, 2);
        const int h = digits(line, 7, 2), mi = digits(line, 10, 2), s = digits(line, 13, 2);
        const std::size_t end = fractionEnd(line, 15);
        if (mo && d >= 1 && validClock(h, mi, s) && end < line.size() && line[end] == ' ') {
            const int y = years_.yearOf(mo);
            if (d > daysInMonth(y, mo))
                return LineKind::Foreign;
            when = civilTime(y, mo, d, h, mi, s);
            rest = line.substr(end + 1);
            dated = true;
        }
    } else if (line.size() >= 20 && isDigit(line[0]) && line[4] == '-') {
        // RFC 3339 (rsyslog's default on Debian 12, journalctl -o short-iso
        // and short-iso-precise).
        when = isoPrefix(line);
        if (when >= 0) {
            std::size_t i = fractionEnd(line, 19);
            if (i < line.size() && line[i] == 'Z')
                ++i;
            else if (i < line.size() && (line[i] == '+' || line[i] == '-'))
                for (++i; i < line.size() && (isDigit(line[i]) || line[i] == ':'); ++i) {
                }
            if (i < line.size() && line[i] == ' ') {
                rest = line.substr(i + 1);
                dated = true;
            } else {
                when = -1;
            }
        }
    } else if (line.size() >= 26 && line[3] == ' ' && weekday(line.substr(0, 3)) && line[8] == '-') {
        // journalctl -o short-full: "Sun 2024-11-24 11:22:39 CET host ...";
        // the zone is a name or an offset, one word.
        when = isoPrefix(line.substr(4));
        const std::size_t zone = fractionEnd(line, 23) + 1;
        const std::size_t sp = zone < line.size() ? line.find(' ', zone) : std::string_view::npos;
        if (when >= 0 && line[zone - 1] == ' ' && sp != std::string_view::npos && sp > zone) {
            rest = line.substr(sp + 1);
            dated = true;
        } else {
            when = -1;
        }
    } else if (line.size() >= 12 && isDigit(line[0])) {
        // journalctl -o short-unix: "1732443759.123456 host ...", seconds
        // since the epoch, so the day is UTC's.  The fraction is required,
        // as journalctl always writes it, so a line that merely starts with
        // a number is not taken for a date.
        std::size_t i = 0;
        std::int64_t secs = 0;
        for (; i < line.size() && i < 12 && isDigit(line[i]); ++i)
            secs = secs * 10 + (line[i] - '0');
        const std::size_t end = fractionEnd(line, i);
        if (i >= 9 && i < line.size() && line[i] == '.' && end > i + 1 && end < line.size() &&
            line[end] == ' ') {
            when = secs;
            rest = line.substr(end + 1);
            dated = true;
        }
    }

    // The tag: "ident[pid]: " or "ident: ", after the host name when dated.
    auto tagged = [&](std::string_view s, std::string_view& msg) {
        if (!startsWith(s, ident_))
            return false;
        std::size_t i = ident_.size();
        if (i < s.size() && s[i] == '[') {
            const auto close = s.find(']', i);
            if (close == std::string_view::npos)
                return false;
            i = close + 1;
        }
        if (s.substr(i, 2) == ": ") { // i <= s.size() here
            msg = s.substr(i + 2);
            return true;
        }
        return false;
    };
    std::string_view msg;
    if (dated) {
        if (!tagged(rest, msg)) {
            const auto sp = rest.find(' ');
            if (sp == std::string_view::npos || !tagged(rest.substr(sp + 1), msg))
                return LineKind::Foreign;
        }
    } else if (!tagged(line, msg)) {
        // journalctl -o cat: the message alone, so only an audit line is ours.
        const LineKind k = parseMessage(line, r);
        return k == LineKind::Other ? LineKind::Foreign : k;
    }
    r.when = when;
    const LineKind k = parseMessage(msg, r);
    r.when = when;
    return k;
}

LineKind LineParser::parseMessage(std::string_view msg, Record& r) {
    r = Record{};
    // Optional queue id: "4XyZ1: user=..."; the id is written bare.
    if (!startsWith(msg, "user=")) {
        const auto colon = msg.find(": ");
        if (colon == std::string_view::npos || colon == 0 || colon > 64)
            return LineKind::Other;
        const auto id = msg.substr(0, colon);
        for (char c : id)
            if (c == ' ' || c == '=' || c == ',' || c == '"')
                return LineKind::Other;
        if (!startsWith(msg.substr(colon + 2), "user="))
            return LineKind::Other;
        r.queueId = id;
        msg.remove_prefix(colon + 2);
    }
    unsigned have = 0;
    std::size_t i = 0;
    while (true) {
        const auto eq = msg.find('=', i);
        if (eq == std::string_view::npos)
            return LineKind::Damaged;
        const Key key = keyOf(msg.substr(i, eq - i));
        std::size_t j = eq + 1;
        if (j < msg.size() && msg[j] == '"') {
            for (++j; j < msg.size() && msg[j] != '"'; ++j)
                if (msg[j] == '\\')
                    ++j;
            if (j >= msg.size())
                return LineKind::Damaged; // unterminated: a truncated line
            ++j;
        } else {
            while (j < msg.size() && msg[j] != ',' && msg[j] != ' ')
                ++j;
        }
        const std::string_view written = msg.substr(eq + 1, j - eq - 1);
        std::string_view v;
        bool ok = true;
        switch (key) {
        case KUser: ok = valueOf(written, scratch_[FUser], r.user); break;
        case KMech: ok = valueOf(written, scratch_[FMech], r.mech); break;
        case KTls: ok = valueOf(written, scratch_[FTls], r.tls); break;
        case KCipher: ok = valueOf(written, scratch_[FCipher], r.cipher); break;
        case KGroup: ok = valueOf(written, scratch_[FGroup], r.group); break;
        case KClient:
            ok = valueOf(written, scratch_[FClient], v);
            r.client = clientAddress(v);
            break;
        case KListener: ok = valueOf(written, scratch_[FListener], r.listener); break;
        case KVerdict: ok = valueOf(written, scratch_[FVerdict], r.verdict); break;
        case KReason: ok = valueOf(written, scratch_[FReason], r.reason); break;
        case KExempt: ok = valueOf(written, scratch_[FExempt], r.exemptUntil); break;
        case KBits: ok = smallNumber(written, r.bits); break;
        case KBucket: ok = smallNumber(written, r.bucket); break;
        case KCleartext: r.cleartextAuth = written == "yes"; break;
        case KUnknown: break; // a newer milter's key: skip, stay readable
        }
        if (!ok)
            return LineKind::Damaged;
        if (key < KReason)
            have |= 1u << key;
        if (j == msg.size())
            break;
        if (msg.compare(j, 2, ", ") != 0)
            return LineKind::Damaged;
        i = j + 2;
    }
    if (have != (1u << KReason) - 1)
        return LineKind::Damaged;
    r.authenticated = !(r.user == "none" && r.mech == "none");
    return LineKind::Audit;
}

// ---- JSON -------------------------------------------------------------------

LineKind LineParser::parseJson(std::string_view line, Record& r) {
    r = Record{};
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
    if (i == line.size() || line[i] != '{')
        return LineKind::Foreign;
    if (line.back() != '}')
        return LineKind::Damaged;
    ++i;
    std::string_view time, event, listenerName, tlsv;
    long long listenerPort = 0;
    bool haveVerdict = false, haveUser = false;
    std::string keyBuf;
    auto skipWs = [&] {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
    };
    skipWs();
    if (i < line.size() && line[i] == '}')
        return LineKind::Foreign;
    while (true) {
        skipWs();
        if (i >= line.size() || line[i] != '"')
            return LineKind::Damaged;
        std::string_view key;
        i = jsonString(line, i, keyBuf, key);
        if (i == std::string_view::npos)
            return LineKind::Damaged;
        skipWs();
        if (i >= line.size() || line[i] != ':')
            return LineKind::Damaged;
        ++i;
        skipWs();
        if (i >= line.size())
            return LineKind::Damaged;
        // Which scratch buffer a string value of this key may use.
        Field f = FCount;
        std::string_view* dst = nullptr;
        if (key == "time") { f = FTime; dst = &time; }
        else if (key == "queue_id") { f = FQueue; dst = &r.queueId; }
        else if (key == "event") { f = FEvent; dst = &event; }
        else if (key == "user") { f = FUser; dst = &r.user; haveUser = true; }
        else if (key == "mech") { f = FMech; dst = &r.mech; }
        else if (key == "tls") { f = FTls; dst = &tlsv; }
        else if (key == "cipher") { f = FCipher; dst = &r.cipher; }
        else if (key == "group") { f = FGroup; dst = &r.group; }
        else if (key == "client_addr") { f = FClient; dst = &r.client; }
        else if (key == "listener") { f = FListenerName; dst = &listenerName; }
        else if (key == "verdict") { f = FVerdict; dst = &r.verdict; haveVerdict = true; }
        else if (key == "reason") { f = FReason; dst = &r.reason; }
        else if (key == "exempt_until") { f = FExempt; dst = &r.exemptUntil; }
        else if (key == "cleartext_auth") { f = FCleartext; }
        if (line[i] == '"') {
            std::string_view v;
            std::string* buf = f == FCount ? &keyBuf : &scratch_[f];
            i = jsonString(line, i, *buf, v);
            if (i == std::string_view::npos)
                return LineKind::Damaged;
            if (dst)
                *dst = v;
            if (f == FCleartext)
                r.cleartextAuth = v == "yes";
        } else {
            const std::size_t start = i;
            while (i < line.size() && line[i] != ',' && line[i] != '}' && line[i] != ' ')
                ++i;
            const std::string_view tok = line.substr(start, i - start);
            long long n = 0;
            bool neg = false, num = !tok.empty();
            for (std::size_t k = 0; k < tok.size() && num; ++k) {
                if (k == 0 && tok[k] == '-')
                    neg = true;
                else if (!isDigit(tok[k]) || k > 12)
                    num = false;
                else
                    n = n * 10 + (tok[k] - '0');
            }
            if (neg)
                n = -n;
            if (!num && tok != "true" && tok != "false" && tok != "null")
                return LineKind::Damaged; // nested or broken: not our flat object
            if (num && key == "bits")
                r.bits = static_cast<int>(n < 0 ? 0 : n);
            else if (num && key == "bucket")
                r.bucket = static_cast<int>(n);
            else if (num && key == "listener_port")
                listenerPort = n;
        }
        skipWs();
        if (i < line.size() && line[i] == ',') {
            ++i;
            continue;
        }
        if (i < line.size() && line[i] == '}' && i + 1 == line.size())
            break;
        return LineKind::Damaged;
    }
    if (!haveVerdict || !haveUser)
        return LineKind::Foreign; // valid JSON, but not an audit event
    // The same normal form the syslog line has (session.cpp auditEvent).
    const bool tls = !tlsv.empty() && tlsv != "none";
    r.authenticated = event.empty() ? !r.user.empty() : event == "auth";
    if (!r.authenticated) {
        r.user = "none";
        r.mech = "none";
    }
    r.tls = tls ? tlsv : std::string_view("none");
    if (!tls) {
        r.cipher = "none";
        r.group = "none";
    } else {
        if (r.cipher.empty())
            r.cipher = "unknown";
        if (r.group.empty())
            r.group = "unknown";
    }
    if (r.reason == "none")
        r.reason = {};
    std::string& l = scratch_[FListener];
    l.assign(listenerName);
    if (listenerPort > 0) {
        l += '/';
        l += std::to_string(listenerPort);
    }
    r.listener = l;
    if (!time.empty()) {
        r.when = isoPrefix(time);
        if (r.when < 0)
            return LineKind::Damaged;
    }
    return LineKind::Audit;
}

// ---- what-if ----------------------------------------------------------------

std::string WhatIfPolicy::str() const {
    std::string s;
    if (requireTls)
        s += "--require-tls";
    if (minTls != TlsVersion::None) {
        s += s.empty() ? "" : " ";
        s += "--min-tls ";
        s += toString(minTls);
    }
    if (minBits > 0) {
        s += s.empty() ? "" : " ";
        s += "--min-bits " + std::to_string(minBits);
    }
    return s;
}

Reason whatIf(const WhatIfPolicy& p, const Record& r) noexcept {
    const TlsVersion v = tlsOf(r.tls);
    if (v == TlsVersion::None)
        return p.requireTls ? RCleartext : RNone;
    if (!r.authenticated)
        return RNone;
    if (p.minTls != TlsVersion::None && v < p.minTls)
        return RTlsVersion;
    if (p.minBits > 0 && r.bits > 0 && r.bits < p.minBits)
        return RCipherBits;
    return RNone;
}

std::string_view reasonName(Reason r) noexcept {
    switch (r) {
    case RNone: return "none";
    case RCleartext: return "cleartext";
    case RTlsVersion: return "tls-version";
    case RCipherBits: return "cipher-bits";
    case ROther: return "other";
    case RCount: break;
    }
    return "other";
}

std::string_view verdictName(VerdictIdx v) noexcept {
    switch (v) {
    case VAccept: return "accept";
    case VExempt: return "exempt";
    case VWouldReject: return "would-reject";
    case VTempfail: return "tempfail";
    case VReject: return "reject";
    case VOther: return "other";
    case VCount: break;
    }
    return "other";
}

// ---- aggregation ------------------------------------------------------------

namespace {
// Eight bytes a step, then a final mix (splitmix64's): names are short, and
// a byte-at-a-time hash was a visible share of the run.  Internal only, so
// byte order does not matter.
std::uint64_t hashOf(std::string_view s) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * 0x94D049BB133111EBull;
    }
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

std::uint32_t entryLength(const char* e) noexcept {
    std::uint32_t n;
    std::memcpy(&n, e, 4);
    return n;
}
} // namespace

const char* Dict::store(std::string_view s) {
    const std::size_t need = 4 + s.size();
    if (chunkSize_ - chunkUsed_ < need) {
        // 64 KiB chunks; a longer name gets a chunk of its own.
        chunkSize_ = std::max<std::size_t>(need, 64 * 1024);
        chunks_.push_back(std::make_unique<char[]>(chunkSize_));
        chunkUsed_ = 0;
    }
    char* e = chunks_.back().get() + chunkUsed_;
    const auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(e, &n, 4);
    if (!s.empty())
        std::memcpy(e + 4, s.data(), s.size());
    chunkUsed_ += need;
    return e;
}

void Dict::grow() {
    std::vector<Slot> next(slots_.empty() ? 64 : slots_.size() * 2);
    const std::size_t mask = next.size() - 1;
    for (const Slot& old : slots_) {
        if (!old.id)
            continue;
        const std::uint64_t h = hashOf(views_[old.id - 1]);
        std::size_t i = h & mask;
        while (next[i].id)
            i = (i + 1) & mask;
        next[i] = old;
    }
    slots_.swap(next);
}

std::uint32_t Dict::id(std::string_view s) {
    if ((views_.size() + 1) * 2 > slots_.size())
        grow();
    const std::uint64_t h = hashOf(s);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i].id) {
        const Slot& slot = slots_[i];
        if (slot.tag == tag && entryLength(slot.entry) == s.size() &&
            (s.empty() || std::memcmp(slot.entry + 4, s.data(), s.size()) == 0))
            return slot.id - 1;
        i = (i + 1) & mask;
    }
    if (s.size() > 0xFFFFFFF0u) // not from a line of at most a block
        throw std::length_error("rfc8314::report::Dict: name too long");
    const char* e = store(s);
    views_.emplace_back(e + 4, s.size());
    const auto id = static_cast<std::uint32_t>(views_.size() - 1);
    slots_[i] = {e, id + 1, tag};
    return id;
}

void Tally::bump(std::uint32_t id) {
    if (count0_ == 0) {
        id0_ = id;
        count0_ = 1;
        return;
    }
    if (id0_ == id) {
        ++count0_;
        return;
    }
    if (!more_)
        more_ = std::make_unique<Pairs>();
    for (auto& p : *more_)
        if (p.first == id) {
            ++p.second;
            return;
        }
    more_->emplace_back(id, 1);
}

Pairs Tally::pairs() const {
    Pairs out;
    if (count0_ == 0)
        return out;
    out.reserve(size());
    out.emplace_back(id0_, count0_);
    if (more_)
        out.insert(out.end(), more_->begin(), more_->end());
    return out;
}

void EntityTable::growTo(std::size_t n) {
    while (chunks_.size() << kShift < n)
        chunks_.push_back(std::make_unique<Entity[]>(kMask + 1));
    size_ = std::max(size_, n);
}

void Aggregator::add(const Record& r) {
    ++counts.audit;
    if (r.when < 0)
        ++counts.undated;
    seen(first, last, r.when);
    const VerdictIdx v = verdictOf(r.verdict);
    const int tls = static_cast<int>(tlsOf(r.tls));
    const std::uint32_t cipher = ciphers.id(r.cipher);
    const std::uint32_t group = groups.id(r.group);
    const std::uint32_t mech = mechs.id(r.mech);
    const std::uint32_t listener = listeners.id(r.listener);
    if (cipherTotals.size() < ciphers.size())
        cipherTotals.resize(ciphers.size());
    ++cipherTotals[cipher];
    ++verdictTotals[v];
    const Reason would = policy_.active() ? whatIf(policy_, r) : RNone;
    if (would != RNone)
        ++whatIfTotal;

    auto fold = [&](Entity& e) {
        ++e.count;
        seen(e.first, e.last, r.when);
        ++e.verdicts[v];
        ++e.tls[tls];
        e.ciphers.bump(cipher);
        e.groups.bump(group);
        e.mechs.bump(mech);
        e.listeners.bump(listener);
        if (r.cleartextAuth) {
            ++e.cleartext;
            seen(e.cleartextFirst, e.cleartextLast, r.when);
        }
        if (would != RNone) {
            ++e.whatIf[RNone];
            ++e.whatIf[would];
        }
    };

    std::uint32_t uid = 0;
    if (r.authenticated) {
        uid = userNames.id(r.user);
        users.growTo(userNames.size());
        fold(users[uid]);
    } else {
        ++counts.unauthenticated;
        if (would != RNone) {
            ++whatIfUnauth;
            ++whatIfUnauthBy[would];
        }
    }
    const std::uint32_t cid = clientNames.id(r.client);
    clients.growTo(clientNames.size());
    Entity& c = clients[cid];
    fold(c);
    // Distinct users per address, capped: a NAT or webmail front end may
    // carry thousands, and memory must stay bounded by users + clients.
    if (r.authenticated && !c.peersCapped &&
        std::find(c.peers.begin(), c.peers.end(), uid) == c.peers.end()) {
        if (c.peers.size() < 16)
            c.peers.push_back(uid);
        else
            c.peersCapped = true;
    }

    if (r.when >= 0) {
        DayStats& d = days[civilDay(r.when)];
        ++d.count;
        ++d.verdicts[v];
        ++d.tls[tls];
        if (v == VTempfail || v == VReject)
            ++d.refused[reasonOf(r.reason)];
    }
}

} // namespace rfc8314::report
