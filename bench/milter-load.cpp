// milter-load.cpp — milter-protocol load driver for the benchmarks.
//
// Speaks the Sendmail milter protocol to any milter socket the way Postfix
// 3.7 does with `milter_protocol = 6` (src/milter/milter8.c, milter.c,
// smtpd.c), over N concurrent connections, for a fixed count of
// transactions, and prints transactions/s, p50/p99/max latency per stage in
// microseconds, the replies seen, and error counts.
//
// What it does on each connection, as Postfix does:
//   * SMFIC_OPTNEG offering version 6, actions 0x1ff and protocol 0x1fffff
//     (every step, no-reply and skip flag Postfix 3.7 offers); the filter's
//     answer is checked as Postfix checks it and then obeyed: its
//     SMFIP_NO* steps are not sent, its SMFIP_NR_* steps get no wait for a
//     reply, its setsymlist lists replace Postfix's default macro lists
//     stage by stage.
//   * Before every event a 'D' packet with that stage's macros, only those
//     defined at that point (Postfix omits undefined ones); the 'D' goes out
//     even when the event itself was negotiated away, except for header,
//     end-of-header and body, which cleanup does not generate at all then.
//   * connect, helo (with STARTTLS: helo, abort, helo with the TLS macros,
//     MTA-FACTS.md §1), then per transaction mail, rcpt, data, N headers,
//     end of header, body, end of body; an abort after each transaction
//     (smtpd's mail_reset), abort + quit at the end (helo_reset, disconnect).
//   * Requests whose reply is negotiated away stay in the output buffer and
//     go out with the next request that waits for a reply: Postfix's
//     VSTREAM flushes only when it reads.
//   * At end of body it reads modification requests ('h', 'i', 'm', '+', …)
//     until the final reply ('a', 'c', 'd', 'r', 't', 'y', '4').
//
// Latency of a stage: from the write of its request (with whatever no-reply
// requests were buffered ahead of it) to its final reply.  "txn" is MAIL
// request to final end-of-body reply.  "mail1" is the first MAIL of a
// connection (see Stage).
//
// One thread, epoll, non-blocking sockets.  Loopback or unix sockets only
// by intent; nothing here resolves names.
//
// Exit status: 0 when every transaction completed with no error and no
// rejection; 1 otherwise (the counts say which); 2 on a bad command line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

// ---- protocol constants (Sendmail's mfdef.h; Postfix keeps its own copy in
// milter8.c too, so the MTA side never needs libmilter's headers) ---------
constexpr char kCmdAbort = 'A';
constexpr char kCmdBody = 'B';
constexpr char kCmdConnect = 'C';
constexpr char kCmdMacro = 'D';
constexpr char kCmdBodyEob = 'E';
constexpr char kCmdHelo = 'H';
constexpr char kCmdHeader = 'L';
constexpr char kCmdMail = 'M';
constexpr char kCmdEoh = 'N';
constexpr char kCmdOptneg = 'O';
constexpr char kCmdQuit = 'Q';
constexpr char kCmdRcpt = 'R';
constexpr char kCmdData = 'T';

constexpr uint32_t kNoConnect = 1u << 0;
constexpr uint32_t kNoHelo = 1u << 1;
constexpr uint32_t kNoMail = 1u << 2;
constexpr uint32_t kNoRcpt = 1u << 3;
constexpr uint32_t kNoBody = 1u << 4;
constexpr uint32_t kNoHdrs = 1u << 5;
constexpr uint32_t kNoEoh = 1u << 6;
constexpr uint32_t kNrHdr = 1u << 7;
constexpr uint32_t kNoUnknown = 1u << 8;
constexpr uint32_t kNoData = 1u << 9;
constexpr uint32_t kSkip = 1u << 10;
constexpr uint32_t kRcptRej = 1u << 11;
constexpr uint32_t kNrConn = 1u << 12;
constexpr uint32_t kNrHelo = 1u << 13;
constexpr uint32_t kNrMail = 1u << 14;
constexpr uint32_t kNrRcpt = 1u << 15;
constexpr uint32_t kNrData = 1u << 16;
constexpr uint32_t kNrUnkn = 1u << 17;
constexpr uint32_t kNrEoh = 1u << 18;
constexpr uint32_t kNrBody = 1u << 19;
constexpr uint32_t kHdrLeadSpc = 1u << 20;

constexpr uint32_t kNoSendMask =
    kNoConnect | kNoHelo | kNoMail | kNoRcpt | kNoBody | kNoHdrs | kNoEoh | kNoUnknown | kNoData;
constexpr uint32_t kNoReplyMask =
    kNrConn | kNrHelo | kNrMail | kNrRcpt | kNrData | kNrUnkn | kNrHdr | kNrEoh | kNrBody;
// milter8.c MILTER8_V2..V6_PROTO_MASK: what Postfix offers per version.
constexpr uint32_t kV2Mask = kNoConnect | kNoHelo | kNoMail | kNoRcpt | kNoBody | kNoHdrs | kNoEoh;
constexpr uint32_t kV3Mask = kV2Mask | kNoUnknown;
constexpr uint32_t kV4Mask = kV3Mask | kNoData;
constexpr uint32_t kV6Mask = kV4Mask | kSkip | kRcptRej | kNoReplyMask | kHdrLeadSpc;

// milter8.c my_actions: ADDHDRS CHGBODY ADDRCPT DELRCPT CHGHDRS QUARANTINE
// CHGFROM ADDRCPT_PAR SETSYMLIST.
constexpr uint32_t kPostfixActions = 0x1ff;
constexpr uint32_t kPostfixVersion = 6;

constexpr size_t kMaxPacket = 16u << 20;
constexpr size_t kBodyChunk = 65535; // MILTER_CHUNK_SIZE

// ---- stages -----------------------------------------------------------------
// mail1 is the first MAIL of a connection: when connect and helo are
// no-reply steps, its request also carries them (and the filter's work for
// them); mail is every later MAIL.
enum Stage { kOptneg, kConnect, kHelo, kMail1, kMail, kRcpt, kData, kHeader, kEoh, kBody, kEom,
             kTxn, kStageCount };
constexpr std::array<const char*, kStageCount> kStageName = {
    "optneg", "connect", "helo", "mail1", "mail", "rcpt", "data", "header", "eoh", "body", "eom",
    "txn"};

// SMFIM_* macro list indexes, as the filter names them in setsymlist.
enum MacroList { kListConnect, kListHelo, kListMail, kListRcpt, kListData, kListEom, kListEoh,
                 kListCount };
// `postconf -d` of Postfix 3.7.11: milter_{connect,helo,mail,rcpt,data,
// end_of_data,end_of_header}_macros.
const std::array<const char*, kListCount> kPostfixDefaultLists = {
    "j {daemon_name} {daemon_addr} v _",
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
    "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    "i",
    "i",
    "i",
};

