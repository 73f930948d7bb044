// milter.cpp — the libmilter callbacks: thin glue between libmilter and
// rfc8314::Session.
//
// Each callback fetches the connection's context, wraps the stage's macros,
// calls the session, maps the Decision to SMFIS_* and applies header edits
// (only at end of message, where libmilter allows them).  Every callback runs
// inside guard(): no exception ever reaches libmilter.  A failure goes to
// Session::onFailure, which answers it with on_internal_error where the step
// can answer (MAIL, end of message) and otherwise carries it to the next
// step that can: connect, HELO and RCPT are negotiated no-reply, and
// libmilter turns any answer there into "no reply" (engine.c sendreply).
//
// The metrics (metrics_listen) are fed here and only here, with atomics:
// each audit line as it is emitted (so a failure answered at a later step
// counts once, with the verdict that answer applied), each failure once in
// the guard, each callback's time in the guard, sessions from connect to
// close.
//
// Fault injection (RFC8314_MILTER_TEST_THROW_AT, RFC8314_MILTER_TEST_DELAY_MS,
// RFC8314_MILTER_TEST_NO_SETSYMLIST) exists only when compiled with
// RFC8314_MILTER_TEST_HOOKS: the test build build/rfc8314-milter-test, never
// the shipped daemon.
#include "milter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "metrics_http.hpp"
#include "rfc8314/facts.hpp"
#include "rfc8314/logfmt.hpp"
#include "rfc8314/macros.hpp"
#include "rfc8314/session.hpp"
#include "runtime.hpp"

