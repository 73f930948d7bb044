// received.cpp — builds the trace field.  See received.hpp.
//
// The field is assembled from unbreakable tokens ("from host", "(name
// [addr])", "with ESMTPSA", ...) joined by single spaces, and folded between
// tokens.  Every token is bounded (validated names are at most 255 octets,
// the escaped HELO comment at most ~210), so no line can reach 998 octets.
#include "rfc8314/received.hpp"

#include <cstdio>
#include <vector>

#include "rfc8314/rfc5322.hpp"
#include "rfc8314/tls_names.hpp"

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

std::string fold(const std::vector<std::string>& tokens, std::string_view eol) {
    std::string out;
    std::size_t col = sizeof("Received: ") - 1;
    bool first = true;
    for (const auto& t : tokens) {
        if (first) {
            out += t;
            col += t.size();
            first = false;
            continue;
        }
        if (col + 1 + t.size() > kFoldAt) {
            out += eol;
            out += '\t';
            col = 1;
        } else {
            out += ' ';
            ++col;
        }
        out += t;
        col += t.size();
    }
    return out;
}

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
    static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    // Offsets beyond +-23:59 cannot be written; treat them as UTC.
    if (utcOffsetMinutes <= -24 * 60 || utcOffsetMinutes >= 24 * 60)
        utcOffsetMinutes = 0;
    const std::time_t local = when + static_cast<std::time_t>(utcOffsetMinutes) * 60;
    std::tm tm{};
    gmtime_r(&local, &tm);
    const int off = utcOffsetMinutes < 0 ? -utcOffsetMinutes : utcOffsetMinutes;
    // By hand rather than snprintf: this runs for every message, and the
    // format has no room for anything but these digits.
    std::string out;
    out.reserve(32);
    auto two = [&out](int v) {
        out += static_cast<char>('0' + v / 10 % 10);
        out += static_cast<char>('0' + v % 10);
    };
    out += days[tm.tm_wday % 7];
    out += ", ";
    if (tm.tm_mday >= 10)
        out += static_cast<char>('0' + tm.tm_mday / 10);
    out += static_cast<char>('0' + tm.tm_mday % 10);
    out += ' ';
    out += months[tm.tm_mon % 12];
    out += ' ';
    const long year = static_cast<long>(tm.tm_year) + 1900;
    if (year < 0)
        return formatDate(0, 0); // no syntax for it; cannot come from a clock
    if (year > 9999) {
        out += std::to_string(year); // RFC 5322: 4*DIGIT, four or more
    } else {
        two(static_cast<int>(year / 100));
        two(static_cast<int>(year % 100));
    }
    out += ' ';
    two(tm.tm_hour);
    out += ':';
    two(tm.tm_min);
    out += ':';
    two(tm.tm_sec);
    out += ' ';
    out += utcOffsetMinutes < 0 ? '-' : '+';
    two(off / 60);
    two(off % 60);
    return out;
}

std::string buildReceived(const ReceivedInput& in, std::string_view eol) {
    std::vector<std::string> tokens;
    tokens.reserve(12);
    const std::string literal = addressLiteral(in.clientAddr);
    const bool heloOk = isValidDomain(in.helo) || isValidAddressLiteral(in.helo);
    // Postfix says "unknown" when the client has no verified name.
    const bool nameOk = isValidDomain(in.clientName) && in.clientName != "unknown";

    // from: the HELO name when it is a valid domain or address literal;
    // otherwise "unknown" and the HELO, escaped, in a comment of its own.
    tokens.push_back("from " + (heloOk ? in.helo : std::string("unknown")));
    if (!literal.empty())
        tokens.push_back("(" + (nameOk ? in.clientName + " " : std::string()) + literal + ")");
    else if (nameOk)
        tokens.push_back("(" + in.clientName + ")");
    if (!heloOk && !in.helo.empty())
        tokens.push_back("(helo=" + commentText(in.helo, kHeloCommentMax) + ")");

    tokens.push_back("by " + (isValidByHost(in.byHost) ? in.byHost : std::string("localhost")));
    tokens.push_back("with " + std::string(toString(in.with)));
    if (isAtom(in.queueId) && in.queueId.size() <= kQueueIdMax)
        tokens.push_back("id " + in.queueId);
    if (isValidMailbox(in.forRcpt))
        tokens.push_back("for <" + in.forRcpt + ">");
    if (isValidTlsCipherValue(in.tls) && in.tls.size() <= 64) {
        tokens.push_back("tls " + in.tls);
        if (isValidGroupName(in.group) && in.group.size() <= 64)
            tokens.push_back("group " + in.group);
    }
    tokens.back() += ';';
    tokens.push_back(formatDate(in.when, in.utcOffsetMinutes));
    return fold(tokens, eol);
}

