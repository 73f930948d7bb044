// fuzz_macros.cpp — libFuzzer target: arbitrary macro names and values.
//
// Input: NAME \0 VALUE \0 NAME \0 VALUE ... (a trailing NAME without a value
// is fed to MacroMap::setAssignment as "NAME=VALUE" text instead).
// Every pair goes into a MacroMap; then all four fact readers run on it.
//
// Properties: no crash, no sanitizer report, no exception escapes; the typed
// results are self-consistent (a parsed port is 1..65535, bits are 0..10^6,
// the tls clause value is empty or a valid RFC 8314 tls value, the version
// prints as one of the known names, a client address is canonical).
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/facts.hpp"
#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto f = fuzz::splitNul(fuzz::asText(data, size));
    MacroMap m;
    std::size_t i = 0;
    for (; i + 1 < f.size(); i += 2)
        m.set(f[i], f[i + 1]);
    if (i < f.size())
        (void)m.setAssignment(f[i]);

    // Lookups by every spelling the MTAs use, including the one-letter names.
    for (const auto& kv : m.all()) {
        fuzz::require(m.get(kv.first).has_value(), "MacroMap::get finds a name it holds", kv.first);
        (void)canonicalMacroName(kv.first);
    }

    const TlsFacts tls = readTlsFacts(m);
    const std::string& clause = tls.clause;
    fuzz::require(clause.empty() || isValidTlsCipherValue(clause),
                  "TlsFacts::clause is empty or a valid tls clause value", clause);
    if (tls.bits)
        fuzz::require(*tls.bits >= 0 && *tls.bits <= 1000000, "cipher bits within 0..1000000",
                      std::to_string(*tls.bits));
    const std::string_view v = toString(tls.version);
    fuzz::require(!v.empty(), "toString(TlsVersion) is never empty", tls.versionText);

    const AuthFacts auth = readAuthFacts(m);
    (void)auth.authenticated();

    const ListenerFacts lf = readListenerFacts(m);
    if (lf.port)
        fuzz::require(*lf.port >= 1, "daemon port is 1..65535", std::to_string(*lf.port));

    const ClientFacts cf = readClientFacts(m);
    if (cf.port)
        fuzz::require(*cf.port >= 1, "client port is 1..65535", std::to_string(*cf.port));
    fuzz::require(cf.name != "unknown", "client name \"unknown\" counts as no name", cf.name);
    // An address is kept in one canonical form: canonicalising it again
    // changes nothing.
    if (const auto again = canonicalAddress(cf.addr))
        fuzz::require(*again == cf.addr, "the client address is canonical", cf.addr);

    // The free-standing parsers on the raw fields too.
    for (const auto& s : f) {
        (void)parseTlsVersion(s);
        (void)parseTlsVersionSetting(s);
        if (auto p = parsePort(s))
            fuzz::require(*p >= 1, "parsePort gives 1..65535", s);
        if (auto n = parseSmallNumber(s))
            fuzz::require(*n >= 0 && *n <= 1000000, "parseSmallNumber gives 0..1000000", s);
        (void)clientNameFromConnect(s);
    }
    return 0;
}
