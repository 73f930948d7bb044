// milter.cpp — the libmilter callbacks: thin glue between libmilter and
// rfc8314::Session.
//
// Each callback fetches the connection's context, wraps the stage's macros,
// calls the session, maps the Decision to SMFIS_* and applies header edits
// (only at end of message, where libmilter allows them).  Every callback runs
// inside guard(): no exception ever reaches libmilter; a failure is logged and
// answered with the configured on_internal_error action.
#include "milter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "rfc8314/logfmt.hpp"
#include "metrics_http.hpp"
#include "rfc8314/macros.hpp"
#include "rfc8314/session.hpp"
#include "runtime.hpp"

namespace rfc8314 {

namespace {

// Per-connection state behind smfi_setpriv.
struct Context {
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

// Adds one audit event (or internal-error line) to the metrics, from the
// values the session recorded with the line.
void countEvent(const Session* s, const LogEvent& e) noexcept {
    auto* m = daemonMetrics();
    if (!m || !s || e.summary.verdict.empty())
        return;
    TransactionSample t;
    t.listener = s->listener().name;
    t.verdict = e.summary.verdict;
    t.reason = e.summary.reason;
    t.tlsVersion = toString(e.summary.tls);
    t.cleartextAuth = e.summary.cleartextAuth;
    char code[16];
    if (e.summary.tls == TlsVersion::None) {
        t.cipher = "none";
    } else if (!e.summary.cipher) {
        t.cipher = "unknown";
    } else if (!e.summary.cipher->iana.empty()) {
        t.cipher = e.summary.cipher->iana;
    } else {
        // The clause's "0xC02F" form, without an allocation.
        std::snprintf(code, sizeof code, "0x%04X", static_cast<unsigned>(e.summary.cipher->code));
        t.cipher = code;
    }
    m->transaction(t);
}

// Times one callback into rfc8314_callback_duration_seconds{stage}.
class StageTimer {
public:
    explicit StageTimer(const char* stage) noexcept : m_(daemonMetrics()), stage_(stage) {
        if (m_)
            start_ = std::chrono::steady_clock::now();
    }
    ~StageTimer() {
        if (m_)
            m_->observe(metrics::parseStage(stage_), std::chrono::steady_clock::now() - start_);
    }

private:
    Metrics* m_;
    const char* stage_;
    std::chrono::steady_clock::time_point start_;
};

// One stage's macros, read lazily through smfi_getsymval.
class StageMacros : public MacroSource {
public:
    explicit StageMacros(SMFICTX* ctx) : ctx_(ctx) {}
    std::optional<std::string_view> get(std::string_view name) const override {
        std::string n = canonicalMacroName(name);
        char* v = smfi_getsymval(ctx_, const_cast<char*>(n.c_str()));
        if (!v)
            return std::nullopt;
        return std::string_view(v);
    }

private:
    SMFICTX* ctx_;
};

Context* context(SMFICTX* ctx) { return static_cast<Context*>(smfi_getpriv(ctx)); }

FailAction failAction(SMFICTX* ctx) {
    if (auto* c = context(ctx); c && c->session)
        return c->session->config().onInternalError;
    if (auto cfg = Runtime::instance().current())
        return cfg->onInternalError;
    return FailAction::Tempfail;
}

// Test-only: RFC8314_MILTER_TEST_THROW_AT=STAGE makes that stage's callback
// throw after the session has done its work, so the fault tests can prove
// the guard's answer and log line on a real MTA.  Read once; never set in
// production (documented in rfc8314-milter(8)).
void injectTestFault(const char* stage) {
    static const std::string at = [] {
        const char* v = std::getenv("RFC8314_MILTER_TEST_THROW_AT");
        return std::string(v ? v : "");
    }();
    if (!at.empty() && at == stage)
        throw std::runtime_error(std::string("test: failure injected at ") + stage);
}

// Logs a failure of the filter: the transaction's facts when the session
// exists (so the audit trail has a line for it), else the bare stage.
void logInternalError(SMFICTX* ctx, const char* stage, const char* what, FailAction action) {
    auto& logger = Runtime::instance().logger();
    LogLine line;
    line.add("error", "internal error").add("stage", stage).add("what", what);
    logger.log(LogLevel::Error, line.str());
    if (auto* m = daemonMetrics())
        m->internalError(metrics::parseStage(stage));
    if (auto* c = context(ctx); c && c->session) {
        const auto e = c->session->failTransaction(stage, what, action);
        logger.log(LogLevel::Error, e.line);
        countEvent(c->session.get(), e);
    }
}

// The one exception guard every callback goes through.  Nothing in here
// may throw past it: the handlers allocate only inside their own try.
template <typename F> sfsistat guard(SMFICTX* ctx, const char* stage, F&& body) noexcept {
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
    FailAction action = FailAction::Tempfail;
    try {
        action = failAction(ctx);
        logInternalError(ctx, stage, what, action);
    } catch (...) {
    }
    return action == FailAction::Accept ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

void emit(const Session* s, const Decision& d) {
    auto& logger = Runtime::instance().logger();
    for (const auto& e : d.logs) {
        logger.log(e.level, e.line);
        if (!e.json.empty())
            logger.audit(e.json);
        countEvent(s, e);
    }
}

// Maps a verdict to libmilter's answer.  Continue on a no-reply step must be
// SMFIS_NOREPLY.
sfsistat answer(SMFICTX* ctx, const Decision& d, unsigned long nrFlag) {
    auto* c = context(ctx);
    emit(c ? c->session.get() : nullptr, d);
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

std::string addressText(const _SOCK_ADDR* sa) {
    if (!sa)
        return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf))
            return buf;
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
    return guard(ctx, "negotiate", [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
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
        if (f0 & SMFIF_SETSYMLIST) {
            const auto& cfg = c->session->config();
            // Exactly what the session reads (macros.hpp); both Postfix and
            // Sendmail honour the list (MTA-FACTS.md §3).
            const std::pair<int, MacroStage> stages[] = {{SMFIM_CONNECT, MacroStage::Connect},
                                                         {SMFIM_HELO, MacroStage::Helo},
                                                         {SMFIM_ENVFROM, MacroStage::Mail},
                                                         {SMFIM_EOM, MacroStage::Eom}};
            for (const auto& [stage, ours] : stages) {
                auto list = stageMacroList(ours, cfg.groupMacro);
                smfi_setsymlist(ctx, stage, const_cast<char*>(list.c_str()));
            }
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat onConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) {
    return guard(ctx, "connect", [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        if (auto* metrics = daemonMetrics(); metrics && !c->counted) {
            c->counted = true;
            metrics->sessionOpened();
        }
        StageMacros m(ctx);
        auto d = c->session->onConnect(m, hostname ? hostname : "", addressText(addr));
        injectTestFault("connect");
        return answer(ctx, d, SMFIP_NR_CONN);
    });
}

sfsistat onHelo(SMFICTX* ctx, char* helo) {
    return guard(ctx, "helo", [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onHelo(m, helo ? helo : "");
        injectTestFault("helo");
        return answer(ctx, d, SMFIP_NR_HELO);
    });
}

// Test-only: RFC8314_MILTER_TEST_DELAY_MS makes every MAIL stage sleep that
// long, so the fault tests can prove the MTA's milter timeouts hold.  Read
// once; never set in production (documented in rfc8314-milter(8)).
unsigned testDelayMs() {
    static const unsigned ms = [] {
        const char* v = std::getenv("RFC8314_MILTER_TEST_DELAY_MS");
        if (!v || !*v)
            return 0u;
        char* end = nullptr;
        const unsigned long n = std::strtoul(v, &end, 10);
        return (*end == '\0' && n <= 600000) ? static_cast<unsigned>(n) : 0u;
    }();
    return ms;
}

sfsistat onEnvFrom(SMFICTX* ctx, char** argv) {
    return guard(ctx, "mail", [&]() -> sfsistat {
        if (unsigned ms = testDelayMs())
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onMailFrom(m, argv && argv[0] ? argv[0] : "", Clock::system());
        injectTestFault("mail");
        return answer(ctx, d, 0);
    });
}

sfsistat onEnvRcpt(SMFICTX* ctx, char** argv) {
    return guard(ctx, "rcpt", [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onRcpt(m, argv && argv[0] ? argv[0] : "");
        injectTestFault("rcpt");
        return answer(ctx, d, SMFIP_NR_RCPT);
    });
}

sfsistat onEom(SMFICTX* ctx) {
    return guard(ctx, "eom", [&]() -> sfsistat {
        auto* c = ensureContext(ctx);
        StageMacros m(ctx);
        auto d = c->session->onEndOfMessage(m, Clock::system());
        injectTestFault("eom");
        for (const auto& h : d.inserts) {
            if (smfi_insheader(ctx, h.index, const_cast<char*>(h.name.c_str()),
                               const_cast<char*>(h.value.c_str())) != MI_SUCCESS) {
                throw std::runtime_error("smfi_insheader failed");
            }
        }
        return answer(ctx, d, 0);
    });
}

sfsistat onAbort(SMFICTX* ctx) {
    return guard(ctx, "abort", [&]() -> sfsistat {
        if (auto* c = context(ctx); c && c->session)
            emit(c->session.get(), c->session->onAbort());
        return SMFIS_CONTINUE;
    });
}

sfsistat onClose(SMFICTX* ctx) {
    return guard(ctx, "close", [&]() -> sfsistat {
        // May run without any context: the MTA can close before connect.
        if (auto* c = context(ctx)) {
            smfi_setpriv(ctx, nullptr);
            std::unique_ptr<Context> owned(c);
            if (owned->session)
                emit(owned->session.get(), owned->session->onClose());
        }
        return SMFIS_CONTINUE;
    });
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