std::optional<std::string> addTlsClauses(std::string_view value, std::string_view tls,
                                         std::string_view group, std::string_view eol) {
    if (tls.empty())
        return std::string(value);
    if (!isValidTlsCipherValue(tls) || tls.size() > 64)
        return std::nullopt;

    // Walk the value once, outside comments, quoted strings and angle
    // addresses: remember the last ";" and whether a "tls" clause exists.
    // Before the ";" the words pair up as clause keyword and value (from X,
    // by Y, with Z, ..., tls T), so "tls" counts only in a keyword place: a
    // HELO of "tls" ("from tls (...)") is a value, not a clause.
    std::size_t semicolon = std::string_view::npos;
    bool hasTls = false;
    int depth = 0;
    bool quoted = false, angle = false;
    bool inWord = false;     // inside a top-level word (or quoted/angle token)
    std::size_t words = 0;   // top-level words since the start or the last ";"
    auto isBlank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (depth > 0) {
            if (c == '\\')
                ++i;
            else if (c == '(')
                ++depth;
            else if (c == ')')
                --depth;
            continue;
        }
        if (angle) {
            // A quoted local part may hold '>' and ';' ("<\"a>b;c\"@x>").
            if (c == '>')
                angle = false;
            else if (c == '"')
                quoted = true;
            continue;
        }
        if (isBlank(c) || c == '(' || c == ';') {
            inWord = false;
            if (c == '(')
                depth = 1;
            if (c == ';') {
                semicolon = i;
                words = 0;
            }
            continue;
        }
        if (!inWord) {
            inWord = true;
            // Even places (0, 2, 4, ...) hold clause keywords.
            if (words % 2 == 0 && i + 3 <= value.size() && (value[i] | 0x20) == 't' &&
                (value[i + 1] | 0x20) == 'l' && (value[i + 2] | 0x20) == 's' &&
                (i + 3 == value.size() || isBlank(value[i + 3]) || value[i + 3] == '('))
                hasTls = true;
            ++words;
        }
        if (c == '"')
            quoted = true;
        else if (c == '<')
            angle = true;
    }
    if (semicolon == std::string_view::npos)
        return std::nullopt;
    if (hasTls)
        return std::string(value);

    std::string clause = "tls " + std::string(tls);
    if (isValidGroupName(group) && group.size() <= 64)
        clause += " group " + std::string(group);

    // Trailing white space before the ";" stays where it is; fold when the
    // current line would grow past 78 octets.
    std::size_t insertAt = semicolon;
    while (insertAt > 0 && (value[insertAt - 1] == ' ' || value[insertAt - 1] == '\t'))
        --insertAt;
    const std::size_t lineStart = [&] {
        auto nl = value.rfind('\n', insertAt == 0 ? 0 : insertAt - 1);
        return nl == std::string_view::npos ? 0 : nl + 1;
    }();
    const std::size_t col = (lineStart == 0 ? sizeof("Received: ") - 1 : 0) + (insertAt - lineStart);
    std::string out(value.substr(0, insertAt));
    if (col + 1 + clause.size() > kFoldAt) {
        out += eol;
        out += '\t';
    } else {
        out += ' ';
    }
    out += clause;
    out += value.substr(insertAt);
    return out;
}

} // namespace rfc8314
