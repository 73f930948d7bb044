// notices.cpp — the notices to users below the rule.  See notices.hpp.
//
// The message is assembled here, header field by header field, so every
// value passes one of three gates: an address checked as an RFC 5321
// mailbox (rfc5322.hpp), a date from formatDate(), or headerField(), which
// encodes.  The body passes quotedPrintable().  Template errors are
// template errors, found by parse() before any message is made.
#include "notices.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "rfc8314/logfmt.hpp"
#include "rfc8314/received.hpp"
#include "rfc8314/rfc5322.hpp"
#include "tables.hpp"

namespace rfc8314::report {

extern const char kDefaultNoticeTemplate[]; // generated from report/templates/notice.txt (mk/report.mk)

std::string_view defaultNoticeTemplate() noexcept { return kDefaultNoticeTemplate; }

// ---- cleaning and encoding ----------------------------------------------------

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// The code point of the UTF-8 sequence at s[i] and its length, or length
// 0 when the bytes there are not UTF-8 (overlong, surrogate, > U+10FFFF).
std::size_t decodeUtf8(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    if (c < 0x80) {
        cp = c;
        return 1;
    }
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
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

// Code points that move or hide text: line and paragraph separators, and
// the bidirectional embeddings, overrides and isolates (a user name could
// otherwise turn a sentence around).
bool hidesText(std::uint32_t cp) noexcept {
    return cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x200E || cp == 0x200F || cp == 0xFEFF;
}

bool printableAscii(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7E)
            return false;
    return true;
}

} // namespace

std::string cleanText(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = decodeUtf8(raw, i, cp);
        if (n == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
            continue;
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            out += "\\x";
            out += kHex[(cp >> 4) & 0xF];
            out += kHex[cp & 0xF];
        } else if (hidesText(cp)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
            out += buf;
        } else {
            out.append(raw.substr(i, n));
        }
        i += n;
    }
    return out;
}

namespace {

// RFC 2047 encoded words ("=?UTF-8?Q?...?="), each at most 75 octets and
// never splitting a character, one per line: the first after the field
// name (`firstLineUsed` octets, its blank included) within 78, the others
// on continuation lines of their own (" " and the word: at most 76).
std::string encodedWords(std::string_view value, std::size_t firstLineUsed) {
    const std::string_view open = "=?UTF-8?Q?", close = "?=";
    std::string out, word;
    auto room = [&] {
        const std::size_t line = out.empty() ? (firstLineUsed < 78 ? 78 - firstLineUsed : 0) : 75;
        return std::min<std::size_t>(75, line);
    };
    auto flush = [&] {
        if (word.empty())
            return;
        if (!out.empty())
            out += "\n ";
        out.append(open).append(word).append(close);
        word.clear();
    };
    for (std::size_t i = 0; i < value.size();) {
        std::uint32_t cp = 0;
        std::size_t n = decodeUtf8(value, i, cp);
        if (n == 0)
            n = 1; // the caller cleaned it; encode the byte rather than loop
        // Q encoding of one character: in an unstructured field, letters,
        // digits and a few marks stand for themselves, '_' for a space.
        std::string enc;
        for (std::size_t k = 0; k < n; ++k) {
            const auto c = static_cast<unsigned char>(value[i + k]);
            if (c == ' ')
                enc += '_';
            else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c != 0 && std::strchr("!*+-/", c)))
                enc += static_cast<char>(c);
            else {
                enc += '=';
                enc += kHex[c >> 4];
                enc += kHex[c & 0xF];
            }
        }
        if (!word.empty() && open.size() + word.size() + enc.size() + close.size() > room())
            flush();
        word += enc;
        i += n;
    }
    flush();
    return out;
}

} // namespace

std::string headerField(std::string_view name, std::string_view value) {
    std::string out(name);
    out += ':';
    // Plain when printable ASCII that no reader could take for an encoded
    // word, in words short enough to fold; else encoded words throughout.
    bool plain = printableAscii(value) && value.find("=?") == std::string_view::npos;
    std::vector<std::string_view> words;
    for (std::size_t i = 0; plain && i < value.size();) {
        const std::size_t sp = value.find(' ', i);
        const std::string_view w = value.substr(i, sp == std::string_view::npos ? sp : sp - i);
        if (w.empty() || w.size() > 70) // a run of spaces would fold into a blank continuation line
            plain = false;
        words.push_back(w);
        i = sp == std::string_view::npos ? value.size() : sp + 1;
        if (sp != std::string_view::npos && i == value.size())
            plain = false; // trailing space
    }
    if (value.empty()) {
        out += '\n';
        return out;
    }
    if (!plain) {
        out += ' ';
        out += encodedWords(value, out.size());
        out += '\n';
        return out;
    }
    std::size_t lineUsed = out.size();
    for (const auto w : words) {
        if (lineUsed + 1 + w.size() > 78) {
            out += "\n";
            lineUsed = 0;
        }
        out += ' ';
        out.append(w);
        lineUsed += 1 + w.size();
    }
    out += '\n';
    return out;
}

