// fuzz_add_tls.cpp — libFuzzer target: addTlsClauses on arbitrary Received
// field values (the offline/replay path that adds the RFC 8314 clauses to a
// field someone else wrote).
//
// Input: VALUE \0 TLS \0 GROUP \0 EOL, all optional.  EOL "n" folds with LF,
// anything else with CRLF.  A missing TLS field means a fixed valid cipher
// name, so most inputs exercise the insertion itself.
//
// Properties: no crash or sanitizer report; when VALUE parses as a
// Time-stamp-line and the result is not nullopt, the result parses too, and
// when every line of "Received: " + VALUE is within 998 octets, so is every
// line of "Received: " + result; an empty TLS leaves VALUE unchanged.
#include <optional>
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/received.hpp"
#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto f = fuzz::splitNul(fuzz::asText(data, size));
    const std::string_view value = fuzz::field(f, 0);
    const std::string_view tls = f.size() > 1 ? f[1] : std::string_view("TLS_AES_256_GCM_SHA384");
    const std::string_view group = fuzz::field(f, 2);
    const std::string_view eol = fuzz::field(f, 3) == "n" ? std::string_view("\n") : std::string_view("\r\n");

    const std::optional<std::string> out = addTlsClauses(value, tls, group, eol);
    if (tls.empty())
        fuzz::require(out.has_value() && *out == value, "an empty tls leaves the value unchanged", value);
    if (!out)
        return 0;

    constexpr std::size_t kName = sizeof("Received: ") - 1;
    if (parseTimeStampLine(value).ok) {
        const ParseResult r = parseTimeStampLine(*out);
        if (!r.ok)
            fuzz::fail(("addTlsClauses output does not parse (" + r.error + ")").c_str(), *out);
        if (fuzz::longestLine(value, kName) <= 998)
            fuzz::require(fuzz::longestLine(*out, kName) <= 998,
                          "addTlsClauses output keeps every line within 998 octets", *out);
    }
    return 0;
}