// ---- latency histogram: 64 sub-buckets per power of two (< 1.6 % error) ---
class Histogram {
public:
    void add(uint64_t ns) {
        ++counts_[index(ns)];
        ++n_;
        max_ = std::max(max_, ns);
    }
    uint64_t count() const { return n_; }
    double maxUs() const { return static_cast<double>(max_) / 1000.0; }
    // Upper edge of the bucket holding the q-quantile, never above the max.
    double quantileUs(double q) const {
        if (n_ == 0)
            return 0;
        const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * n_)));
        uint64_t seen = 0;
        for (size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank)
                return static_cast<double>(std::min(upper(i), max_)) / 1000.0;
        }
        return maxUs();
    }

private:
    static constexpr uint64_t kSub = 64;
    static size_t index(uint64_t v) {
        if (v < 2 * kSub)
            return static_cast<size_t>(v);
        int msb = 63;
        while (!(v >> msb))
            --msb;
        const int shift = msb - 6;
        return static_cast<size_t>(msb - 5) * kSub + ((v >> shift) & (kSub - 1));
    }
    static uint64_t upper(size_t i) {
        if (i < 2 * kSub)
            return i;
        const int msb = static_cast<int>(i / kSub) + 5;
        const int shift = msb - 6;
        return ((kSub + i % kSub + 1) << shift) - 1;
    }
    std::vector<uint64_t> counts_ = std::vector<uint64_t>(64 * 60, 0);
    uint64_t n_ = 0;
    uint64_t max_ = 0;
};

// ---- options ---------------------------------------------------------------
enum class TlsMode { Off, StartTls, Implicit };

struct Options {
    std::string socket;
    int concurrency = 50;
    long transactions = 10000;
    int perConnection = 10;
    TlsMode tls = TlsMode::StartTls;
    bool auth = true;
    int headers = 8;
    size_t bodyBytes = 1024;
    std::string daemonPort = "587";
    std::string tlsVersion = "TLSv1.3";
    std::string cipher = "TLS_AES_256_GCM_SHA384";
    std::string cipherBits = "256";
    double rate = 0; // transactions/s over all connections; 0 = as fast as replies come
    bool hold = false;
    int holdTimeout = 600;
    int timeout = 30;
    int ramp = 32; // connections at most in connect/negotiation at once
    std::string label = "milter-load";
};

void usage(FILE* f) {
    std::fprintf(f,
        "usage: milter-load -s SOCKET [options]\n"
        "  -s, --socket SPEC        inet:PORT@127.0.0.1, inet:127.0.0.1:PORT, unix:/path or /path\n"
        "  -c, --concurrency N      concurrent milter connections (default 50)\n"
        "  -n, --transactions N     total transactions (default 10000)\n"
        "  -p, --per-connection N   transactions per connection (default 10)\n"
        "      --tls MODE           off | starttls | implicit macro profile (default starttls)\n"
        "      --auth on|off        SASL macros from MAIL on (default on)\n"
        "      --headers N          header events per message (default 8)\n"
        "      --body-bytes N       body size per message (default 1024)\n"
        "      --daemon-port N      {daemon_port} (default 587)\n"
        "      --tls-version V      {tls_version} (default TLSv1.3)\n"
        "      --cipher NAME        {cipher}, OpenSSL spelling (default TLS_AES_256_GCM_SHA384)\n"
        "      --cipher-bits N      {cipher_bits} (default 256)\n"
        "      --rate TPS           start at most TPS transactions/s (default: unpaced)\n"
        "      --hold               do -p transactions on each of -c connections, keep them\n"
        "                           open, print 'holding N', and quit them on SIGUSR1\n"
        "      --hold-timeout S     give up holding after S seconds (default 600; an error)\n"
        "      --timeout S          reply timeout (default 30; an error)\n"
        "      --ramp N             connections in connect/negotiation at once (default 32)\n"
        "      --label NAME         name in the output\n");
}

bool parseLong(const char* s, long lo, long hi, long& out) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return false;
    out = v;
    return true;
}