std::string quotedPrintable(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t nl = text.find('\n', start);
        const std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        std::size_t used = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const auto c = static_cast<unsigned char>(line[i]);
            const bool last = i + 1 == line.size();
            // Literal: printable ASCII but '=', and a blank not at the end
            // of the line.  A '.' or "From " at the start of a line is
            // encoded too, for a sendmail without -i and for mbox readers.
            bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
            if (used == 0 && (c == '.' || (c == 'F' && line.substr(i, 5) == "From ")))
                literal = false;
            const std::size_t need = literal ? 1 : 3;
            // Soft break: the encoded line stays within 76 octets, the '='
            // included.
            if (used + need > 75) {
                out += "=\n";
                used = 0;
                if (c == '.' || (c == 'F' && line.substr(i, 5) == "From "))
                    literal = false;
            }
            if (literal) {
                out += static_cast<char>(c);
                used += 1;
            } else {
                out += '=';
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
                used += 3;
            }
        }
        if (nl == std::string_view::npos)
            break;
        out += '\n';
        start = nl + 1;
    }
    return out;
}

std::string noticeAddress(std::string_view user, std::string_view domain) {
    // "=?" is atext, but a reader of RFC 2047 (Python's email package,
    // some mail programs) decodes "=?UTF-8?Q?x?=@example.org" in To and
    // shows another address than the one mailed: no notice, not a guess.
    if (user.find("=?") != std::string_view::npos)
        return {};
    if (isValidMailbox(user))
        return std::string(user);
    if (!domain.empty() && user.find('@') == std::string_view::npos) {
        std::string a(user);
        a += '@';
        a.append(domain);
        if (isValidMailbox(a))
            return a;
    }
    return {};
}

// ---- the template ---------------------------------------------------------------

const std::vector<std::string_view>& noticePlaceholders() {
    static const std::vector<std::string_view> v = {
        "user", "address", "from", "deadline", "min_tls", "min_bits", "first_seen", "last_seen",
        "transactions", "total_transactions", "tls_versions", "tls_mix", "mechanisms", "cleartext_transactions"};
    return v;
}

const std::vector<std::string_view>& noticeClientPlaceholders() {
    static const std::vector<std::string_view> v = {"client", "client_address", "client_name", "client_tls",
                                                    "client_last_seen", "client_transactions"};
    return v;
}

const std::vector<std::string_view>& noticeConditions() {
    static const std::vector<std::string_view> v = {"cleartext", "deadline", "more_clients", "min_tls", "min_bits",
                                                    "dated", "undated"};
    return v;
}

