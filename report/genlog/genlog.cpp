// genlog.cpp — rfc8314-report-genlog: synthetic audit trails for measuring
// and testing rfc8314-report.
//
// Writes N syslog lines (or JSON lines) shaped like the milter's own: the
// message is built with lib's LogLine/JsonLine, so quoting and key order are
// the milter's.  The mix is meant to look like a month of a busy MSP's log:
//   - users follow a skewed distribution (a few busy accounts, a long
//     tail), each with a stable profile: TLS version and cipher, mechanism,
//     group, listener, and a home address (IPv4 or IPv6); 5% of a user's
//     transactions come from a second device, 8% through one of 512
//     carrier-grade NAT addresses, each shared by hundreds of users;
//   - most use TLS 1.3 or 1.2, a few TLS 1.0/1.1 (refused, exempt or
//     reported, as a staged rollout would), a few a 112-bit cipher (refused
//     for cipher bits), a few cleartext (refused, cleartext_auth=yes);
//   - unauthenticated cleartext refusals from scanners, at 5,000 addresses
//     (a botnet comes back; a fresh address per line would make the
//     address table grow with the lines, which no real log does);
//   - 1% other programs' lines, 0.1% non-audit milter lines, and a few
//     audit lines cut short as syslog truncates them (damaged).
// Deterministic for a given seed.  A fixed line count, so the file size is
// about 250 bytes a line (syslog) or 480 (JSON).
//
//   rfc8314-report-genlog N [--users U] [--days D] [--start YYYY-MM-DD]
//                           [--seed S] [--json]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "rfc8314/logfmt.hpp"
#include "engine/aggregate.hpp"
#include "engine/record.hpp"

using namespace rfc8314;

namespace {

// splitmix64: fast, good enough, and identical everywhere.
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
};

std::uint64_t mix(std::uint64_t x) {
    Rng r{x};
    return r.next();
}

struct Tls {
    const char* version;
    const char* cipher;
    int bits;
};