std::optional<Options> parseOptions(int argc, char** argv) {
    enum { kOptTls = 1000, kOptAuth, kOptHeaders, kOptBody, kOptDaemonPort, kOptTlsVersion,
           kOptCipher, kOptCipherBits, kOptRate, kOptHold, kOptHoldTimeout, kOptTimeout, kOptRamp,
           kOptLabel };
    static const option longOpts[] = {
        {"socket", required_argument, nullptr, 's'},
        {"concurrency", required_argument, nullptr, 'c'},
        {"transactions", required_argument, nullptr, 'n'},
        {"per-connection", required_argument, nullptr, 'p'},
        {"tls", required_argument, nullptr, kOptTls},
        {"auth", required_argument, nullptr, kOptAuth},
        {"headers", required_argument, nullptr, kOptHeaders},
        {"body-bytes", required_argument, nullptr, kOptBody},
        {"daemon-port", required_argument, nullptr, kOptDaemonPort},
        {"tls-version", required_argument, nullptr, kOptTlsVersion},
        {"cipher", required_argument, nullptr, kOptCipher},
        {"cipher-bits", required_argument, nullptr, kOptCipherBits},
        {"rate", required_argument, nullptr, kOptRate},
        {"hold", no_argument, nullptr, kOptHold},
        {"hold-timeout", required_argument, nullptr, kOptHoldTimeout},
        {"timeout", required_argument, nullptr, kOptTimeout},
        {"ramp", required_argument, nullptr, kOptRamp},
        {"label", required_argument, nullptr, kOptLabel},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    Options o;
    int c;
    long v = 0;
    auto bad = [](const char* what, const char* arg) {
        std::fprintf(stderr, "milter-load: bad %s: %s\n", what, arg);
        return std::nullopt;
    };
    while ((c = getopt_long(argc, argv, "s:c:n:p:h", longOpts, nullptr)) != -1) {
        switch (c) {
        case 's': o.socket = optarg; break;
        case 'c':
            if (!parseLong(optarg, 1, 100000, v)) return bad("concurrency", optarg);
            o.concurrency = static_cast<int>(v);
            break;
        case 'n':
            if (!parseLong(optarg, 1, 1000000000L, v)) return bad("transactions", optarg);
            o.transactions = v;
            break;
        case 'p':
            if (!parseLong(optarg, 1, 1000000, v)) return bad("per-connection", optarg);
            o.perConnection = static_cast<int>(v);
            break;
        case kOptTls:
            if (!std::strcmp(optarg, "off")) o.tls = TlsMode::Off;
            else if (!std::strcmp(optarg, "starttls") || !std::strcmp(optarg, "on")) o.tls = TlsMode::StartTls;
            else if (!std::strcmp(optarg, "implicit")) o.tls = TlsMode::Implicit;
            else return bad("tls mode", optarg);
            break;
        case kOptAuth:
            if (!std::strcmp(optarg, "on")) o.auth = true;
            else if (!std::strcmp(optarg, "off")) o.auth = false;
            else return bad("auth", optarg);
            break;
        case kOptHeaders:
            if (!parseLong(optarg, 0, 10000, v)) return bad("headers", optarg);
            o.headers = static_cast<int>(v);
            break;
        case kOptBody:
            if (!parseLong(optarg, 0, 64L << 20, v)) return bad("body-bytes", optarg);
            o.bodyBytes = static_cast<size_t>(v);
            break;
        case kOptDaemonPort:
            if (!parseLong(optarg, 0, 65535, v)) return bad("daemon-port", optarg);
            o.daemonPort = optarg;
            break;
        case kOptTlsVersion: o.tlsVersion = optarg; break;
        case kOptCipher: o.cipher = optarg; break;
        case kOptCipherBits: o.cipherBits = optarg; break;
        case kOptRate: {
            char* end = nullptr;
            o.rate = std::strtod(optarg, &end);
            if (!end || *end || !(o.rate >= 0)) return bad("rate", optarg);
            break;
        }
        case kOptHold: o.hold = true; break;
        case kOptHoldTimeout:
            if (!parseLong(optarg, 1, 86400, v)) return bad("hold-timeout", optarg);
            o.holdTimeout = static_cast<int>(v);
            break;
        case kOptTimeout:
            if (!parseLong(optarg, 1, 86400, v)) return bad("timeout", optarg);
            o.timeout = static_cast<int>(v);
            break;
        case kOptRamp:
            if (!parseLong(optarg, 1, 100000, v)) return bad("ramp", optarg);
            o.ramp = static_cast<int>(v);
            break;
        case kOptLabel: o.label = optarg; break;
        case 'h': usage(stdout); std::exit(0);
        default: usage(stderr); return std::nullopt;
        }
    }
    if (optind != argc || o.socket.empty()) {
        usage(stderr);
        return std::nullopt;
    }
    if (o.hold)
        o.transactions = static_cast<long>(o.concurrency) * o.perConnection;
    return o;
}

// ---- socket address --------------------------------------------------------
struct Target {
    sockaddr_storage addr{};
    socklen_t len = 0;
    bool unixSocket = false;
};

std::optional<Target> parseSocket(const std::string& spec) {
    Target t;
    auto unixPath = [&](const std::string& path) -> std::optional<Target> {
        auto* un = reinterpret_cast<sockaddr_un*>(&t.addr);
        if (path.empty() || path.size() >= sizeof un->sun_path)
            return std::nullopt;
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
        t.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        t.unixSocket = true;
        return t;
    };
    for (const char* prefix : {"unix:", "local:"})
        if (spec.rfind(prefix, 0) == 0)
            return unixPath(spec.substr(std::strlen(prefix)));
    if (!spec.empty() && spec[0] == '/')
        return unixPath(spec);
    if (spec.rfind("inet:", 0) != 0)
        return std::nullopt;
    std::string rest = spec.substr(5), host, port;
    if (auto at = rest.find('@'); at != std::string::npos) { // libmilter: inet:PORT@HOST
        port = rest.substr(0, at);
        host = rest.substr(at + 1);
    } else if (auto colon = rest.rfind(':'); colon != std::string::npos) { // Postfix: inet:HOST:PORT
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    } else {
        return std::nullopt;
    }
    long p = 0;
    auto* in = reinterpret_cast<sockaddr_in*>(&t.addr);
    if (!parseLong(port.c_str(), 1, 65535, p) || inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1)
        return std::nullopt;
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(p));
    t.len = sizeof(sockaddr_in);
    return t;
}

// ---- packets ---------------------------------------------------------------
void putU32(std::string& s, uint32_t v) {
    const uint32_t n = htonl(v);
    s.append(reinterpret_cast<const char*>(&n), 4);
}

uint32_t getU32(std::string_view s, size_t at) {
    uint32_t n;
    std::memcpy(&n, s.data() + at, 4);
    return ntohl(n);
}

void appendPacket(std::string& out, char cmd, std::string_view data) {
    putU32(out, static_cast<uint32_t>(data.size() + 1));
    out.push_back(cmd);
    out.append(data);
}

// What the MTA knows at the moment it sends one event.
struct MacroState {
    bool tls = false;     // TLS macros defined (after STARTTLS, or implicit TLS)
    bool auth = false;    // SASL macros defined (MAIL and later)
    bool sender = false;  // MAIL given
    bool rcpt = false;    // RCPT given
    bool cleanup = false; // sent by cleanup(8): header, eoh, body, eom
    const std::string* queueId = nullptr; // set once the queue file exists
    unsigned clientPort = 0;
};

// The value smtpd_milter_eval()/cleanup_milter_eval() would give; nullopt
// for an undefined macro.  Representative values, not a real session's.
std::optional<std::string> macroValue(std::string_view name, const MacroState& m, const Options& o) {
    if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
        name = name.substr(1, name.size() - 2);
    if (name == "j") return std::string("mx.example.test");
    if (name == "daemon_name") return std::string("mx.example.test");
    if (name == "v") return std::string("Postfix 3.7.11");
    if (name == "_") return std::string("localhost [127.0.0.1]");
    if (name == "client_addr") return std::string("127.0.0.1");
    if (name == "client_name" || name == "client_ptr") return std::string("localhost");
    if (name == "client_port") return std::to_string(m.clientPort);
    if (name == "daemon_addr") return std::string("127.0.0.1");
    if (name == "daemon_port") return o.daemonPort;
    if (name == "i") {
        if (m.queueId) return *m.queueId;
        return std::nullopt;
    }
    if (name == "auth_type" && m.auth) return std::string("PLAIN");
    if (name == "auth_authen" && m.auth) return std::string("testuser");
    if (name == "mail_addr" && m.sender) return std::string("sender@example.test");
    if (name == "rcpt_addr" && m.rcpt) return std::string("user@example.test");
    if (m.cleanup) // cleanup knows nothing more (no TLS, no resolver results)
        return std::nullopt;
    if (name == "client_connections") return std::string("1");
    if (name == "client_resolve") return std::string("OK");
    if (m.tls) {
        if (name == "tls_version") return o.tlsVersion;
        if (name == "cipher") return o.cipher;
        if (name == "cipher_bits") return o.cipherBits;
    }
    if ((name == "mail_host" && m.sender) || (name == "rcpt_host" && m.rcpt))
        return std::string("example.test");
    if ((name == "mail_mailer" && m.sender) || (name == "rcpt_mailer" && m.rcpt))
        return std::string("virtual");
    // {cert_subject}, {cert_issuer}: no client certificate; {auth_author}:
    // no AUTH= parameter; {verify}, {auth_ssf}: Postfix has no such macro.
    return std::nullopt;
}