namespace {

bool known(const std::vector<std::string_view>& names, std::string_view n) {
    return std::find(names.begin(), names.end(), n) != names.end();
}

// Pieces of one line; false with *why when a '{' opens no known name.
bool pieces(std::string_view line, bool inFor, std::vector<NoticeTemplate::Piece>& out, std::string* why,
            std::vector<std::string>& used) {
    std::string lit;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] != '{') {
            lit += line[i];
            continue;
        }
        if (i + 1 < line.size() && line[i + 1] == '{') {
            lit += '{';
            ++i;
            continue;
        }
        const std::size_t close = line.find('}', i);
        if (close == std::string_view::npos) {
            *why = "'{' without '}' (write {{ for a literal brace)";
            return false;
        }
        const std::string name(line.substr(i + 1, close - i - 1));
        if (!known(noticePlaceholders(), name) && !(inFor && known(noticeClientPlaceholders(), name))) {
            *why = known(noticeClientPlaceholders(), name) ? "{" + name + "} outside a {for client} block"
                                                           : "unknown placeholder {" + name.substr(0, 40) + "}";
            return false;
        }
        if (!lit.empty())
            out.push_back({false, lit});
        lit.clear();
        out.push_back({true, name});
        used.push_back(name);
        i = close;
    }
    if (!lit.empty())
        out.push_back({false, lit});
    return true;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::optional<NoticeTemplate> NoticeTemplate::parse(std::string_view text, std::string* error) {
    std::string why;
    auto fail = [&](int line, const std::string& msg) -> std::optional<NoticeTemplate> {
        if (error)
            *error = "line " + std::to_string(line) + ": " + msg;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < text.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = decodeUtf8(text, i, cp);
        if (n == 0)
            return fail(1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(i), '\n')),
                        "not UTF-8");
        i += n;
    }
    NoticeTemplate t;
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos <= text.size();) {
        const std::size_t nl = text.find('\n', pos);
        lines.push_back(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
        if (nl == std::string_view::npos)
            break;
        pos = nl + 1;
    }
    if (!lines.empty() && lines.back().empty())
        lines.pop_back(); // the file's final newline
    std::string_view first = lines.empty() ? std::string_view() : trimmed(lines[0]);
    if (first.size() < 8 || first.substr(0, 8) != "Subject:")
        return fail(1, "the first line must be \"Subject: TEXT\"");
    if (lines.size() < 2 || !trimmed(lines[1]).empty())
        return fail(2, "an empty line must follow the Subject line");
    std::vector<std::string> used;
    if (!pieces(trimmed(first.substr(8)), false, t.subject, &why, used))
        return fail(1, why);
    std::vector<std::string> plainUsed; // placeholders outside {if deadline}
    plainUsed = used;
    Block* open = nullptr;
    int openLine = 0;
    t.body.push_back({});
    for (std::size_t k = 2; k < lines.size(); ++k) {
        const int lineNo = static_cast<int>(k) + 1;
        const std::string_view l = trimmed(lines[k]);
        if (l.size() > 2 && l.front() == '{' && l.back() == '}' && l[1] != '{' &&
            (l.substr(0, 4) == "{if " || l == "{for client}" || l == "{end}" || l.substr(0, 5) == "{for ")) {
            if (l == "{end}") {
                if (!open)
                    return fail(lineNo, "{end} without {if ...} or {for client}");
                open = nullptr;
                t.body.push_back({});
                continue;
            }
            if (open)
                return fail(lineNo, "blocks do not nest: {end} the block of line " + std::to_string(openLine) +
                                        " first");
            Block b;
            if (l == "{for client}") {
                b.kind = Block::For;
            } else if (l.substr(0, 4) == "{if ") {
                b.kind = Block::If;
                b.cond = std::string(trimmed(l.substr(4, l.size() - 5)));
                if (!known(noticeConditions(), b.cond))
                    return fail(lineNo, "unknown condition {if " + b.cond.substr(0, 40) + "}");
            } else {
                return fail(lineNo, "only {for client} repeats");
            }
            t.body.push_back(std::move(b));
            open = &t.body.back();
            openLine = lineNo;
            continue;
        }
        Line line;
        std::vector<std::string> lineUsed;
        if (!pieces(lines[k], open && open->kind == Block::For, line.pieces, &why, lineUsed))
            return fail(lineNo, why);
        if (!(open && open->kind == Block::If && open->cond == "deadline"))
            plainUsed.insert(plainUsed.end(), lineUsed.begin(), lineUsed.end());
        t.body.back().lines.push_back(std::move(line));
    }
    if (open)
        return fail(openLine, "block without {end}");
    t.needsDeadline_ = std::find(plainUsed.begin(), plainUsed.end(), "deadline") != plainUsed.end();
    return t;
}

// ---- the notices ------------------------------------------------------------------

namespace {

std::string tlsWord(int k) {
    return k == static_cast<int>(TlsVersion::None) ? "cleartext" : std::string(toString(static_cast<TlsVersion>(k)));
}

// "cleartext, TLSv1.0": the versions of a bit set, oldest first.
std::string tlsList(std::uint8_t bits) {
    std::string s;
    for (int k = 0; k < kTlsCount; ++k)
        if (bits & (1u << k))
            s += (s.empty() ? "" : ", ") + tlsWord(k);
    return s;
}

std::string percentText(std::uint64_t part, std::uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
    return buf;
}

// A file name of its own for the notice: its number and the user name's
// safe bytes.
std::string fileNameFor(std::size_t n, std::string_view user) {
    char num[24];
    std::snprintf(num, sizeof num, "%04zu-", n);
    std::string s = num;
    for (unsigned char c : user.substr(0, 48)) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
        s += safe ? static_cast<char>(c) : '_';
    }
    return s + ".eml";
}

struct Values {
    std::vector<std::pair<std::string_view, std::string>> global;
    std::vector<std::vector<std::pair<std::string_view, std::string>>> clients;
    std::vector<std::string_view> conditions;
    const std::string& get(std::string_view name, std::size_t client) const {
        if (client < clients.size())
            for (const auto& [k, v] : clients[client])
                if (k == name)
                    return v;
        for (const auto& [k, v] : global)
            if (k == name)
                return v;
        static const std::string none;
        return none;
    }
    bool holds(std::string_view cond) const {
        return std::find(conditions.begin(), conditions.end(), cond) != conditions.end();
    }
};

std::string render(const std::vector<NoticeTemplate::Piece>& ps, const Values& v, std::size_t client) {
    std::string s;
    for (const auto& p : ps)
        s += p.placeholder ? v.get(p.text, client) : p.text;
    return s;
}