const Tls kTls13[] = {{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256},
                      {"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128},
                      {"TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", 256}};
const Tls kTls12[] = {{"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 128},
                      {"TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 256},
                      {"TLSv1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 256}};
const Tls kTlsOld[] = {{"TLSv1.0", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 128},
                       {"TLSv1.1", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 256},
                       {"TLSv1.0", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 112}};
const Tls kTlsWeak = {"TLSv1.2", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 112};
const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// An address drawn from `key`: IPv4 in 198.18.0.0/15 (RFC 2544's
// benchmarking range, 131,072 addresses) or, for a third, IPv6 in
// 2001:db8::/32; `cgnat` picks one of 512 shared NAT addresses in
// 100.64.0.0/10.
struct Address {
    char name[48];
    char addr[48];
};
Address address(std::uint64_t key, bool cgnat) {
    Address a;
    if (cgnat) {
        std::snprintf(a.name, sizeof a.name, "cgnat%llu.mobile.example", static_cast<unsigned long long>(key % 512));
        std::snprintf(a.addr, sizeof a.addr, "100.64.%llu.%llu", static_cast<unsigned long long>((key % 512) / 256),
                      static_cast<unsigned long long>(key % 256));
    } else if (key % 3 == 0) {
        std::snprintf(a.name, sizeof a.name, "unknown");
        std::snprintf(a.addr, sizeof a.addr, "2001:db8:%llx:%llx::%llx",
                      static_cast<unsigned long long>((key >> 8) & 0xffff),
                      static_cast<unsigned long long>((key >> 24) & 0xffff),
                      static_cast<unsigned long long>((key >> 40) & 0xfff));
        // As the milter writes it (inet_ntop): a zero field folds into "::".
        std::snprintf(a.addr, sizeof a.addr, "%s", canonicalAddress(a.addr).value_or(a.addr).c_str());
    } else {
        const unsigned long long h = (key >> 8) % 131072;
        std::snprintf(a.name, sizeof a.name, "%s", (key >> 4) % 3 ? "dsl.example.net" : "unknown");
        std::snprintf(a.addr, sizeof a.addr, "198.%llu.%llu.%llu", 18 + h / 65536, (h / 256) % 256, h % 256);
    }
    return a;
}

int usage() {
    std::fputs("usage: rfc8314-report-genlog N [--users U] [--days D] [--start YYYY-MM-DD] "
               "[--seed S] [--json]\n", stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strchr("0123456789", argv[1][0]))
        return usage();
    const unsigned long long n = std::strtoull(argv[1], nullptr, 10);
    unsigned long long users = 50000, days = 30, seed = 8314;
    int sy = 2024, sm = 11, sd = 1;
    bool json = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--json") {
            json = true;
        } else if (a == "--users" && v) {
            users = std::strtoull(v, nullptr, 10), ++i;
        } else if (a == "--days" && v) {
            days = std::strtoull(v, nullptr, 10), ++i;
        } else if (a == "--seed" && v) {
            seed = std::strtoull(v, nullptr, 10), ++i;
        } else if (a == "--start" && v && std::sscanf(v, "%d-%d-%d", &sy, &sm, &sd) == 3) {
            ++i;
        } else {
            return usage();
        }
    }
    if (users == 0 || days == 0 || sm < 1 || sm > 12 || sd < 1 || sd > 31 || sy < 1970)
        return usage();

    Rng rng{seed};
    const report::CivilTime start = report::civilTime(sy, sm, sd, 0, 0, 0);
    const double step = static_cast<double>(days) * 86400.0 / static_cast<double>(n ? n : 1);
    static char out[1 << 16];
    std::setvbuf(stdout, out, _IOFBF, sizeof out);
    char qid[16], stamp[64];
    for (unsigned long long i = 0; i < n; ++i) {
        const report::CivilTime t = start + static_cast<report::CivilTime>(static_cast<double>(i) * step);
        const int day = report::civilDay(t);
        const int secs = static_cast<int>(t % 86400);
        if (!json)
            std::snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d mx1 ", kMonths[(day / 100) % 100 - 1],
                          day % 100, secs / 3600, (secs / 60) % 60, secs % 60);
        const double roll = rng.unit();
        if (!json && roll < 0.01) { // another program's line
            std::printf("%spostfix/smtpd[%llu]: connect from unknown[203.0.113.%llu]\n", stamp,
                        static_cast<unsigned long long>(1000 + rng.below(9000)), static_cast<unsigned long long>(rng.below(255)));
            continue;
        }
        if (!json && roll < 0.011) {
            std::printf("%srfc8314-milter[812]: warning=\"AUTH succeeded over cleartext before the milter "
                        "could refuse it\", listener=submission/587\n", stamp);
            continue;
        }
        const bool scanner = roll > 0.985; // unauthenticated, no TLS, refused
        // Skewed choice: the square of a uniform favours low numbers, so
        // some accounts are busy and most are quiet.
        const double u = rng.unit();
        const std::uint64_t uid = static_cast<std::uint64_t>(u * u * static_cast<double>(users));
        const std::uint64_t prof = mix(uid ^ seed);
        char user[64] = "none";
        if (!scanner && prof % 997 == 0)
            std::snprintf(user, sizeof user, "j doe %llu", static_cast<unsigned long long>(uid));
        else if (!scanner)
            std::snprintf(user, sizeof user, "user%06llu@example.org", static_cast<unsigned long long>(uid));
        // Stable per-user TLS habit, with an occasional second device.
        const bool second = rng.unit() < 0.05;
        const unsigned habit = static_cast<unsigned>((second ? rng.next() : prof) % 1000);
        const Tls* tls = nullptr; // cleartext
        if (scanner)
            tls = nullptr;
        else if (habit < 680)
            tls = &kTls13[(prof >> 8) % 3];
        else if (habit < 915)
            tls = &kTls12[(prof >> 8) % 3];
        else if (habit < 925)
            tls = &kTlsWeak;
        else if (habit < 970)
            tls = &kTlsOld[(prof >> 8) % 3];
        const bool cleartext = tls == nullptr;
        const char* verdict = "accept";
        const char* reason = nullptr;
        bool exempt = false;
        if (cleartext) {
            verdict = "reject", reason = "cleartext";
        } else if (std::strcmp(tls->version, "TLSv1.2") < 0) {
            exempt = (prof >> 20) % 4 == 0;
            verdict = exempt ? "exempt" : ((prof >> 24) % 2 ? "tempfail" : "would-reject");
            reason = "tls-version";
        } else if (tls->bits < 128) {
            verdict = (prof >> 24) % 2 ? "reject" : "would-reject";
            reason = "cipher-bits";
        }
        std::snprintf(qid, sizeof qid, "%010llX", static_cast<unsigned long long>(rng.next() & 0xFFFFFFFFFFull));
        // Home address, a second device's, or a shared NAT's.
        const double where = rng.unit();
        const Address addr = scanner ? address(mix(rng.below(5000) ^ 0x5ca22e2), false)
                             : where < 0.08 ? address(prof >> 3, true)
                             : address(second ? mix(prof + 1) : prof, false);
        const unsigned long long port = 1024 + rng.below(60000);
        const bool smtps = (prof >> 12) % 5 == 0;
        const char* listener = smtps ? "submissions/465" : "submission/587";
        const char* mech = scanner ? "none" : (prof >> 16) % 4 == 0 ? "LOGIN" : "PLAIN";
        const char* group = cleartext ? "none" : ((prof >> 18) % 3 == 0 ? "secp256r1" : "x25519");
        const bool refused = std::strcmp(verdict, "reject") == 0 || std::strcmp(verdict, "tempfail") == 0;
        if (json) {
            char iso[32];
            std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", day / 10000, (day / 100) % 100,
                          day % 100, secs / 3600, (secs / 60) % 60, secs % 60);
            JsonLine j;
            j.add("time", iso).add("queue_id", refused ? "" : qid).add("event", scanner ? "refused" : "auth")
                .add("user", scanner ? "" : user).add("mech", scanner ? "" : mech)
                .add("tls", cleartext ? "none" : tls->version).add("cipher", cleartext ? "" : tls->cipher)
                .add("group", cleartext ? "" : group).add("bits", cleartext ? 0 : tls->bits)
                .add("client_name", addr.name).add("client_addr", addr.addr)
                .add("client_port", static_cast<long long>(port))
                .add("listener", smtps ? "submissions" : "submission").add("listener_port", smtps ? 465 : 587)
                .add("verdict", verdict).add("reason", reason ? reason : "none").add("bucket", -1)
                .add("exempt_until", exempt ? "2027-01-31" : "")
                .add("cleartext_auth", cleartext && !scanner ? "yes" : "no");
            std::fputs(j.str().c_str(), stdout);
            std::fputc('\n', stdout);
            continue;
        }
        char client[128];
        std::snprintf(client, sizeof client, "%s[%s]:%llu", addr.name, addr.addr, port);
        LogLine line(refused ? "" : qid);
        line.add("user", user).add("mech", mech).add("tls", cleartext ? "none" : tls->version)
            .add("cipher", cleartext ? "none" : tls->cipher).add("group", group)
            .add("bits", cleartext ? 0 : tls->bits).add("client", client).add("listener", listener)
            .add("verdict", verdict);
        if (reason)
            line.add("reason", reason);
        if (exempt)
            line.add("exempt_until", "2027-01-31");
        if (cleartext && !scanner)
            line.add("cleartext_auth", "yes");
        std::fputs(stamp, stdout);
        std::fputs("rfc8314-milter[812]: ", stdout);
        // One line in 20,000 cut short, as syslog truncates a long message.
        const std::string& msg = line.str();
        if (rng.below(20000) == 0)
            std::fwrite(msg.data(), 1, msg.size() / 2, stdout);
        else
            std::fputs(msg.c_str(), stdout);
        std::fputc('\n', stdout);
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}
