// received.cpp — builds the trace field.  See received.hpp.
//
// The field is assembled from unbreakable tokens ("from host", "(name
// [addr])", "with ESMTPSA", ...) joined by single spaces, and folded between
// tokens.  Every token is bounded (validated names are at most 255 octets,
// the escaped HELO comment at most ~210), so no line can reach 998 octets.
//
// It runs once per message, so it is written for that (issue 17): a token
// is a few views into the input, not a string of its own, and the field is
// written once into one string; the date is formatted once per second per
// thread (a message in the same second reuses the text).
#include "rfc8314/received.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "rfc8314/rfc5322.hpp"

namespace rfc8314 {

namespace {

constexpr std::size_t kFoldAt = 78;
constexpr std::size_t kHeloCommentMax = 100; // source octets shown in the comment
constexpr std::size_t kQueueIdMax = 128;

// A comment body that shows `s` safely: printable ASCII kept, "(", ")" and
// "\" as quoted-pairs, every other octet (controls, CR, LF, NUL, 8-bit) as
// "?".  Long values are cut and marked with "...".
std::string commentText(std::string_view s, std::size_t max) {
    std::string out;
    const bool cut = s.size() > max;
    if (cut)
        s = s.substr(0, max);
    out.reserve(2 * s.size() + 3);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '(' || ch == ')' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c >= 0x20 && c < 0x7F) {
            out += ch;
        } else {
            out += '?';
        }
    }
    if (cut)
        out += "...";
    return out;
}

// One unbreakable token: the concatenation of a few views.  The views point
// into the input, the literals here, or strings of buildReceived that live
// until the field is written.
// At most five parts: "(", name, " ", "[addr]", ")"; a clause that ends
// the field's clauses gets ";" as one more, and has three at most.
struct Token {
    std::array<std::string_view, 5> parts{};
    std::size_t count = 0;
    std::size_t size = 0;
    void add(std::string_view p) noexcept {
        parts[count++] = p;
        size += p.size();
    }
};

// The tokens of one fold: the connection's clauses (from, the client
// comment, the HELO comment, by: four) or the message's (with, id, for,
// tls, group and the date: six); one to spare.  Every one is set up per
// message, so the bound is kept tight (issue 17).
constexpr std::size_t kMaxTokens = 7;
class Tokens {
public:
    Token& add(std::initializer_list<std::string_view> parts) noexcept {
        Token& t = tokens_[count_++];
        for (auto p : parts)
            t.add(p);
        return t;
    }
    Token& back() noexcept { return tokens_[count_ - 1]; }
    const Token* begin() const noexcept { return tokens_.data(); }
    const Token* end() const noexcept { return tokens_.data() + count_; }

private:
    std::array<Token, kMaxTokens> tokens_{};
    std::size_t count_ = 0;
};

// Copies a part of a token: most are a few octets ("(", " ", "by "),
// where a loop beats a call of memcpy.
inline char* put(char* p, std::string_view v) noexcept {
    if (v.size() <= 16) {
        for (char c : v)
            *p++ = c;
        return p;
    }
    std::memcpy(p, v.data(), v.size());
    return p + v.size();
}

// Joins the tokens with a space, or with eol + TAB where the next token
// would take the line past kFoldAt; never inside a token.  Two passes: the
// separators first, then one resize and plain copies (a std::string append
// per part cost more than the rest of the field).  `head` is text already
// folded that the tokens follow (the line then stands at column `col`);
// `endCol`, when given, gets the column after the last token.  Written
// into `out` (its text dropped, its capacity kept).
std::string fold(std::string&& out, const Tokens& tokens, std::string_view eol, std::string_view head = {},
                 std::size_t col = sizeof("Received: ") - 1, std::size_t* endCol = nullptr) {
    std::array<bool, kMaxTokens> folded{}; // before token i: eol + TAB, else a space
    std::size_t total = head.size();
    std::size_t i = 0;
    for (const auto& t : tokens) {
        if (i > 0 || !head.empty()) {
            folded[i] = col + 1 + t.size > kFoldAt;
            total += folded[i] ? eol.size() + 1 : 1;
            col = folded[i] ? 1 : col + 1;
        }
        total += t.size;
        col += t.size;
        ++i;
    }
    if (endCol)
        *endCol = col;
    out.assign(total, '\0');
    char* p = put(out.data(), head);
    i = 0;
    for (const auto& t : tokens) {
        if (i > 0 || !head.empty()) {
            if (folded[i]) {
                p = put(p, eol);
                *p++ = '\t';
            } else {
                *p++ = ' ';
            }
        }
        for (std::size_t k = 0; k < t.count; ++k)
            p = put(p, t.parts[k]);
        ++i;
    }
    return std::move(out);
}

