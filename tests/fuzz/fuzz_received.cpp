// fuzz_received.cpp — libFuzzer target: buildReceived on hostile inputs.
//
// Input: HELO \0 CLIENTNAME \0 CLIENTADDR \0 BYHOST \0 QUEUEID \0 FORRCPT
// \0 TLS \0 GROUP \0 FLAGS.  FLAGS (optional) picks the with protocol, the
// line end, the time and the UTC offset from its first bytes, so the date
// code is fuzzed along with the clauses.
//
// Properties (abort() on violation): the value ALWAYS parses as a
// Time-stamp-line (parseTimeStampLine(...).ok), and every physical line,
// "Received: " included on the first, is at most 998 octets.
#include <ctime>
#include <string>

#include "fuzz_util.hpp"
#include "rfc8314/received.hpp"
#include "rfc8314/rfc5322.hpp"

using namespace rfc8314;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto f = fuzz::splitNul(fuzz::asText(data, size));
    ReceivedInput in;
    in.helo = std::string(fuzz::field(f, 0));
    in.clientName = std::string(fuzz::field(f, 1));
    in.clientAddr = std::string(fuzz::field(f, 2));
    in.byHost = std::string(fuzz::field(f, 3));
    in.queueId = std::string(fuzz::field(f, 4));
    in.forRcpt = std::string(fuzz::field(f, 5));
    in.tls = std::string(fuzz::field(f, 6));
    in.group = std::string(fuzz::field(f, 7));

    const std::string_view flags = fuzz::field(f, 8);
    auto byte = [&](std::size_t i) -> unsigned { return i < flags.size() ? static_cast<unsigned char>(flags[i]) : 0u; };
    in.with = static_cast<WithProtocol>(byte(0) % 5);
    const bool lf = (byte(1) & 1) != 0;
    // Seconds since 1970 up to ~2106; offsets within RFC 5322's +-99:59.
    in.when = static_cast<std::time_t>(byte(2) | byte(3) << 8 | byte(4) << 16 | byte(5) << 24);
    if (flags.empty())
        in.when = 1795510000; // a fixed date in 2026
    in.utcOffsetMinutes = static_cast<int>(byte(6) | byte(7) << 8) % (2 * 840 + 1) - 840;

    const std::string v = buildReceived(in, lf ? "\n" : "\r\n");
    const ParseResult r = parseTimeStampLine(v);
    if (!r.ok)
        fuzz::fail(("buildReceived output does not parse (" + r.error + ")").c_str(), v);
    constexpr std::size_t kName = sizeof("Received: ") - 1;
    fuzz::require(fuzz::longestLine(v, kName) <= 998,
                  "buildReceived keeps every line within 998 octets", v);
    return 0;
}
