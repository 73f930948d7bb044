// rfc5322.cpp — strict Time-stamp-line reader and syntax predicates.
// See rfc5322.hpp.  A recursive-descent reader over the value; every error
// names what was expected and the octet offset.
#include "rfc8314/rfc5322.hpp"

#include "text.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstring>

namespace rfc8314 {

namespace {

using text::isAlpha;
using text::isDigit;
bool isWsp(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 5322 atext, from text.hpp's class table (the recipient and the
// queue id of every trace field go through it).
bool isAtext(char c) noexcept { return text::inClass(c, text::kClassAtext); }

// ctext: printable US-ASCII except "(", ")" and "\".
bool isCtext(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= 33 && u <= 126 && c != '(' && c != ')' && c != '\\';
}

// qtext (RFC 5321 qtextSMTP): printable US-ASCII and space, except '"' and '\'.
bool isQtext(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= 32 && u <= 126 && c != '"' && c != '\\';
}

using text::iequals;

bool isDotString(std::string_view s) noexcept {
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    char prev = 0;
    for (char c : s) {
        if (c == '.') {
            if (prev == '.')
                return false;
        } else if (!isAtext(c)) {
            return false;
        }
        prev = c;
    }
    return true;
}

bool isQuotedString(std::string_view s) noexcept {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] == '\\') {
            if (i + 2 >= s.size())
                return false;
            const auto u = static_cast<unsigned char>(s[i + 1]);
            if (u < 32 || u > 126)
                return false;
            ++i;
        } else if (!isQtext(s[i])) {
            return false;
        }
    }
    return true;
}