// RFC 5322 date-time into buf (at least kDateMax octets); returns its length.
constexpr std::size_t kDateMax = 64; // the longest: a 12-digit year
std::size_t writeDate(char* buf, std::time_t when, int utcOffsetMinutes) noexcept {
    static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    // Offsets beyond +-23:59 cannot be written; treat them as UTC.
    if (utcOffsetMinutes <= -24 * 60 || utcOffsetMinutes >= 24 * 60)
        utcOffsetMinutes = 0;
    const std::time_t local = when + static_cast<std::time_t>(utcOffsetMinutes) * 60;
    std::tm tm{};
    gmtime_r(&local, &tm);
    const long year = static_cast<long>(tm.tm_year) + 1900;
    if (year < 0)
        return writeDate(buf, 0, 0); // no syntax for it; cannot come from a clock
    const int off = utcOffsetMinutes < 0 ? -utcOffsetMinutes : utcOffsetMinutes;
    // By hand rather than snprintf: the format has no room for anything but
    // these digits.
    char* p = buf;
    auto put = [&p](const char* s) {
        while (*s)
            *p++ = *s++;
    };
    auto two = [&p](int v) {
        *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
    };
    put(days[tm.tm_wday % 7]);
    put(", ");
    if (tm.tm_mday >= 10)
        *p++ = static_cast<char>('0' + tm.tm_mday / 10);
    *p++ = static_cast<char>('0' + tm.tm_mday % 10);
    *p++ = ' ';
    put(months[tm.tm_mon % 12]);
    *p++ = ' ';
    if (year > 9999) {
        char digits[24];
        std::snprintf(digits, sizeof digits, "%ld", year); // RFC 5322: 4*DIGIT, four or more
        put(digits);
    } else {
        two(static_cast<int>(year / 100));
        two(static_cast<int>(year % 100));
    }
    *p++ = ' ';
    two(tm.tm_hour);
    *p++ = ':';
    two(tm.tm_min);
    *p++ = ':';
    two(tm.tm_sec);
    *p++ = ' ';
    *p++ = utcOffsetMinutes < 0 ? '-' : '+';
    two(off / 60);
    two(off % 60);
    return static_cast<std::size_t>(p - buf);
}

// The date of the last message on this thread: many messages share their
// second on a busy host, and gmtime_r plus the digits cost more than the
// rest of the field's clauses.  Keyed on both inputs, so a hit is always
// the text writeDate would write; per thread, so no lock.
std::string_view cachedDate(std::time_t when, int utcOffsetMinutes) noexcept {
    struct Cache {
        bool valid = false;
        std::time_t when = 0;
        int offset = 0;
        std::size_t size = 0;
        char text[kDateMax];
    };
    thread_local Cache cache;
    if (!cache.valid || cache.when != when || cache.offset != utcOffsetMinutes) {
        cache.size = writeDate(cache.text, when, utcOffsetMinutes);
        cache.when = when;
        cache.offset = utcOffsetMinutes;
        cache.valid = true;
    }
    return {cache.text, cache.size};
}

// What buildReceived decides about the values that stay the same for a
// whole connection (HELO, client name and address, our name, cipher and
// group): the checks are the larger part of the field's work, and a
// connection carries many messages.  Kept per thread (a libmilter worker
// serves one callback at a time) and keyed on every value it judged, so
// a hit is exactly what judging again would give, whichever session asks.
// The field's first clauses (from, its comments, by) depend on nothing
// else, so they are kept folded too, with the column they end at.
struct ConnectionClauses {
    std::string helo, clientName, clientAddr, byHost, tls, group, eol; // the key
    bool hideClient = false;                                          // the key
    bool valid = false;
    bool tlsOk = false, groupOk = false;
    std::string head; // "from ... by ...", folded
    std::size_t headCol = 0;

