// fuzz_exceptions.cpp — libFuzzer target: parseExceptions on arbitrary text.
//
// Input: the whole exceptions file.
//
// Properties (abort() on violation): no crash; every error and warning
// starts with "fuzz.exceptions:N: " for a line N that exists; every entry
// sits on an existing line, is exactly one of a user, a domain or a client
// network, has no control byte in its name, a lower-case domain, and an
// `until` day that prints and parses back to itself; every user entry is
// found by find() for the user it names (a domain entry without '@', for
// "probe@DOMAIN"); every network prints as text that parses back to
// itself and findNetwork() finds an entry for the network's own address.
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/policy.hpp"

using namespace rfc8314;

namespace {

bool hasLinePrefix(const std::string& msg, const std::string& file, long lines) {
    if (msg.compare(0, file.size() + 1, file + ":") != 0)
        return false;
    std::size_t i = file.size() + 1;
    long n = 0;
    std::size_t digits = 0;
    while (i < msg.size() && msg[i] >= '0' && msg[i] <= '9' && digits < 10) {
        n = n * 10 + (msg[i] - '0');
        ++i;
        ++digits;
    }
    return digits > 0 && n >= 1 && n <= lines && msg.compare(i, 2, ": ") == 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::asText(data, size);
    const std::string file = "fuzz.exceptions";
    const Day today = *Day::parse("2026-06-01");
    const ExceptionLoad r = parseExceptions(text, file, today);

    long lines = 1;
    for (char c : text)
        lines += c == '\n';
    for (const auto& e : r.errors)
        fuzz::require(hasLinePrefix(e, file, lines), "an error starts with file:line: for an existing line", e);
    for (const auto& w : r.warnings)
        fuzz::require(hasLinePrefix(w, file, lines), "a warning starts with file:line: for an existing line", w);

    for (const auto& e : r.list.entries) {
        fuzz::require(e.line >= 1 && e.line <= lines, "an entry sits on an existing line", e.user + e.domain);
        const int kinds = int(!e.user.empty()) + int(!e.domain.empty()) + int(e.network.has_value());
        fuzz::require(kinds == 1, "an entry is exactly one of a user, a domain or a network",
                      e.user + "|" + e.domain + "|" + (e.network ? e.network->str() : std::string()));
        for (unsigned char c : e.user + e.domain)
            fuzz::require(c >= 0x20 && c != 0x7f, "no control byte in an entry's name", e.user + e.domain);
        for (char c : e.domain)
            fuzz::require(!(c >= 'A' && c <= 'Z'), "a domain entry is lower-case", e.domain);
        if (e.until) {
            const auto again = Day::parse(e.until->str());
            fuzz::require(again.has_value() && *again == *e.until, "an until day round-trips through str()",
                          e.until->str());
        }
        if (e.network) {
            const std::string net = e.network->str();
            const auto again = ClientNetwork::parse(net);
            fuzz::require(again.has_value() && again->v6 == e.network->v6 && again->bytes == e.network->bytes &&
                              again->prefix == e.network->prefix,
                          "a network round-trips through str()", net);
            const std::string addr = net.substr(0, net.find('/'));
            fuzz::require(r.list.findNetwork(addr) != nullptr, "findNetwork() finds a listed network's address",
                          addr);
        } else if (!e.user.empty()) {
            fuzz::require(r.list.find(e.user) != nullptr, "find() finds a listed user", e.user);
        } else if (e.domain.find('@') == std::string::npos) {
            fuzz::require(r.list.find("probe@" + e.domain) != nullptr, "find() finds a listed domain", e.domain);
        }
    }
    return 0;
}