class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    bool fail(std::string what) {
        if (error_.empty())
            error_ = what + " at offset " + std::to_string(i_);
        return false;
    }
    const std::string& error() const { return error_; }
    bool atEnd() const { return i_ >= s_.size(); }
    char peek() const { return atEnd() ? '\0' : s_[i_]; }

    // FWS = ([*WSP CRLF] 1*WSP); LF alone is accepted as the line end too,
    // because libmilter values are folded with LF.  Returns whether any
    // white space was consumed; a line end not followed by WSP is an error.
    bool fws(bool& ok) {
        const std::size_t start = i_;
        for (;;) {
            if (!atEnd() && isWsp(s_[i_])) {
                ++i_;
                continue;
            }
            std::size_t eol = 0;
            if (s_.substr(i_, 2) == "\r\n")
                eol = 2;
            else if (peek() == '\n')
                eol = 1;
            else if (peek() == '\r') {
                ok = fail("bare CR");
                return false;
            }
            if (eol == 0)
                break;
            if (i_ + eol >= s_.size() || !isWsp(s_[i_ + eol])) {
                ok = fail("line end not followed by white space (not a fold)");
                return false;
            }
            i_ += eol;
        }
        return i_ > start;
    }

    bool comment(bool& ok) {
        // Caller saw '('.
        ++i_;
        int depth = 1;
        while (depth > 0) {
            if (atEnd()) {
                ok = fail("unterminated comment");
                return false;
            }
            const char c = s_[i_];
            if (c == '(') {
                ++depth;
                ++i_;
            } else if (c == ')') {
                --depth;
                ++i_;
            } else if (c == '\\') {
                if (i_ + 1 >= s_.size()) {
                    ok = fail("quoted-pair at end");
                    return false;
                }
                const auto u = static_cast<unsigned char>(s_[i_ + 1]);
                if (!((u >= 33 && u <= 126) || u == ' ' || u == '\t')) {
                    ok = fail("invalid quoted-pair in comment");
                    return false;
                }
                i_ += 2;
            } else if (isCtext(c)) {
                ++i_;
            } else if (isWsp(c) || c == '\r' || c == '\n') {
                fws(ok);
                if (!ok)
                    return false;
            } else {
                ok = fail("invalid octet in comment");
                return false;
            }
        }
        return true;
    }

    // CFWS: any mix of FWS and comments; returns whether anything was consumed.
    bool cfws(bool& ok) {
        const std::size_t start = i_;
        for (;;) {
            fws(ok);
            if (!ok)
                return false;
            if (peek() == '(') {
                if (!comment(ok))
                    return false;
                continue;
            }
            break;
        }
        return i_ > start;
    }

    std::string_view takeWhile(bool (*pred)(char)) {
        const std::size_t start = i_;
        while (!atEnd() && pred(s_[i_]))
            ++i_;
        return s_.substr(start, i_ - start);
    }

    // A keyword: the atom at the cursor equals kw (case-insensitively).
    bool keyword(std::string_view kw) {
        const std::size_t save = i_;
        auto w = takeWhile(isAtext);
        if (iequals(w, kw))
            return true;
        i_ = save;
        return false;
    }

    // Domain or address-literal.
    bool extendedDomainHead(std::string& out) {
        if (peek() == '[') {
            const std::size_t start = i_;
            while (!atEnd() && s_[i_] != ']')
                ++i_;
            if (atEnd())
                return fail("unterminated address literal");
            ++i_;
            out = std::string(s_.substr(start, i_ - start));
            if (!isValidAddressLiteral(out))
                return fail("invalid address literal '" + out + "'");
            return true;
        }
        auto d = takeWhile([](char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.'; });
        out = std::string(d);
        if (!isValidDomain(d))
            return fail("invalid domain '" + out + "'");
        return true;
    }

    // RFC 5321 Path / Mailbox (for the "for" clause).
    bool path(std::string& out) {
        const std::size_t start = i_;
        if (peek() == '<') {
            while (!atEnd() && s_[i_] != '>') {
                if (s_[i_] == '"') { // quoted local part may hold '>'
                    ++i_;
                    while (!atEnd() && s_[i_] != '"') {
                        if (s_[i_] == '\\')
                            ++i_;
                        ++i_;
                    }
                }
                if (!atEnd())
                    ++i_;
            }
            if (atEnd())
                return fail("unterminated path");
            ++i_;
            out = std::string(s_.substr(start, i_ - start));
            std::string_view inner = std::string_view(out).substr(1, out.size() - 2);
            // Source routes (A-d-l ":") are obsolete but part of Path.
            if (!inner.empty() && inner.front() == '@') {
                auto colon = inner.find(':');
                if (colon == std::string_view::npos)
                    return fail("invalid source route in path");
                inner.remove_prefix(colon + 1);
            }
            if (!isValidMailbox(inner))
                return fail("invalid mailbox in path '" + out + "'");
            return true;
        }
        while (!atEnd() && !isWsp(s_[i_]) && s_[i_] != ';' && s_[i_] != '(' && s_[i_] != '\r' &&
               s_[i_] != '\n')
            ++i_;
        out = std::string(s_.substr(start, i_ - start));
        if (!isValidMailbox(out))
            return fail("invalid mailbox '" + out + "'");
        return true;
    }

    bool number(int minDigits, int maxDigits, int& value) {
        const std::size_t start = i_;
        while (!atEnd() && isDigit(s_[i_]) && static_cast<int>(i_ - start) < maxDigits)
            ++i_;
        const int n = static_cast<int>(i_ - start);
        if (n < minDigits || (!atEnd() && isDigit(s_[i_])))
            return fail("expected " + std::to_string(minDigits) + "-" + std::to_string(maxDigits) +
                        " digits");
        value = 0;
        for (std::size_t k = start; k < i_; ++k)
            value = value * 10 + (s_[k] - '0');
        return true;
    }

    bool expect(char c) {
        if (peek() != c)
            return fail(std::string("expected '") + c + "'");
        ++i_;
        return true;
    }

    // RFC 5322 §3.3 date-time, strict (no obsolete forms).
    bool dateTime(std::string& out) {
        static const std::array<const char*, 7> days{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        bool ok = true;
        const std::size_t start = i_;
        if (isAlpha(peek())) {
            auto d = takeWhile(isAlpha);
            bool found = false;
            for (auto* name : days)
                found = found || d == name;
            if (!found)
                return fail("invalid day-of-week");
            if (!expect(','))
                return false;
        }
        fws(ok);
        if (!ok)
            return false;
        int day = 0, year = 0, hh = 0, mm = 0, ss = 0, zone = 0;
        if (!number(1, 2, day))
            return false;
        if (day < 1 || day > 31)
            return fail("day out of range");
        if (!fws(ok))
            return ok ? fail("expected white space after day") : false;
        auto mon = takeWhile(isAlpha);
        bool found = false;
        for (auto* name : months)
            found = found || mon == name;
        if (!found)
            return fail("invalid month");
        if (!fws(ok))
            return ok ? fail("expected white space after month") : false;
        if (!number(4, 4, year))
            return false;
        if (year < 1900)
            return fail("year before 1900");
        if (!fws(ok))
            return ok ? fail("expected white space after year") : false;
        if (!number(2, 2, hh) || !expect(':') || !number(2, 2, mm))
            return false;
        if (peek() == ':' && (++i_, !number(2, 2, ss)))
            return false;
        if (hh > 23 || mm > 59 || ss > 60)
            return fail("time out of range");
        if (!fws(ok))
            return ok ? fail("expected white space before zone") : false;
        if (peek() != '+' && peek() != '-')
            return fail("expected numeric zone");
        ++i_;
        if (!number(4, 4, zone))
            return false;
        if (zone % 100 > 59)
            return fail("zone minutes out of range");
        out = std::string(s_.substr(start, i_ - start));
        cfws(ok);
        return ok;
    }

private:
    std::string_view s_;
    std::size_t i_ = 0;
    std::string error_;
};

bool isReservedClause(std::string_view w) noexcept {
    return iequals(w, "from") || iequals(w, "by") || iequals(w, "via") || iequals(w, "with") ||
           iequals(w, "id") || iequals(w, "for");
}

// ALPHA *(ALPHA / DIGIT / "_"), plus "-" when `hyphen`: tls-cipher-name
// and dh-group differ only there.
bool isClauseName(std::string_view s, bool hyphen) noexcept {
    if (s.empty() || !isAlpha(s.front()))
        return false;
    for (char c : s)
        if (!isAlpha(c) && !isDigit(c) && c != '_' && !(hyphen && c == '-'))
            return false;
    return true;
}

} // namespace

bool isValidDomain(std::string_view s) noexcept {
    if (s.empty() || s.size() > 255)
        return false;
    // Labels of 1 to 63 letters, digits and hyphens, neither first nor
    // last a hyphen.  Each label is judged at its end, so the octets
    // between cost one table test each (the trace field's recipient
    // domain, once per message).
    const auto label = [&s](std::size_t from, std::size_t to) noexcept {
        return to > from && to - from <= 63 && s[from] != '-' && s[to - 1] != '-';
    };
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (text::inClass(s[i], text::kClassLdh))
            continue;
        if (s[i] != '.' || !label(start, i))
            return false;
        start = i + 1;
    }
    return label(start, s.size());
}

