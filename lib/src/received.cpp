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
    if (in.hideClient) {
        tokens.push_back("from " + std::string(kHiddenClientDomain));
    } else {
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
    }

    tokens.push_back("by " + (isValidByHost(in.byHost) ? in.byHost : std::string("localhost")));
    tokens.push_back("with " + std::string(toString(in.with)));
    if (isAtom(in.queueId) && in.queueId.size() <= kQueueIdMax)
        tokens.push_back("id " + in.queueId);
    if (isValidMailbox(in.forRcpt))
        tokens.push_back("for <" + in.forRcpt + ">");
    if (isValidTlsCipherValue(in.tls) && in.tls.size() <= 64) {
        tokens.push_back("tls " + in.tls);
        if (isValidDhGroup(in.group) && in.group.size() <= 64)
            tokens.push_back("group " + in.group);
    }
    tokens.back() += ';';
    tokens.push_back(formatDate(in.when, in.utcOffsetMinutes));
    return fold(tokens, eol);
}

} // namespace rfc8314