namespace rfc8314 {

namespace {

// Per-connection state behind smfi_setpriv.
struct Context {
    OpenSession open; // first member: counted until everything else is gone
    std::unique_ptr<Session> session;
    unsigned long noReplySteps = 0; // SMFIP_NR_* the MTA agreed to
    // Counted in rfc8314_sessions_active from connect on (a connection that
    // never reaches connect, such as the systemd watchdog's probe, is not).
    bool counted = false;
    ~Context() {
        if (counted)
            if (auto* m = daemonMetrics())
                m->sessionClosed();
    }
};

// Adds one audit line to the metrics, from the values the session
// recorded with it (AuditSummary); every other line is not counted.
void countEvent(const LogEvent& e) noexcept {
    auto* m = daemonMetrics();
    const auto& a = e.summary;
    if (!m || a.verdict.empty())
        return;
    TransactionSample t;
    t.listener = a.listener;
    t.verdict = a.verdict;
    t.reason = a.reason;
    t.tlsVersion = toString(a.tls);
    t.cleartextAuth = a.cleartextAuth;
    char code[16];
    if (a.tls == TlsVersion::None) {
        t.cipher = "none";
    } else if (!a.cipher) {
        t.cipher = "unknown";
    } else if (!a.cipher->iana.empty()) {
        t.cipher = a.cipher->iana;
    } else {
        // The clause's "0xC02F" form, without an allocation.
        std::snprintf(code, sizeof code, "0x%04X", static_cast<unsigned>(a.cipher->code));
        t.cipher = code;
    }
    m->transaction(t);
}

// Times one callback, its failure handling included, into
// rfc8314_callback_duration_seconds{stage}.
class StageTimer {
public:
    explicit StageTimer(Stage stage) noexcept : m_(daemonMetrics()), stage_(stage) {
        if (m_)
            start_ = std::chrono::steady_clock::now();
    }
    ~StageTimer() {
        if (m_)
            m_->observe(stage_, std::chrono::steady_clock::now() - start_);
    }
    StageTimer(const StageTimer&) = delete;
    StageTimer& operator=(const StageTimer&) = delete;

private:
    Metrics* m_;
    Stage stage_;
    std::chrono::steady_clock::time_point start_;
};

// One stage's macros, read lazily through smfi_getsymval.
class StageMacros : public MacroSource {
public:
    explicit StageMacros(SMFICTX* ctx) : ctx_(ctx) {}
    std::optional<std::string_view> get(std::string_view name) const override {
        // The name in a buffer on the stack: a std::string per look-up was
        // a quarter of its cost (every name the session asks for fits).
        char buf[64];
        std::string heap;
        const char* n = buf;
        if (!canonicalMacroName(name, buf, sizeof buf)) {
            heap = canonicalMacroName(name);
            n = heap.c_str();
        }
        char* v = smfi_getsymval(ctx_, const_cast<char*>(n));
        if (!v)
            return std::nullopt;
        return std::string_view(v);
    }

private:
    SMFICTX* ctx_;
};

Context* context(SMFICTX* ctx) { return static_cast<Context*>(smfi_getpriv(ctx)); }

// The setsymlist lists, in the order of kSymlistStages: the same for every
// connection until a reload changes group_macro, so built once per thread
// and setting rather than four strings per connection.
constexpr std::pair<int, MacroStage> kSymlistStages[] = {{SMFIM_CONNECT, MacroStage::Connect},
                                                         {SMFIM_HELO, MacroStage::Helo},
                                                         {SMFIM_ENVFROM, MacroStage::Mail},
                                                         {SMFIM_EOM, MacroStage::Eom}};
const std::array<std::string, 4>& symlists(const std::string& groupMacro) {
    thread_local bool built = false;
    thread_local std::string builtFor;
    thread_local std::array<std::string, 4> lists;
    if (!built || builtFor != groupMacro) {
        built = false; // until every list is in place (a build may throw)
        for (std::size_t i = 0; i < lists.size(); ++i)
            lists[i] = stageMacroList(kSymlistStages[i].second, groupMacro);
        builtFor = groupMacro;
        built = true;
    }
    return lists;
}

FailAction failAction(SMFICTX* ctx) {
    if (auto* c = context(ctx); c && c->session)
        return c->session->config().onInternalError;
    if (auto cfg = Runtime::instance().current())
        return cfg->onInternalError;
    return FailAction::Tempfail;
}

#ifdef RFC8314_MILTER_TEST_HOOKS
// RFC8314_MILTER_TEST_THROW_AT=STAGE makes that stage's callback throw
// after the session has done its work, so the fault suite can prove the
// guard's answer and log lines on a real MTA.  Read once.
void injectTestFault(Stage stage) {
    static const std::string at = [] {
        const char* v = std::getenv("RFC8314_MILTER_TEST_THROW_AT");
        return std::string(v ? v : "");
    }();
    if (!at.empty() && at == toString(stage))
        throw std::runtime_error("test: failure injected at " + std::string(toString(stage)));
}

// RFC8314_MILTER_TEST_DELAY_MS makes every MAIL stage sleep that long, so
// the fault suite can prove the MTA's milter timeouts hold.  Read once.
void injectTestDelay() {
    static const unsigned ms = [] {
        const char* v = std::getenv("RFC8314_MILTER_TEST_DELAY_MS");
        if (!v || !*v)
            return 0u;
        char* end = nullptr;
        const unsigned long n = std::strtoul(v, &end, 10);
        return (*end == '\0' && n <= 600000) ? static_cast<unsigned>(n) : 0u;
    }();
    if (ms)
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}
// RFC8314_MILTER_TEST_NO_SETSYMLIST=1 makes the filter act as if the MTA
// had not offered smfi_setsymlist, so the MTA's own macro lists arrive:
// Postfix 3.7 and Sendmail 8.17 always offer it (Postfix at every
// milter_protocol), so only this shows a real MTA passing no {daemon_port}.
unsigned long offeredActions(unsigned long f0) {
    const char* v = std::getenv("RFC8314_MILTER_TEST_NO_SETSYMLIST");
    return v && *v == '1' ? f0 & ~static_cast<unsigned long>(SMFIF_SETSYMLIST) : f0;
}
#else
inline void injectTestFault(Stage) noexcept {}
inline void injectTestDelay() noexcept {}
inline unsigned long offeredActions(unsigned long f0) noexcept { return f0; }
#endif

void emit(const Decision& d) {
    auto& logger = Runtime::instance().logger();
    for (const auto& e : d.logs) {
        logger.log(e.level, e.line);
        if (!e.json.empty())
            logger.audit(e.json);
        countEvent(e);
    }
}

// Maps a verdict to libmilter's answer.  Continue on a no-reply step must be
// SMFIS_NOREPLY.
sfsistat answer(SMFICTX* ctx, const Decision& d, unsigned long nrFlag) {
    emit(d);
    switch (d.verdict) {
    case Verdict::Continue: {
        auto* c = context(ctx);
        if (c && (c->noReplySteps & nrFlag))
            return SMFIS_NOREPLY;
        return SMFIS_CONTINUE;
    }
    case Verdict::Accept:
        return SMFIS_ACCEPT;
    case Verdict::Reject:
    case Verdict::Tempfail:
        if (d.reply) {
            smfi_setreply(ctx, const_cast<char*>(d.reply->code.c_str()),
                          const_cast<char*>(d.reply->xcode.c_str()),
                          const_cast<char*>(d.reply->text.c_str()));
        }
        return d.verdict == Verdict::Reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

// The one exception guard every callback goes through.  Nothing in here
// may throw past it: the handlers allocate only inside their own try.
// `nrFlag` is the step's SMFIP_NR_* bit (0 for steps that always answer).
template <typename F>
sfsistat guard(SMFICTX* ctx, Stage stage, unsigned long nrFlag, F&& body) noexcept {
    // The exception dies with its catch block: keep a copy of its text, in
    // a buffer, since copying into a string could itself throw.
    char what[256] = "unknown exception";
    StageTimer timer(stage);
    try {
        return body();
    } catch (const std::exception& e) {
        std::snprintf(what, sizeof what, "%s", e.what());
    } catch (...) {
    }
    // Counted here, once per failure; the transaction's audit line (when
    // the failure is answered, maybe at a later step) is counted as it is
    // emitted, with the verdict that answer applies.
    if (auto* m = daemonMetrics())
        m->internalError(stage);
    FailAction action = FailAction::Tempfail;
    try {
        if (auto* c = context(ctx); c && c->session)
            return answer(ctx, c->session->onFailure(stage, what, std::time(nullptr)), nrFlag);
        // No session to carry the failure: a session made at a later step
        // finds its connect step incomplete and answers for it (Session).
        action = failAction(ctx);
        LogLine line;
        line.add("error", "internal error").add("stage", toString(stage)).add("what", what);
        Runtime::instance().logger().log(LogLevel::Error, line.str());
    } catch (...) {
    }
    return action == FailAction::Accept ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

std::string addressText(const _SOCK_ADDR* sa) {
    if (!sa)
        return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        return std::string(buf, ipv4Text(reinterpret_cast<const unsigned char*>(&in->sin_addr), buf));
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf))
            return buf;
    }
    return {};
}

Context* ensureContext(SMFICTX* ctx) {
    auto* c = context(ctx);
    if (!c) {
        c = new Context;
        if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
            delete c;
            throw std::runtime_error("smfi_setpriv failed");
        }
    }
    if (!c->session) {
        auto cfg = Runtime::instance().current();
        c->session = std::make_unique<Session>(cfg, Runtime::instance().limiter());
    }
    return c;
}

sfsistat onNegotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                     unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1,
                     unsigned long* pf2, unsigned long* pf3) {
    return guard(ctx, Stage::Negotiate, 0, [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        f0 = offeredActions(f0);
        // Actions: add headers; ask for our macro lists.
        *pf0 = SMFIF_ADDHDRS | (f0 & SMFIF_SETSYMLIST);
        // Steps we never need, and steps whose answer is always "continue".
        const unsigned long skip = SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN |
                                   SMFIP_NODATA;
        const unsigned long noReply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT;
        *pf1 = f1 & (skip | noReply);
        *pf2 = 0;
        *pf3 = 0;
        c->noReplySteps = *pf1 & noReply;
        const auto& cfg = c->session->config();
        if (f0 & SMFIF_SETSYMLIST) {
            // Exactly what the session reads (macros.hpp); both Postfix and
            // Sendmail honour the list (MTA-FACTS.md §3).
            const auto& lists = symlists(cfg.groupMacro);
            for (std::size_t i = 0; i < lists.size(); ++i)
                smfi_setsymlist(ctx, kSymlistStages[i].first, const_cast<char*>(lists[i].c_str()));
        } else if (Runtime::instance().limiter()->allow("no-setsymlist", std::time(nullptr), 3600)) {
            // Postfix below milter_protocol 6: only the MTA's own lists
            // arrive, and without {daemon_port} no listener is known.
            LogLine line;
            line.add("error", "the MTA does not offer smfi_setsymlist: the filter gets only the "
                              "macros of the MTA's own lists")
                .add("fix", symlistAdvice(cfg.groupMacro));
            Runtime::instance().logger().log(LogLevel::Error, line.str());
        }
        injectTestFault(Stage::Negotiate);
        return SMFIS_CONTINUE;
    });
}