bool isValidAddressLiteral(std::string_view s) noexcept {
    if (s.size() < 3 || s.front() != '[' || s.back() != ']' || s.size() > 64)
        return false;
    std::string_view inner = s.substr(1, s.size() - 2);
    char buf[64] = {};
    unsigned char bin[16];
    if (inner.size() > 5 && iequals(inner.substr(0, 5), "IPv6:")) {
        inner.remove_prefix(5);
        if (inner.size() >= sizeof buf)
            return false;
        std::memcpy(buf, inner.data(), inner.size());
        return inet_pton(AF_INET6, buf, bin) == 1;
    }
    if (inner.size() >= sizeof buf)
        return false;
    std::memcpy(buf, inner.data(), inner.size());
    // inet_pton(AF_INET) takes exactly dotted-quad decimal, as RFC 5321 does.
    return inet_pton(AF_INET, buf, bin) == 1;
}

std::string addressLiteral(std::string_view addr) {
    char buf[64] = {};
    unsigned char bin[16];
    if (addr.empty() || addr.size() >= sizeof buf)
        return {};
    std::memcpy(buf, addr.data(), addr.size());
    if (inet_pton(AF_INET, buf, bin) == 1)
        return "[" + std::string(addr) + "]";
    if (inet_pton(AF_INET6, buf, bin) == 1) {
        // An IPv4-mapped address is written as IPv4, as MTAs do.
        if (addr.size() > 7 && iequals(addr.substr(0, 7), "::ffff:") &&
            inet_pton(AF_INET, buf + 7, bin) == 1)
            return "[" + std::string(addr.substr(7)) + "]";
        return "[IPv6:" + std::string(addr) + "]";
    }
    return {};
}

bool isAtom(std::string_view s) noexcept {
    if (s.empty())
        return false;
    for (char c : s)
        if (!isAtext(c))
            return false;
    return true;
}

bool isValidMailbox(std::string_view s) noexcept {
    if (s.size() > 256)
        return false;
    std::size_t at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size())
        return false;
    std::string_view local = s.substr(0, at);
    std::string_view domain = s.substr(at + 1);
    if (local.size() > 64 + 2)
        return false;
    if (!isDotString(local) && !isQuotedString(local))
        return false;
    return isValidDomain(domain) || isValidAddressLiteral(domain);
}

bool isValidTlsCipherValue(std::string_view s) noexcept {
    if (s.size() == 6 && s[0] == '0' && s[1] == 'x') {
        for (std::size_t i = 2; i < 6; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(s[i])))
                return false;
        return true;
    }
    return isClauseName(s, false);
}