    template <class Input> const ConnectionClauses& judge(const Input& in, std::string_view eolIn) {
        if (valid && in.hideClient == hideClient && in.helo == helo && in.clientName == clientName &&
            in.clientAddr == clientAddr && in.byHost == byHost && in.tls == tls && in.group == group &&
            eolIn == eol)
            return *this;
        valid = false; // until every field below is set (assign may throw)
        hideClient = in.hideClient;
        helo = in.helo;
        clientName = in.clientName;
        clientAddr = in.clientAddr;
        byHost = in.byHost;
        tls = in.tls;
        group = in.group;
        eol = eolIn;
        const std::string literal = addressLiteral(in.clientAddr); // "[addr]", "[IPv6:addr]" or ""
        const bool heloOk = isValidDomain(in.helo) || isValidAddressLiteral(in.helo);
        // Postfix says "unknown" when the client has no verified name.
        const bool nameOk = isValidDomain(in.clientName) && in.clientName != "unknown";
        const bool byOk = isValidByHost(in.byHost);
        tlsOk = isValidTlsCipherValue(in.tls) && in.tls.size() <= 64;
        groupOk = isValidDhGroup(in.group) && in.group.size() <= 64;

        Tokens tokens;
        std::string heloComment; // the escaped comment; must live until fold()
        if (in.hideClient) {
            tokens.add({"from ", kHiddenClientDomain});
        } else {
            // from: the HELO name when it is a valid domain or address literal;
            // otherwise "unknown" and the HELO, escaped, in a comment of its own.
            tokens.add({"from ", heloOk ? std::string_view(in.helo) : std::string_view("unknown")});
            if (!literal.empty()) {
                if (nameOk)
                    tokens.add({"(", in.clientName, " ", literal, ")"});
                else
                    tokens.add({"(", literal, ")"});
            } else if (nameOk) {
                tokens.add({"(", in.clientName, ")"});
            }
            if (!heloOk && !in.helo.empty()) {
                heloComment = commentText(in.helo, kHeloCommentMax);
                tokens.add({"(helo=", heloComment, ")"});
            }
        }
        tokens.add({"by ", byOk ? std::string_view(in.byHost) : std::string_view("localhost")});
        head = fold(std::move(head), tokens, eol, {}, sizeof("Received: ") - 1, &headCol);
        valid = true;
        return *this;
    }
};

} // namespace

WithProtocol withProtocol(bool esmtp, bool tls, bool authenticated) noexcept {
    if (!esmtp)
        return WithProtocol::SMTP;
    if (tls)
        return authenticated ? WithProtocol::ESMTPSA : WithProtocol::ESMTPS;
    return authenticated ? WithProtocol::ESMTPA : WithProtocol::ESMTP;
}

std::string_view toString(WithProtocol p) noexcept {
    switch (p) {
    case WithProtocol::SMTP: return "SMTP";
    case WithProtocol::ESMTP: return "ESMTP";
    case WithProtocol::ESMTPS: return "ESMTPS";
    case WithProtocol::ESMTPA: return "ESMTPA";
    case WithProtocol::ESMTPSA: return "ESMTPSA";
    }
    return "ESMTP";
}

bool isValidByHost(std::string_view host) noexcept { return isValidDomain(host); }

std::string formatDate(std::time_t when, int utcOffsetMinutes) {
    return std::string(cachedDate(when, utcOffsetMinutes));
}

namespace {

template <class Input> std::string build(const Input& in, std::string_view eol, std::string&& buffer) {
    // The clauses about the connection, judged and folded once per
    // connection on a thread rather than once per message (see
    // ConnectionClauses).
    thread_local ConnectionClauses clauses;
    const ConnectionClauses& c = clauses.judge(in, eol);
    Tokens tokens;
    tokens.add({"with ", toString(in.with)});
    if (isAtom(in.queueId) && in.queueId.size() <= kQueueIdMax)
        tokens.add({"id ", in.queueId});
    if (isValidMailbox(in.forRcpt))
        tokens.add({"for <", in.forRcpt, ">"});
    if (c.tlsOk) {
        tokens.add({"tls ", in.tls});
        if (c.groupOk)
            tokens.add({"group ", in.group});
    }
    tokens.back().add(";");
    tokens.add({cachedDate(in.when, in.utcOffsetMinutes)});
    return fold(std::move(buffer), tokens, eol, c.head, c.headCol);
}

} // namespace

std::string buildReceived(const ReceivedInput& in, std::string_view eol) { return build(in, eol, {}); }

std::string buildReceived(const ReceivedView& in, std::string_view eol) { return build(in, eol, {}); }

std::string buildReceived(const ReceivedView& in, std::string_view eol, std::string&& buffer) {
    return build(in, eol, std::move(buffer));
}

} // namespace rfc8314