std::string messageId(const NoticeOptions& o, std::size_t n) {
    const std::string_view domain = std::string_view(o.from).substr(o.from.rfind('@') + 1);
    std::tm tm{};
    gmtime_r(&o.now, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "<rfc8314-notice.%04d%02d%02d%02d%02d%02d.%ld.%zu@", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, o.pid, n);
    return buf + std::string(domain) + ">";
}

} // namespace

void makeNotices(const Aggregator& a, const NoticeTemplate& t, const NoticeOptions& o,
                 const std::function<void(const Notice&)>& each,
                 const std::function<void(std::uint32_t user)>& noAddress) {
    const WhatIfPolicy& rule = a.policy();
    std::size_t n = 0;
    for (std::uint32_t id : entityOrder(a.users, a.userNames, 0)) {
        if (id >= a.below.size() || a.below[id].count == 0)
            continue;
        const std::string_view user = a.userNames.name(id);
        Notice notice;
        notice.user = id;
        notice.to = noticeAddress(user, o.domain);
        if (notice.to.empty()) {
            noAddress(id);
            continue;
        }
        const Entity& e = a.users[id];
        const BelowDetail& b = a.below[id];
        Values v;
        std::uint8_t belowTls = 0;
        for (int k = 0; k < kTlsCount; ++k)
            if (b.tls[k])
                belowTls |= static_cast<std::uint8_t>(1u << k);
        std::string mix;
        for (int k = kTlsCount - 1; k >= 0; --k)
            if (e.tls[k])
                mix += (mix.empty() ? "" : ", ") + tlsWord(k) + " " + percentText(e.tls[k], e.count);
        std::string mechs;
        for (auto m : tallyNames(e.mechs, a.mechs))
            mechs += (mechs.empty() ? "" : ", ") + cleanText(m);
        v.global = {
            {"user", cleanText(user)},
            {"address", notice.to},
            {"from", o.from},
            {"deadline", o.deadline ? o.deadline->str() : std::string()},
            {"min_tls", rule.minTls != TlsVersion::None ? std::string(toString(rule.minTls)) : std::string()},
            {"min_bits", rule.minBits > 0 ? std::to_string(rule.minBits) : std::string()},
            {"first_seen", formatTime(b.first)},
            {"last_seen", formatTime(b.last)},
            {"transactions", std::to_string(b.count)},
            {"total_transactions", std::to_string(e.count)},
            {"tls_versions", tlsList(belowTls)},
            {"tls_mix", mix},
            {"mechanisms", mechs},
            {"cleartext_transactions", std::to_string(e.cleartext)},
        };
        for (const auto& c : b.clients) {
            const std::string addr = cleanText(a.clientNames.name(c.id));
            const std::string name = cleanText(a.hostNames.name(c.name));
            v.clients.push_back({
                {"client", name.empty() ? addr : addr + " (" + name + ")"},
                {"client_address", addr},
                {"client_name", name},
                {"client_tls", tlsList(c.tls)},
                {"client_last_seen", c.last >= 0 ? formatTime(c.last) : std::string("an unknown day")},
                {"client_transactions", std::to_string(c.count)},
            });
        }
        if (e.cleartext)
            v.conditions.push_back("cleartext");
        if (o.deadline)
            v.conditions.push_back("deadline");
        if (b.clientsCapped)
            v.conditions.push_back("more_clients");
        if (rule.minTls != TlsVersion::None)
            v.conditions.push_back("min_tls");
        if (rule.minBits > 0)
            v.conditions.push_back("min_bits");
        // A log without times (the milter's stderr, journalctl -o cat)
        // gives no "between ... and ...": the template says it otherwise.
        v.conditions.push_back(b.last >= 0 ? "dated" : "undated");

        std::string body;
        for (const auto& block : t.body) {
            if (block.kind == NoticeTemplate::Block::If && !v.holds(block.cond))
                continue;
            const std::size_t reps = block.kind == NoticeTemplate::Block::For ? v.clients.size() : 1;
            for (std::size_t r = 0; r < reps; ++r)
                for (const auto& line : block.lines)
                    body += render(line.pieces, v, block.kind == NoticeTemplate::Block::For ? r : SIZE_MAX) + '\n';
        }
        ++n;
        notice.fileName = fileNameFor(n, user);
        std::string& m = notice.message;
        m = "From: " + o.from + "\n";
        m += "To: " + notice.to + "\n";
        m += headerField("Subject", cleanText(render(t.subject, v, SIZE_MAX)));
        m += "Date: " + formatDate(o.now, o.utcOffsetMinutes) + "\n";
        m += "Message-ID: " + messageId(o, n) + "\n";
        m += "Auto-Submitted: auto-generated\n";
        m += "MIME-Version: 1.0\n";
        m += "Content-Type: text/plain; charset=UTF-8\n";
        m += "Content-Transfer-Encoding: quoted-printable\n\n";
        m += quotedPrintable(body);
        each(notice);
    }
}

} // namespace rfc8314::report