sfsistat onConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) {
    return guard(ctx, Stage::Connect, SMFIP_NR_CONN, [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        if (auto* metrics = daemonMetrics(); metrics && !c->counted) {
            c->counted = true;
            metrics->sessionOpened();
        }
        StageMacros m(ctx);
        auto d = c->session->onConnect(m, hostname ? hostname : "", addressText(addr));
        injectTestFault(Stage::Connect);
        return answer(ctx, d, SMFIP_NR_CONN);
    });
}

sfsistat onHelo(SMFICTX* ctx, char* helo) {
    return guard(ctx, Stage::Helo, SMFIP_NR_HELO, [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onHelo(m, helo ? helo : "");
        injectTestFault(Stage::Helo);
        return answer(ctx, d, SMFIP_NR_HELO);
    });
}

sfsistat onEnvFrom(SMFICTX* ctx, char** argv) {
    return guard(ctx, Stage::Mail, 0, [&]() -> sfsistat {
        injectTestDelay();
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onMailFrom(m, argv && argv[0] ? argv[0] : "", Clock::system());
        injectTestFault(Stage::Mail);
        const sfsistat r = answer(ctx, d, 0);
        c->session->recycle(d); // Sendmail's audit line comes at MAIL
        return r;
    });
}

sfsistat onEnvRcpt(SMFICTX* ctx, char** argv) {
    return guard(ctx, Stage::Rcpt, SMFIP_NR_RCPT, [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onRcpt(m, argv && argv[0] ? argv[0] : "");
        injectTestFault(Stage::Rcpt);
        return answer(ctx, d, SMFIP_NR_RCPT);
    });
}