// 'D' packet data: the stage's event code, then name\0value\0 for each
// defined macro of the list.
std::string macroData(char event, const std::string& list, const MacroState& m, const Options& o) {
    std::string d(1, event);
    size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && (list[i] == ' ' || list[i] == ',' || list[i] == '\t'))
            ++i;
        size_t j = i;
        while (j < list.size() && list[j] != ' ' && list[j] != ',' && list[j] != '\t')
            ++j;
        if (j > i) {
            std::string_view name(list.data() + i, j - i);
            if (auto v = macroValue(name, m, o)) {
                d.append(name);
                d.push_back('\0');
                d.append(*v);
                d.push_back('\0');
            }
        }
        i = j;
    }
    return d;
}

// ---- connections -----------------------------------------------------------
struct Step {
    char event = 0;       // SMFIC_* code of the event
    int stage = -1;       // Stage, or -1 for abort/quit
    std::string bytes;    // 'D' packet and (unless negotiated away) the event
    bool wait = false;    // a reply is expected
    bool macrosOnly = false;
    bool endOfTxn = false; // the abort that ends a transaction
};

enum class Phase { Connecting, Negotiating, Running, Paused, Held, Done };

struct Conn {
    int fd = -1;
    unsigned id = 0;
    Phase phase = Phase::Connecting;
    std::string out;
    size_t outOff = 0;
    bool wantOut = false; // EPOLLOUT registered
    bool closeAfterFlush = false;
    std::string in;

    uint32_t version = 0, actions = 0, events = 0, npMask = 0;
    std::array<std::string, kListCount> lists;

    std::deque<Step> steps;
    int txnPlanned = 0, txnStarted = 0, txnDone = 0;
    bool opened = false;
    bool inTxn = false;
    char skipEvent = 0; // SMFIR_SKIP: further events of this type are not sent

    bool waiting = false;
    int waitStage = -1;
    char waitEvent = 0;
    TimePoint sentAt{}, txnAt{}, deadline{};
    unsigned clientPort = 0;
    std::string queueId;
};

struct Counts {
    std::array<uint64_t, kStageCount> sent{}, noReply{}, macrosOnly{};
    std::array<Histogram, kStageCount> latency;
    std::array<uint64_t, 256> eomReplies{}, otherReplies{};
    uint64_t completed = 0, rejected = 0, failedTxns = 0, connections = 0;
    uint64_t errConnect = 0, errProtocol = 0, errTimeout = 0, errClosed = 0, errIo = 0;
    uint64_t errors() const { return errConnect + errProtocol + errTimeout + errClosed + errIo; }
};

class Driver {
public:
    Driver(Options o, Target t) : o_(std::move(o)), target_(t) {}
    int run();

private:
    void openConnections();
    void startConnection();
    void onEvent(Conn& c, uint32_t ev);
    void onConnected(Conn& c);
    void onReadable(Conn& c);
    bool handlePacket(Conn& c, char cmd, std::string_view data);
    bool handleOptneg(Conn& c, std::string_view data);
    bool handleReply(Conn& c, char cmd, std::string_view data);
    void pump(Conn& c);
    enum class Next { Generated, Paused, Held, Closing };
    Next nextSegment(Conn& c);
    void openSegment(Conn& c);
    void txnSegment(Conn& c);
    void addEvent(Conn& c, char event, int stage, int list, const MacroState& m,
                  std::string_view data, uint32_t noFlag, uint32_t nrFlag);
    void addPlain(Conn& c, char event, bool endOfTxn);
    void cutTransaction(Conn& c);
    void finishTransaction(Conn& c, bool rejected);
    void flush(Conn& c);
    void updateInterest(Conn& c);
    void fail(Conn& c, uint64_t& counter, const char* what);
    void finish(Conn& c);
    void releaseHeld();
    void checkTimeouts(TimePoint now);
    void report(double elapsed);
    std::string describeNegotiation(const Conn& c) const;

    Options o_;
    Target target_;
    int ep_ = -1;
    int sigFd_ = -1;
    Counts k_;
    std::vector<std::unique_ptr<Conn>> live_;
    std::vector<Conn*> dead_;
    std::deque<Conn*> paused_;
    long assigned_ = 0; // transactions handed to connections
    int active_ = 0;    // connections not yet done
    int handshaking_ = 0;
    int held_ = 0;
    bool holding_ = false, released_ = false;
    unsigned nextId_ = 0;
    TimePoint start_{}, lastDone_{}, nextStart_{}, holdSince_{};
    std::string negotiated_;
    uint32_t firstEvents_ = 0;
    bool negotiationVaries_ = false;
    uint64_t queueSeq_ = 0;
};

void Driver::fail(Conn& c, uint64_t& counter, const char* what) {
    ++counter;
    if (counter <= 5)
        std::fprintf(stderr, "milter-load: %s: connection %u: %s\n", o_.label.c_str(), c.id, what);
    const int lost = c.txnPlanned - c.txnDone;
    k_.failedTxns += static_cast<uint64_t>(std::max(0, lost));
    c.txnDone = c.txnPlanned;
    finish(c);
}

void Driver::finish(Conn& c) {
    if (c.phase == Phase::Done)
        return;
    if (c.phase == Phase::Connecting || c.phase == Phase::Negotiating)
        --handshaking_;
    if (c.phase == Phase::Paused)
        paused_.erase(std::remove(paused_.begin(), paused_.end(), &c), paused_.end());
    if (c.phase == Phase::Held)
        --held_;
    c.phase = Phase::Done;
    if (c.fd >= 0) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
    }
    --active_;
    dead_.push_back(&c);
}

void Driver::startConnection() {
    auto owned = std::make_unique<Conn>();
    Conn& c = *owned;
    c.id = nextId_++;
    c.txnPlanned = static_cast<int>(std::min<long>(o_.perConnection, o_.transactions - assigned_));
    assigned_ += c.txnPlanned;
    live_.push_back(std::move(owned));
    ++active_;
    ++handshaking_;
    ++k_.connections;
    c.fd = ::socket(target_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        fail(c, k_.errConnect, std::strerror(errno));
        return;
    }
    c.sentAt = SteadyClock::now();
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.len);
    if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        fail(c, k_.errConnect, std::strerror(errno));
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    c.wantOut = true;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    c.deadline = c.sentAt + std::chrono::seconds(o_.timeout);
    if (rc == 0)
        onConnected(c);
}

void Driver::openConnections() {
    if (o_.hold) {
        while (static_cast<long>(nextId_) < o_.concurrency && handshaking_ < o_.ramp)
            startConnection();
        return;
    }
    while (active_ < o_.concurrency && assigned_ < o_.transactions && handshaking_ < o_.ramp)
        startConnection();
}

