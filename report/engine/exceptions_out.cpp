// exceptions_out.cpp — the exceptions file of --emit-exceptions.  See
// exceptions_out.hpp.
#include "exceptions_out.hpp"

#include "rfc8314/logfmt.hpp"
#include "tables.hpp"

namespace rfc8314::report {

namespace {

// A comment's text from anything: printable ASCII only (escapeLogValue of
// each value from the log, \xHH for anything else), so a comment never
// holds a line end.
std::string printable(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string o;
    for (unsigned char c : s) {
        if (c < 0x20 || c >= 0x7F) {
            o += "\\x";
            o += hex[c >> 4];
            o += hex[c & 0xF];
        } else {
            o += static_cast<char>(c);
        }
    }
    return o;
}

std::string tlsWord(int k) {
    return k == static_cast<int>(TlsVersion::None) ? "cleartext" : escapeLogValue(toString(static_cast<TlsVersion>(k)));
}

} // namespace

std::optional<std::string> exceptionsUserWord(std::string_view user, std::string* why) {
    auto no = [&](const char* reason) -> std::optional<std::string> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (user.empty())
        return no("the empty name");
    if (user.front() == '@')
        return no("a leading '@' makes an entry for a whole domain");
    bool quote = user.front() == '"';
    for (unsigned char c : user) {
        if (c < 0x20 || c == 0x7F)
            return no("a control byte, which the exceptions file cannot hold");
        if (c == ' ' || c == '#' || c == '"' || c == '\\')
            quote = true;
    }
    if (!quote)
        return std::string(user);
    std::string w = "\"";
    for (char c : user) {
        if (c == '"' || c == '\\')
            w += '\\';
        w += c;
    }
    return w + '"';
}

std::vector<std::uint32_t> writeExceptions(const Aggregator& a, Day until, std::ostream& out) {
    std::vector<std::uint32_t> left;
    std::vector<std::uint32_t> ids;
    for (std::uint32_t id : entityOrder(a.users, a.userNames, 0))
        if (id < a.below.size() && a.below[id].count)
            ids.push_back(id);
    out << "# rfc8314-milter exceptions written by rfc8314-report " << RFC8314_VERSION << " --emit-exceptions:\n"
        << "# the " << ids.size() << " users the audit trail shows submitting below the rule\n"
        << "#   " << printable(a.policy().str()) << "\n"
        << "# between " << formatTime(a.first) << " and " << formatTime(a.last) << ", each exempt until "
        << until.str() << ".\n";
    for (std::uint32_t id : ids) {
        const std::string_view user = a.userNames.name(id);
        std::string why;
        const auto word = exceptionsUserWord(user, &why);
        if (!word) {
            out << "# not written: user " << escapeLogValue(user) << " (" << why << ")\n";
            left.push_back(id);
            continue;
        }
        const BelowDetail& b = a.below[id];
        const Entity& e = a.users[id];
        const std::string_view name = a.hostNames.name(b.lastClientName);
        out << *word << " until " << until.str() << " # last seen " << formatTime(b.last) << " from "
            << escapeLogValue(a.clientNames.name(b.lastClient));
        if (!name.empty())
            out << " (" << escapeLogValue(name) << ")";
        out << " with " << tlsWord(b.lastTls) << "; " << b.count << " of " << e.count
            << " transactions below the rule (";
        bool first = true;
        for (int k = kTlsCount - 1; k >= 0; --k)
            if (b.tls[k]) {
                out << (first ? "" : ", ") << tlsWord(k) << " " << b.tls[k];
                first = false;
            }
        out << ")\n";
    }
    return left;
}

} // namespace rfc8314::report