sfsistat onEom(SMFICTX* ctx) {
    return guard(ctx, Stage::Eom, 0, [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onEndOfMessage(m, Clock::system());
        injectTestFault(Stage::Eom);
        for (const auto& h : d.inserts) {
            if (smfi_insheader(ctx, h.index, const_cast<char*>(h.name.c_str()),
                               const_cast<char*>(h.value.c_str())) != MI_SUCCESS) {
                throw std::runtime_error("smfi_insheader failed");
            }
        }
        const sfsistat r = answer(ctx, d, 0);
        c->session->recycle(d); // the next message's line and field go into these buffers
        return r;
    });
}

sfsistat onAbort(SMFICTX* ctx) {
    return guard(ctx, Stage::Abort, 0, [&]() -> sfsistat {
        if (auto* c = context(ctx); c && c->session)
            emit(c->session->onAbort());
        injectTestFault(Stage::Abort);
        return SMFIS_CONTINUE;
    });
}

sfsistat onClose(SMFICTX* ctx) {
    // May run without any context: the MTA can close before connect.
    const sfsistat r = guard(ctx, Stage::Close, 0, [&]() -> sfsistat {
        if (auto* c = context(ctx); c && c->session)
            emit(c->session->onClose());
        injectTestFault(Stage::Close);
        return SMFIS_CONTINUE;
    });
    // Released only now, so a failure above still reaches the session.
    if (auto* c = context(ctx)) {
        smfi_setpriv(ctx, nullptr);
        delete c;
    }
    return r;
}

} // namespace

smfiDesc milterDescription() {
    smfiDesc d{};
    d.xxfi_name = const_cast<char*>("rfc8314-milter");
    d.xxfi_version = SMFI_VERSION;
    d.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST;
    d.xxfi_connect = onConnect;
    d.xxfi_helo = onHelo;
    d.xxfi_envfrom = onEnvFrom;
    d.xxfi_envrcpt = onEnvRcpt;
    d.xxfi_eom = onEom;
    d.xxfi_abort = onAbort;
    d.xxfi_close = onClose;
    d.xxfi_negotiate = onNegotiate;
    return d;
}

} // namespace rfc8314