void Driver::onConnected(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        fail(c, k_.errConnect, std::strerror(err ? err : errno));
        return;
    }
    c.clientPort = 40000 + c.id % 20000; // stands in for the SMTP client's port
    if (!target_.unixSocket) {
        sockaddr_in local{};
        socklen_t l = sizeof local;
        if (getsockname(c.fd, reinterpret_cast<sockaddr*>(&local), &l) == 0)
            c.clientPort = ntohs(local.sin_port);
    }
    c.phase = Phase::Negotiating;
    std::string data;
    putU32(data, kPostfixVersion);
    putU32(data, kPostfixActions);
    putU32(data, kV6Mask);
    appendPacket(c.out, kCmdOptneg, data);
    c.sentAt = SteadyClock::now();
    c.deadline = c.sentAt + std::chrono::seconds(o_.timeout);
    c.waiting = true;
    c.waitStage = kOptneg;
    c.waitEvent = kCmdOptneg;
    ++k_.sent[kOptneg];
    flush(c);
}

std::string hex(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%x", v);
    return b;
}

std::string Driver::describeNegotiation(const Conn& c) const {
    static const std::array<std::pair<uint32_t, const char*>, 9> skips = {{
        {kNoConnect, "connect"}, {kNoHelo, "helo"}, {kNoMail, "mail"}, {kNoRcpt, "rcpt"},
        {kNoData, "data"}, {kNoHdrs, "header"}, {kNoEoh, "eoh"}, {kNoBody, "body"},
        {kNoUnknown, "unknown"}}};
    static const std::array<std::pair<uint32_t, const char*>, 9> nrs = {{
        {kNrConn, "connect"}, {kNrHelo, "helo"}, {kNrMail, "mail"}, {kNrRcpt, "rcpt"},
        {kNrData, "data"}, {kNrHdr, "header"}, {kNrEoh, "eoh"}, {kNrBody, "body"},
        {kNrUnkn, "unknown"}}};
    std::string s = "version=" + std::to_string(c.version) + " actions=" + hex(c.actions) +
                    " protocol=" + hex(c.events) + " skipped=";
    std::string list;
    for (auto& [f, n] : skips)
        if (c.events & f)
            list += (list.empty() ? "" : ",") + std::string(n);
    s += list.empty() ? "none" : list;
    list.clear();
    for (auto& [f, n] : nrs)
        if (c.events & f)
            list += (list.empty() ? "" : ",") + std::string(n);
    s += " no_reply=" + (list.empty() ? std::string("none") : list);
    static const std::array<const char*, kListCount> listName = {"connect", "helo", "mail", "rcpt",
                                                                 "data", "eom", "eoh"};
    std::string sym;
    for (int i = 0; i < kListCount; ++i)
        if (c.lists[i] != kPostfixDefaultLists[i])
            sym += std::string(sym.empty() ? "" : "; ") + listName[i] + "=\"" + c.lists[i] + "\"";
    s += " setsymlist=" + (sym.empty() ? std::string("none") : sym);
    return s;
}

bool Driver::handleOptneg(Conn& c, std::string_view d) {
    if (d.size() < 12)
        return false;
    c.version = getU32(d, 0);
    c.actions = getU32(d, 4);
    c.events = getU32(d, 8);
    // milter8_connect(): a newer version or actions Postfix did not offer
    // end the milter connection.
    if (c.version < 2 || c.version > kPostfixVersion || (c.actions & kPostfixActions) != c.actions)
        return false;
    c.npMask = 0;
    if (c.version < kPostfixVersion) {
        const uint32_t mask = c.version >= 4 ? kV4Mask : c.version == 3 ? kV3Mask : kV2Mask;
        c.npMask = kNoSendMask & ~mask;
    }
    for (int i = 0; i < kListCount; ++i)
        c.lists[i] = kPostfixDefaultLists[i];
    size_t at = 12;
    while (d.size() - at >= 4) {
        const uint32_t which = getU32(d, at);
        at += 4;
        const size_t nul = d.find('\0', at);
        if (nul == std::string_view::npos)
            return false;
        std::string list(d.substr(at, nul - at));
        at = nul + 1;
        // An empty list keeps the main.cf list (MILTER_MACRO_EVAL).
        if (which < kListCount && !list.empty())
            c.lists[which] = list;
    }
    const std::string desc = describeNegotiation(c);
    if (negotiated_.empty()) {
        negotiated_ = desc;
        firstEvents_ = c.events;
    }
    else if (desc != negotiated_)
        negotiationVaries_ = true;
    return true;
}

void Driver::addEvent(Conn& c, char event, int stage, int list, const MacroState& m,
                      std::string_view data, uint32_t noFlag, uint32_t nrFlag) {
    if (noFlag & c.npMask) // not in the protocol version the filter speaks
        return;
    Step s;
    s.event = event;
    s.stage = stage;
    appendPacket(s.bytes, kCmdMacro, macroData(event, c.lists[list], m, o_));
    if (noFlag & c.events) {
        s.macrosOnly = true;
    } else {
        appendPacket(s.bytes, event, data);
        s.wait = !(nrFlag & c.events);
    }
    c.steps.push_back(std::move(s));
}

void Driver::addPlain(Conn& c, char event, bool endOfTxn) {
    Step s;
    s.event = event;
    s.endOfTxn = endOfTxn;
    appendPacket(s.bytes, event, {});
    c.steps.push_back(std::move(s));
}

void Driver::openSegment(Conn& c) {
    MacroState m;
    m.clientPort = c.clientPort;
    m.tls = o_.tls == TlsMode::Implicit;
    std::string conn = "localhost";
    conn.push_back('\0');
    conn.push_back('4'); // the SMTP client's address, whatever the milter socket is
    const uint16_t port = htons(static_cast<uint16_t>(c.clientPort));
    conn.append(reinterpret_cast<const char*>(&port), 2);
    conn.append("127.0.0.1");
    conn.push_back('\0');
    addEvent(c, kCmdConnect, kConnect, kListConnect, m, conn, kNoConnect, kNrConn);
    std::string helo = "client.example.test";
    helo.push_back('\0');
    addEvent(c, kCmdHelo, kHelo, kListHelo, m, helo, kNoHelo, kNrHelo);
    if (o_.tls == TlsMode::StartTls) {
        // STARTTLS: smtpd's helo_reset() aborts, the client says EHLO again
        // and only now are the TLS macros defined.
        addPlain(c, kCmdAbort, false);
        m.tls = true;
        addEvent(c, kCmdHelo, kHelo, kListHelo, m, helo, kNoHelo, kNrHelo);
    }
    c.opened = true;
}

