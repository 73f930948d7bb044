// fuzz_names.cpp — libFuzzer target: cipher and group names from the MTA.
//
// The whole input is one spelling, handed to CipherRegistry::lookup,
// GroupRegistry::ianaName and GroupRegistry::code (as is, and once more with
// every NUL-separated part, so a seed can carry several spellings).
//
// Properties: no crash or sanitizer report; a returned group name satisfies
// isValidDhGroup; every tlsClauseValue of a looked-up cipher satisfies
// isValidTlsCipherValue; a registered code point gives the same suite back
// by code, and looking up the returned IANA name finds the same code point.
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/rfc5322.hpp"
#include "rfc8314/tls_names.hpp"

using namespace rfc8314;

namespace {

void one(std::string_view s) {
    const auto& ciphers = CipherRegistry::instance();
    const auto& groups = GroupRegistry::instance();

    if (auto c = ciphers.lookup(s)) {
        const std::string value = tlsClauseValue(*c);
        fuzz::require(isValidTlsCipherValue(value), "tlsClauseValue is a valid tls clause value", value);
        // A bare code point is accepted even when no suite is registered
        // for it; a registered one must come back the same by code.
        if (auto again = ciphers.byCode(c->code))
            fuzz::require(*again == *c, "byCode(lookup(x).code) == lookup(x)", s);
        else
            fuzz::require(c->iana.empty(), "a suite with an IANA name is registered by code", s);
        if (!c->iana.empty()) {
            auto byName = ciphers.lookup(c->iana);
            fuzz::require(byName.has_value() && byName->code == c->code,
                          "lookup(IANA name) finds the same code point", c->iana);
        }
        const std::string codeText = cipherCodeText(c->code);
        fuzz::require(isValidTlsCipherValue(codeText), "cipherCodeText is a valid tls clause value",
                      codeText);
    }
    if (auto g = groups.ianaName(s)) {
        fuzz::require(isValidDhGroup(*g), "GroupRegistry::ianaName gives a valid group name", *g);
        fuzz::require(groups.code(s).has_value(), "a named group has a code point", s);
    }
    (void)groups.code(s);
    (void)isValidDhGroup(s);
    (void)isValidTlsCipherValue(s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = fuzz::asText(data, size);
    one(in);
    const auto parts = fuzz::splitNul(in);
    if (parts.size() > 1)
        for (const auto& p : parts)
            one(p);
    return 0;
}
