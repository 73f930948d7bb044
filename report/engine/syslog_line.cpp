// syslog_line.cpp — the milter's audit lines, as syslog, its standard error
// and journalctl write them, back into records.  See record.hpp.
//
// The parser is a hand scanner over string_views: 10 million lines must go
// through in seconds, so there is no regex, no per-line allocation once the
// scratch buffers are warm, and a value is copied only when it was quoted
// (its unescaped bytes need a home).
#include <cstdint>
#include <iterator>
#include <string>

#include "record.hpp"
#include "scan.hpp"

namespace rfc8314::report {

namespace {

using scan::digits;
using scan::hexValue;
using scan::isDigit;
using scan::isoPrefix;
using scan::validClock;
using scan::daysInMonth;

bool startsWith(std::string_view s, std::string_view p) noexcept {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// The three letters as one number: twelve integer compares, not twelve
// string compares, for every line.
constexpr std::uint32_t packed3(char a, char b, char c) noexcept {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(a)) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b)) << 8 | static_cast<unsigned char>(c);
}

int monthNumber(std::string_view m) noexcept {
    static constexpr std::uint32_t names[] = {
        packed3('J', 'a', 'n'), packed3('F', 'e', 'b'), packed3('M', 'a', 'r'), packed3('A', 'p', 'r'),
        packed3('M', 'a', 'y'), packed3('J', 'u', 'n'), packed3('J', 'u', 'l'), packed3('A', 'u', 'g'),
        packed3('S', 'e', 'p'), packed3('O', 'c', 't'), packed3('N', 'o', 'v'), packed3('D', 'e', 'c')};
    if (m.size() != 3)
        return 0;
    const std::uint32_t k = packed3(m[0], m[1], m[2]);
    for (int i = 0; i < 12; ++i)
        if (k == names[i])
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


// The key `name` stands for (auditLineKey), looked for first from the
// field after the last one found: the milter writes the keys in the
// schema's order, so the search mostly ends at its first or second name.
// Any other order (or an unknown key) falls back to the whole table.
AuditKey keyAt(std::string_view name, std::size_t& next) noexcept {
    for (std::size_t k = next; k < std::size(kAuditLineFields); ++k) {
        const std::string_view f = kAuditLineFields[k].name;
        if (f.size() != name.size())
            continue;
        std::size_t c = 0;
        while (c < f.size() && f[c] == name[c])
            ++c;
        if (c == f.size()) {
            next = k + 1;
            return kAuditLineFields[k].key;
        }
    }
    return auditLineKey(name);
}

constexpr unsigned bit(AuditKey k) noexcept { return 1u << static_cast<unsigned>(k); }

// The keys every audit line has (the schema's Always ones): a line
// without one of them is damaged.
constexpr unsigned requiredKeys() noexcept {
    unsigned m = 0;
    for (const auto& f : kAuditLineFields)
        if (f.when == AuditWhen::Always)
            m |= bit(f.key);
    return m;
}
static_assert(kAuditKeyCount <= 32, "the key set is a 32-bit mask");

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

// "name[addr]:port" -> "name"; "" for "unknown" (the milter's word for
// no verified name) and when there is no "[".
std::string_view clientName(std::string_view c) noexcept {
    const auto open = c.rfind('[');
    if (open == std::string_view::npos || c.substr(0, open) == "unknown")
        return {};
    return c.substr(0, open);
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
    // Optional queue id: "4XyZ1: user=..."; the id is written bare.  An
    // audit line opens with the schema's first key.
    const std::string_view first = kAuditLineFields[0].name;
    if (!(startsWith(msg, first) && msg.substr(first.size(), 1) == "=")) {
        const auto colon = msg.find(": ");
        if (colon == std::string_view::npos || colon == 0 || colon > 64)
            return LineKind::Other;
        const auto id = msg.substr(0, colon);
        for (char c : id)
            if (c == ' ' || c == '=' || c == ',' || c == '"')
                return LineKind::Other;
        const auto after = msg.substr(colon + 2);
        if (!(startsWith(after, first) && after.substr(first.size(), 1) == "="))
            return LineKind::Other;
        r.queueId = id;
        msg.remove_prefix(colon + 2);
    }
    unsigned have = 0;
    std::size_t i = 0, next = 0;
    while (true) {
        const auto eq = msg.find('=', i);
        if (eq == std::string_view::npos)
            return LineKind::Damaged;
        const AuditKey key = keyAt(msg.substr(i, eq - i), next);
        std::size_t j = eq + 1;
        if (j < msg.size() && msg[j] == '"') {
            for (++j; j < msg.size() && msg[j] != '"'; ++j)
                if (msg[j] == '\\')
                    ++j;
            if (j >= msg.size())
                return LineKind::Damaged; // unterminated: a truncated line
            ++j;
        } else {
            j = scan::findEither(msg, j, ',', ' ');
        }
        const std::string_view written = msg.substr(eq + 1, j - eq - 1);
        std::string_view v;
        bool ok = true;
        switch (key) {
        case AuditKey::User: ok = valueOf(written, scratch(key), r.user); break;
        case AuditKey::Mech: ok = valueOf(written, scratch(key), r.mech); break;
        case AuditKey::Tls: ok = valueOf(written, scratch(key), r.tls); break;
        case AuditKey::TlsRaw: ok = valueOf(written, scratch(key), r.tlsRaw); break;
        case AuditKey::Cipher: ok = valueOf(written, scratch(key), r.cipher); break;
        case AuditKey::Group: ok = valueOf(written, scratch(key), r.group); break;
        case AuditKey::Client:
            ok = valueOf(written, scratch(key), v);
            r.client = clientAddress(v);
            r.clientName = clientName(v);
            break;
        case AuditKey::Listener: ok = valueOf(written, scratch(key), r.listener); break;
        case AuditKey::Verdict: ok = valueOf(written, scratch(key), r.verdict); break;
        case AuditKey::Reason: ok = valueOf(written, scratch(key), r.reason); break;
        case AuditKey::Stage: ok = valueOf(written, scratch(key), r.stage); break;
        case AuditKey::Answered: ok = valueOf(written, scratch(key), r.answered); break;
        case AuditKey::Error: ok = valueOf(written, scratch(key), r.error); break;
        case AuditKey::Exception: ok = valueOf(written, scratch(key), r.exception); break;
        case AuditKey::ExemptUntil: ok = valueOf(written, scratch(key), r.exemptUntil); break;
        case AuditKey::Bits:
            // A number (0 is real: NULL ciphers), "unknown" under TLS when
            // not known, "none" on cleartext (FORMATS.md).
            if (written != "unknown" && written != "none") {
                int b = 0;
                ok = smallNumber(written, b);
                r.bits = b;
            }
            break;
        case AuditKey::Bucket: ok = smallNumber(written, r.bucket); break;
        case AuditKey::CleartextAuth: r.cleartextAuth = written == "yes"; break;
        case AuditKey::Time: case AuditKey::Host: case AuditKey::QueueId: case AuditKey::Event: case AuditKey::ClientName:
        case AuditKey::ClientAddr: case AuditKey::ClientPort: case AuditKey::ListenerPort:
        case AuditKey::Count: // a newer milter's key: skip, stay readable
            break;
        }
        if (!ok)
            return LineKind::Damaged;
        if (key != AuditKey::Count)
            have |= bit(key);
        if (j == msg.size())
            break;
        if (msg.compare(j, 2, ", ") != 0)
            return LineKind::Damaged;
        i = j + 2;
    }
    if ((have & requiredKeys()) != requiredKeys())
        return LineKind::Damaged;
    r.authenticated = !(r.user == "none" && r.mech == "none");
    if (r.tls == "none")
        r.bits.reset(); // an old milter's bits=0 on cleartext: no cipher at all
    return LineKind::Audit;
}

} // namespace rfc8314::report