const std::array<std::pair<const char*, const char*>, 8> kHeaders = {{
    {"Date", "Mon, 1 Dec 2025 07:52:00 +0000"},
    {"From", "Sender <sender@example.test>"},
    {"To", "User <user@example.test>"},
    {"Subject", "milter-load benchmark message"},
    {"Message-ID", "<milter-load.1@client.example.test>"},
    {"MIME-Version", "1.0"},
    {"Content-Type", "text/plain; charset=us-ascii"},
    {"Content-Transfer-Encoding", "7bit"},
}};

void Driver::txnSegment(Conn& c) {
    char qid[24];
    std::snprintf(qid, sizeof qid, "%05X%06llX", c.id & 0xfffff,
                  static_cast<unsigned long long>(++queueSeq_ & 0xffffff));
    c.queueId = qid;
    MacroState m;
    m.clientPort = c.clientPort;
    m.tls = o_.tls != TlsMode::Off;
    m.auth = o_.auth;
    m.sender = true;
    std::string mail = "<sender@example.test>";
    mail.push_back('\0');
    addEvent(c, kCmdMail, c.txnStarted == 0 ? kMail1 : kMail, kListMail, m, mail, kNoMail, kNrMail);
    // With smtpd_delay_open_until_valid_rcpt = yes the queue file (and id)
    // comes after the first RCPT's milter event.
    m.rcpt = true;
    std::string rcpt = "<user@example.test>";
    rcpt.push_back('\0');
    addEvent(c, kCmdRcpt, kRcpt, kListRcpt, m, rcpt, kNoRcpt, kNrRcpt);
    m.queueId = &c.queueId;
    addEvent(c, kCmdData, kData, kListData, m, {}, kNoData, kNrData);

    // cleanup(8) from here on: it does not register header, eoh or body
    // callbacks the filter declined, so not even their 'D' goes out.
    MacroState cm = m;
    cm.cleanup = true;
    if (!(c.events & kNoHdrs)) {
        const bool leadSpace = c.events & kHdrLeadSpc;
        for (int i = 0; i < o_.headers; ++i) {
            std::string name, value;
            if (i < static_cast<int>(kHeaders.size())) {
                name = kHeaders[i].first;
                value = kHeaders[i].second;
            } else {
                name = "X-Load-" + std::to_string(i);
                value = "header number " + std::to_string(i);
            }
            std::string d = name;
            d.push_back('\0');
            if (leadSpace)
                d.push_back(' ');
            d += value;
            d.push_back('\0');
            addEvent(c, kCmdHeader, kHeader, kListEoh, cm, d, kNoHdrs, kNrHdr);
        }
    }
    if (!(c.events & kNoEoh))
        addEvent(c, kCmdEoh, kEoh, kListEoh, cm, {}, kNoEoh, kNrEoh);
    if (!(c.events & kNoBody) && o_.bodyBytes > 0) {
        std::string body;
        body.reserve(o_.bodyBytes);
        while (body.size() < o_.bodyBytes) {
            std::string line = "This is line " + std::to_string(body.size() / 72) +
                               " of the milter-load benchmark body, padded to length....";
            line.resize(70, '.');
            body += line + "\r\n";
        }
        body.resize(o_.bodyBytes);
        for (size_t off = 0; off < body.size(); off += kBodyChunk)
            addEvent(c, kCmdBody, kBody, kListEom, cm,
                     std::string_view(body).substr(off, kBodyChunk), kNoBody, kNrBody);
    }
    addEvent(c, kCmdBodyEob, kEom, kListEom, cm, {}, 0, 0);
    addPlain(c, kCmdAbort, true); // smtpd mail_reset() after the message
    ++c.txnStarted;
    c.inTxn = true;
    c.txnAt = SteadyClock::now();
}

Driver::Next Driver::nextSegment(Conn& c) {
    if (!c.opened) {
        openSegment(c);
        return Next::Generated;
    }
    if (c.txnStarted < c.txnPlanned) {
        if (o_.rate > 0) {
            const auto now = SteadyClock::now();
            if (nextStart_ > now) {
                c.phase = Phase::Paused;
                paused_.push_back(&c);
                return Next::Paused;
            }
            nextStart_ += std::chrono::duration_cast<SteadyClock::duration>(
                std::chrono::duration<double>(1.0 / o_.rate));
        }
        txnSegment(c);
        return Next::Generated;
    }
    if (o_.hold && !released_) {
        c.phase = Phase::Held;
        ++held_;
        return Next::Held;
    }
    // End of the SMTP session: helo_reset() aborts, then the disconnect.
    addPlain(c, kCmdAbort, false);
    addPlain(c, kCmdQuit, false);
    return Next::Closing;
}

void Driver::pump(Conn& c) {
    if (c.phase != Phase::Running)
        return;
    while (!c.waiting) {
        if (c.steps.empty()) {
            if (c.closeAfterFlush)
                break; // abort and quit are in the buffer
            const Next n = nextSegment(c);
            if (n == Next::Paused || n == Next::Held)
                return; // like Postfix, leave buffered no-reply requests unflushed
            if (n == Next::Closing)
                c.closeAfterFlush = true;
            continue;
        }
        Step s = std::move(c.steps.front());
        c.steps.pop_front();
        if (s.stage >= 0 && c.skipEvent) {
            if (s.event == c.skipEvent)
                continue; // SMFIR_SKIP: neither macros nor event
            c.skipEvent = 0;
        }
        c.out += s.bytes;
        if (s.stage >= 0) {
            if (s.macrosOnly) {
                ++k_.macrosOnly[s.stage];
            } else {
                ++k_.sent[s.stage];
                if (!s.wait)
                    ++k_.noReply[s.stage];
            }
        }
        if (s.wait) {
            c.waiting = true;
            c.waitStage = s.stage;
            c.waitEvent = s.event;
            c.sentAt = SteadyClock::now();
            c.deadline = c.sentAt + std::chrono::seconds(o_.timeout);
        }
    }
    flush(c);
}

void Driver::updateInterest(Conn& c) {
    const bool want = c.outOff < c.out.size();
    if (want == c.wantOut || c.fd < 0)
        return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.wantOut = want;
}

void Driver::flush(Conn& c) {
    while (c.outOff < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.outOff, c.out.size() - c.outOff, MSG_NOSIGNAL);
        if (n > 0) {
            c.outOff += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        fail(c, k_.errIo, n < 0 ? std::strerror(errno) : "short write");
        return;
    }
    if (c.outOff == c.out.size()) {
        c.out.clear();
        c.outOff = 0;
        if (c.closeAfterFlush) {
            finish(c);
            return;
        }
    }
    updateInterest(c);
}