bool isValidDhGroup(std::string_view s) noexcept { return isClauseName(s, true); }

ParseResult parseTimeStampLine(std::string_view value) {
    ParseResult r;
    // The field's own line end, if the caller kept it, is not part of it.
    if (value.size() >= 2 && value.substr(value.size() - 2) == "\r\n")
        value.remove_suffix(2);
    else if (!value.empty() && value.back() == '\n')
        value.remove_suffix(1);
    Reader rd(value);
    bool ok = true;
    auto done = [&](bool good) {
        r.ok = good && ok && rd.error().empty();
        if (!r.ok)
            r.error = rd.error().empty() ? "invalid" : rd.error();
        return r;
    };

    rd.fws(ok);
    if (!ok)
        return done(false);
    if (!rd.keyword("from"))
        return done(rd.fail("expected 'from'"));
    if (!rd.fws(ok))
        return done(ok ? rd.fail("expected white space after 'from'") : false);
    if (!rd.extendedDomainHead(r.from))
        return done(false);
    if (!rd.cfws(ok))
        return done(ok ? rd.fail("expected white space before 'by'") : false);
    if (!rd.keyword("by"))
        return done(rd.fail("expected 'by'"));
    if (!rd.fws(ok))
        return done(ok ? rd.fail("expected white space after 'by'") : false);
    if (!rd.extendedDomainHead(r.by))
        return done(false);

    // Opt-info: each clause preceded by CFWS, in RFC 5321 order.
    int rank = 0;
    for (;;) {
        const bool sep = rd.cfws(ok);
        if (!ok)
            return done(false);
        if (rd.peek() == ';')
            break;
        if (rd.atEnd())
            return done(rd.fail("expected ';' before the date"));
        if (!sep)
            return done(rd.fail("expected white space before a clause"));
        std::string word(rd.takeWhile(isAtext));
        if (word.empty())
            return done(rd.fail("expected a clause name"));
        // via, with, id, for (RFC 5321), then tls and group (RFC 8314 §4.3).
        int wantRank = 0;
        if (iequals(word, "via")) wantRank = 1;
        else if (iequals(word, "with")) wantRank = 2;
        else if (iequals(word, "id")) wantRank = 3;
        else if (iequals(word, "for")) wantRank = 4;
        else if (iequals(word, "tls")) wantRank = 5;
        else if (iequals(word, "group")) wantRank = 6;
        else if (isReservedClause(word))
            return done(rd.fail("'" + word + "' clause out of place"));
        else
            return done(rd.fail("'" + word + "' is not a registered clause (only tls and group "
                                "are, RFC 8314 §7.4)"));
        if (wantRank == 6 && rank != 5)
            return done(rd.fail("'group' not immediately after the tls clause (RFC 8314 §4.3)"));
        if (wantRank <= rank)
            return done(rd.fail("'" + word + "' clause out of Opt-info order or repeated"));
        rank = wantRank;
        if (!rd.fws(ok))
            return done(ok ? rd.fail("expected white space after '" + word + "'") : false);
        std::string v;
        switch (wantRank) {
        case 1:
        case 2:
            v = std::string(rd.takeWhile(isAtext));
            if (v.empty())
                return done(rd.fail("expected a protocol atom after '" + word + "'"));
            (wantRank == 1 ? r.via : r.with) = v;
            break;
        case 3:
            if (rd.peek() == '<') {
                if (!rd.path(v)) // msg-id has the same outline; accept <x@y>
                    return done(false);
            } else {
                v = std::string(rd.takeWhile(isAtext));
                if (v.empty())
                    return done(rd.fail("expected an atom after 'id'"));
            }
            r.id = v;
            break;
        case 4:
            if (!rd.path(v))
                return done(false);
            r.forPath = v;
            break;
        default:
            v = std::string(rd.takeWhile(isAtext));
            if (wantRank == 5 && !isValidTlsCipherValue(v))
                return done(rd.fail("invalid tls clause value '" + v + "'"));
            if (wantRank == 6 && !isValidDhGroup(v))
                return done(rd.fail("invalid group clause value '" + v + "'"));
            r.extra.emplace_back(word, v);
        }
    }
    if (!rd.expect(';'))
        return done(false);
    if (!rd.fws(ok))
        return done(ok ? rd.fail("expected white space after ';'") : false);
    if (!rd.dateTime(r.date))
        return done(false);
    if (!rd.atEnd())
        return done(rd.fail("unexpected text after the date"));
    return done(true);
}

} // namespace rfc8314