void Driver::finishTransaction(Conn& c, bool rejected) {
    if (!c.inTxn)
        return;
    c.inTxn = false;
    ++c.txnDone;
    if (rejected) {
        ++k_.rejected;
    } else {
        ++k_.completed;
        const auto now = SteadyClock::now();
        k_.latency[kTxn].add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.txnAt).count()));
    }
    lastDone_ = SteadyClock::now();
}

// The rest of this message's events are not sent (smtpd refused the
// transaction or the filter accepted it early); the trailing abort stays.
void Driver::cutTransaction(Conn& c) {
    while (!c.steps.empty() && !c.steps.front().endOfTxn)
        c.steps.pop_front();
}

bool Driver::handleReply(Conn& c, char cmd, std::string_view data) {
    const int stage = c.waitStage;
    const auto now = SteadyClock::now();
    if (cmd == 'p') { // SMFIR_PROGRESS
        c.deadline = now + std::chrono::seconds(o_.timeout);
        return true;
    }
    auto& replies = stage == kEom ? k_.eomReplies : k_.otherReplies;
    auto done = [&] {
        k_.latency[stage].add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sentAt).count()));
        c.waiting = false;
    };
    const bool connectLevel = stage == kConnect || stage == kHelo;
    switch (cmd) {
    case 'c':
        if (!data.empty())
            return false;
        ++replies['c'];
        done();
        if (stage == kEom)
            finishTransaction(c, false);
        return true;
    case 's':
        if (!data.empty() || !(c.events & kSkip))
            return false;
        ++replies['s'];
        done();
        c.skipEvent = c.waitEvent;
        if (stage == kEom)
            finishTransaction(c, false);
        return true;
    case 'a':
        ++replies['a'];
        done();
        if (connectLevel) { // no more events on this connection; Postfix closes it
            k_.rejected += static_cast<uint64_t>(c.txnPlanned - c.txnDone);
            c.txnDone = c.txnPlanned;
            finish(c);
        } else if (stage == kEom) {
            finishTransaction(c, false);
        } else {
            cutTransaction(c);
            finishTransaction(c, true); // accepted unfiltered: not a filtered transaction
        }
        return true;
    case 'r':
    case 't':
    case 'y':
    case 'd':
    case '4':
        ++replies[static_cast<unsigned char>(cmd)];
        done();
        if (connectLevel || cmd == '4') {
            k_.rejected += static_cast<uint64_t>(c.txnPlanned - c.txnDone);
            c.txnDone = c.txnPlanned;
            c.inTxn = false;
            finish(c);
        } else {
            cutTransaction(c);
            finishTransaction(c, true);
        }
        return true;
    case '+': case '-': case '2': case 'e': case 'h': case 'i': case 'm': case 'b': case 'q':
        if (stage != kEom)
            return false; // milter8_event(): an edit outside end-of-body is an error
        ++replies[static_cast<unsigned char>(cmd)];
        return true;
    default:
        return false;
    }
}

bool Driver::handlePacket(Conn& c, char cmd, std::string_view data) {
    if (!c.waiting)
        return false; // nothing asked
    if (c.phase == Phase::Negotiating) {
        if (cmd != kCmdOptneg || !handleOptneg(c, data))
            return false;
        const auto now = SteadyClock::now();
        k_.latency[kOptneg].add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sentAt).count()));
        c.waiting = false;
        c.phase = Phase::Running;
        --handshaking_;
        return true;
    }
    return handleReply(c, cmd, data);
}

void Driver::onReadable(Conn& c) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            if (static_cast<size_t>(n) < sizeof buf)
                break;
            continue;
        }
        if (n == 0) {
            fail(c, k_.errClosed, "closed by the filter");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        fail(c, k_.errIo, std::strerror(errno));
        return;
    }
    size_t at = 0;
    while (c.phase != Phase::Done && c.in.size() - at >= 4) {
        const uint32_t len = getU32(c.in, at);
        if (len == 0 || len > kMaxPacket) {
            fail(c, k_.errProtocol, "bad packet length");
            return;
        }
        if (c.in.size() - at - 4 < len)
            break;
        const char cmd = c.in[at + 4];
        std::string_view data(c.in.data() + at + 5, len - 1);
        if (!handlePacket(c, cmd, data)) {
            char what[64];
            std::snprintf(what, sizeof what, "unexpected reply '%c' at %s", cmd,
                          c.waitStage >= 0 ? kStageName[c.waitStage] : "-");
            fail(c, k_.errProtocol, what);
            return;
        }
        at += 4 + len;
    }
    if (c.phase == Phase::Done)
        return;
    c.in.erase(0, at);
    pump(c);
}

void Driver::onEvent(Conn& c, uint32_t ev) {
    if (c.phase == Phase::Done)
        return;
    if (c.phase == Phase::Connecting) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            onConnected(c);
        return;
    }
    if (ev & EPOLLIN) {
        onReadable(c);
        if (c.phase == Phase::Done)
            return;
    } else if (ev & (EPOLLERR | EPOLLHUP)) {
        fail(c, k_.errClosed, "connection error");
        return;
    }
    if ((ev & EPOLLOUT) && c.phase != Phase::Done)
        flush(c);
}

void Driver::releaseHeld() {
    released_ = true;
    for (auto& p : live_) {
        Conn& c = *p;
        if (c.phase == Phase::Held) {
            --held_;
            c.phase = Phase::Running;
            pump(c);
        }
    }
}

void Driver::checkTimeouts(TimePoint now) {
    for (auto& p : live_) {
        Conn& c = *p;
        if (c.phase == Phase::Done)
            continue;
        if ((c.waiting || c.phase == Phase::Connecting) && now > c.deadline)
            fail(c, k_.errTimeout, c.phase == Phase::Connecting ? "connect timeout" : "reply timeout");
    }
}

int Driver::run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
        std::perror("milter-load: epoll_create1");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    static char sigMarker;
    if (o_.hold) {
        sigFd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &sigMarker;
        epoll_ctl(ep_, EPOLL_CTL_ADD, sigFd_, &ev);
    }
    start_ = lastDone_ = nextStart_ = SteadyClock::now();
    openConnections();
    std::vector<epoll_event> evs(512);
    TimePoint lastTimeoutCheck = start_;
    double elapsed = -1;
    while (active_ > 0 || assigned_ < o_.transactions) {
        int waitMs = 100;
        const auto now0 = SteadyClock::now();
        if (!paused_.empty()) {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(nextStart_ - now0).count();
            waitMs = us <= 0 ? 0 : static_cast<int>(std::min<long long>(100, (us + 999) / 1000));
        }
        const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), waitMs);
        if (n < 0 && errno != EINTR) {
            std::perror("milter-load: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.ptr == &sigMarker) {
                signalfd_siginfo si;
                while (::read(sigFd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                }
                if (holding_ && !released_)
                    releaseHeld();
                continue;
            }
            onEvent(*static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
        }
        const auto now = SteadyClock::now();
        while (!paused_.empty() && nextStart_ <= now) {
            Conn* c = paused_.front();
            paused_.pop_front();
            c->phase = Phase::Running;
            pump(*c);
        }
        if (now - lastTimeoutCheck > std::chrono::milliseconds(200)) {
            checkTimeouts(now);
            lastTimeoutCheck = now;
        }
        if (o_.hold && !holding_ && static_cast<long>(nextId_) == o_.concurrency &&
            held_ == active_ && active_ > 0) {
            holding_ = true;
            holdSince_ = now;
            elapsed = std::chrono::duration<double>(lastDone_ - start_).count();
            std::printf("holding %d connections\n", held_);
            std::fflush(stdout);
        }
        if (holding_ && !released_ && now - holdSince_ > std::chrono::seconds(o_.holdTimeout)) {
            std::fprintf(stderr, "milter-load: %s: no SIGUSR1 within %d s; quitting\n",
                         o_.label.c_str(), o_.holdTimeout);
            ++k_.errTimeout;
            releaseHeld();
        }
        // Free finished connections only now: this batch may still have
        // named them.
        if (!dead_.empty()) {
            live_.erase(std::remove_if(live_.begin(), live_.end(),
                                       [](const std::unique_ptr<Conn>& p) { return p->phase == Phase::Done; }),
                        live_.end());
            dead_.clear();
        }
        openConnections();
        if (o_.hold && active_ == 0 && static_cast<long>(nextId_) >= o_.concurrency)
            break;
    }
    if (elapsed < 0)
        elapsed = std::chrono::duration<double>(lastDone_ - start_).count();
    report(elapsed);
    const bool ok = k_.errors() == 0 && k_.rejected == 0 && k_.failedTxns == 0 &&
                    static_cast<long>(k_.completed) == o_.transactions;
    return ok ? 0 : 1;
}

void Driver::report(double elapsed) {
    const char* tls = o_.tls == TlsMode::Off ? "cleartext" : o_.tls == TlsMode::StartTls ? "starttls" : "implicit-tls";
    const double tps = elapsed > 0 ? static_cast<double>(k_.completed) / elapsed : 0;
    std::printf("%s: socket=%s concurrency=%d transactions=%ld per_connection=%d profile=%s%s "
                "headers=%d body_bytes=%zu rate=%s\n",
                o_.label.c_str(), o_.socket.c_str(), o_.concurrency, o_.transactions,
                o_.perConnection, tls, o_.auth ? "+auth" : "", o_.headers, o_.bodyBytes,
                o_.rate > 0 ? std::to_string(o_.rate).c_str() : "unpaced");
    std::printf("  negotiated: %s%s\n", negotiated_.empty() ? "(none)" : negotiated_.c_str(),
                negotiationVaries_ ? " (varied between connections)" : "");
    std::printf("  throughput: %.1f transactions/s (%llu in %.3f s over %llu connections)\n", tps,
                static_cast<unsigned long long>(k_.completed), elapsed,
                static_cast<unsigned long long>(k_.connections));
    std::printf("  %-8s %10s %10s %10s %10s %10s %10s\n", "stage", "sent", "no_reply", "macros_only",
                "p50_us", "p99_us", "max_us");
    for (int s = 0; s < kStageCount; ++s) {
        const auto& h = k_.latency[s];
        if (s != kTxn && k_.sent[s] == 0 && k_.macrosOnly[s] == 0)
            continue;
        if (h.count() > 0)
            std::printf("  %-8s %10llu %10llu %10llu %10.1f %10.1f %10.1f\n", kStageName[s],
                        static_cast<unsigned long long>(s == kTxn ? h.count() : k_.sent[s]),
                        static_cast<unsigned long long>(k_.noReply[s]),
                        static_cast<unsigned long long>(k_.macrosOnly[s]), h.quantileUs(0.5),
                        h.quantileUs(0.99), h.maxUs());
        else
            std::printf("  %-8s %10llu %10llu %10llu %10s %10s %10s\n", kStageName[s],
                        static_cast<unsigned long long>(k_.sent[s]),
                        static_cast<unsigned long long>(k_.noReply[s]),
                        static_cast<unsigned long long>(k_.macrosOnly[s]), "-", "-", "-");
    }
    auto replies = [](const std::array<uint64_t, 256>& r) {
        std::string s;
        for (int i = 0; i < 256; ++i)
            if (r[i])
                s += std::string(s.empty() ? "" : " ") + static_cast<char>(i) + "=" + std::to_string(r[i]);
        return s.empty() ? std::string("none") : s;
    };
    std::printf("  replies at eom: %s; at other stages: %s\n", replies(k_.eomReplies).c_str(),
                replies(k_.otherReplies).c_str());
    std::printf("  errors: %llu (connect=%llu protocol=%llu timeout=%llu closed=%llu io=%llu), "
                "failed transactions=%llu, rejected=%llu\n",
                static_cast<unsigned long long>(k_.errors()), static_cast<unsigned long long>(k_.errConnect),
                static_cast<unsigned long long>(k_.errProtocol), static_cast<unsigned long long>(k_.errTimeout),
                static_cast<unsigned long long>(k_.errClosed), static_cast<unsigned long long>(k_.errIo),
                static_cast<unsigned long long>(k_.failedTxns), static_cast<unsigned long long>(k_.rejected));
    // One machine-readable line for scripts.
    std::printf("RESULT label=%s tps=%.1f completed=%llu errors=%llu failed=%llu rejected=%llu "
                "elapsed_s=%.3f protocol=%s",
                o_.label.c_str(), tps, static_cast<unsigned long long>(k_.completed),
                static_cast<unsigned long long>(k_.errors()), static_cast<unsigned long long>(k_.failedTxns),
                static_cast<unsigned long long>(k_.rejected), elapsed,
                negotiated_.empty() ? "-" : hex(firstEvents_).c_str());
    for (int s = 0; s < kStageCount; ++s) {
        const auto& h = k_.latency[s];
        if (h.count() > 0)
            std::printf(" p50_%s=%.1f p99_%s=%.1f max_%s=%.1f", kStageName[s], h.quantileUs(0.5),
                        kStageName[s], h.quantileUs(0.99), kStageName[s], h.maxUs());
        else
            std::printf(" p50_%s=- p99_%s=- max_%s=-", kStageName[s], kStageName[s], kStageName[s]);
    }
    std::printf("\n");
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
    auto o = parseOptions(argc, argv);
    if (!o)
        return 2;
    auto t = parseSocket(o->socket);
    if (!t) {
        std::fprintf(stderr, "milter-load: bad socket %s\n", o->socket.c_str());
        return 2;
    }
    Driver d(std::move(*o), *t);
    return d.run();
}
