// session.cpp — per-connection facts and decisions.  See session.hpp.
// Everything from the network goes through ReceivedInput validation or the
// log escaper before it reaches a header or a log line.
#include "rfc8314/session.hpp"

#include <unistd.h>

#include "rfc8314/audit.hpp"
#include "rfc8314/audit_ecs.hpp"
#include "rfc8314/logfmt.hpp"
#include "rfc8314/policy.hpp"
#include "rfc8314/received.hpp"

namespace rfc8314 {

namespace {

std::string localHostName() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0)
        return "localhost";
    return buf;
}

std::string macro(const MacroSource& m, std::string_view name) {
    auto v = m.get(name);
    return v ? std::string(*v) : std::string();
}

// bits= of the debug tls line, spelled as the audit line spells it (audit.cpp):
// the number (0 is real: NULL ciphers), "unknown"
// when TLS is in use without a {cipher_bits} number, "none" on cleartext.
std::string bitsText(const TlsFacts& t) {
    if (!t.active())
        return "none";
    return t.bits ? std::to_string(*t.bits) : std::string("unknown");
}

} // namespace

std::string_view toString(Verdict v) noexcept {
    switch (v) {
    case Verdict::Continue: return "continue";
    case Verdict::Accept: return "accept";
    case Verdict::Reject: return "reject";
    case Verdict::Tempfail: return "tempfail";
    }
    return "continue";
}

std::string_view toString(Stage s) noexcept {
    switch (s) {
    case Stage::Negotiate: return "negotiate";
    case Stage::Connect: return "connect";
    case Stage::Helo: return "helo";
    case Stage::Mail: return "mail";
    case Stage::Rcpt: return "rcpt";
    case Stage::Eom: return "eom";
    case Stage::Abort: return "abort";
    case Stage::Close: return "close";
    }
    return "connect";
}

Clock Clock::system() {
    Clock c;
    c.now = std::time(nullptr);
    // localtime_r takes the C library's time zone lock and walks the zone's
    // rules, at MAIL and at end of message: the offset is worked out once
    // per second per thread, and a second has one offset.
    thread_local std::time_t offsetAt = -1;
    thread_local int offset = 0;
    if (c.now != offsetAt) {
        std::tm local{};
        localtime_r(&c.now, &local);
        offset = static_cast<int>(local.tm_gmtoff / 60);
        offsetAt = c.now;
    }
    c.utcOffsetMinutes = offset;
    return c;
}

bool WarningLimiter::allow(const std::string& key, std::time_t now, std::time_t interval) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_.find(key);
    if (it != last_.end() && now - it->second < interval)
        return false;
    last_[key] = now;
    return true;
}

Session::Session(std::shared_ptr<const Config> config, std::shared_ptr<WarningLimiter> limiter)
    : config_(std::move(config)), limiter_(std::move(limiter)) {
    if (!config_)
        config_ = std::make_shared<const Config>();
    auditJson_ = !config_->auditFile.empty();
}

Decision Session::onConnect(const MacroSource& m, std::string_view hostname,
                            std::string_view addr) {
    // Should anything below fail, connected_ stays false and every MAIL of
    // the connection is answered as a failure (onMailFrom), whatever was
    // read before it.
    lineHead_.clear();
    queueIdAtMail_ = true;
    listenerFacts_ = readListenerFacts(m);
    listener_ = config_->resolveListener(listenerFacts_);
    if (!listener_.determined)
        authPolicy_ = Config::defaultPolicy(Role::Submission);
    client_ = readClientFacts(m);
    if (client_.addr.empty())
        client_.addr = std::string(addr);
    if (client_.name.empty())
        client_.name = clientNameFromConnect(hostname);
    const std::string j = macro(m, "j");
    byHost_ = config_->hostname.empty() ? j : config_->hostname;
    if (byHost_.empty())
        byHost_ = localHostName();
    // The JSON events' `host` tells hosts apart in a merged trail, so it
    // does not follow `hostname` (a fleet may share one `by` name).
    if (auditJson_) {
        auditHost_ = !config_->hostName.empty() ? config_->hostName : j;
        if (auditHost_.empty())
            auditHost_ = config_->hostname.empty() ? byHost_ : localHostName();
    }
    // Implicit TLS: Postfix may already pass the TLS macros at connect.
    captureTls(m);
    connected_ = true;
    return {};
}

void Session::captureTls(const MacroSource& m) {
    auto t = readTlsFacts(m);
    // A stage that does not carry the TLS macros says nothing about TLS; keep
    // what an earlier stage told us.
    if (!t.active() && tls_.active())
        return;
    tls_ = std::move(t);
    // Whether the suite uses a group at all (the audit line's group=none):
    // a walk of the suite's name, so once per TLS facts, not per line.
    groupUnused_ = tls_.cipher && !cipherUsesGroup(*tls_.cipher);
    group_.clear();
    lineHead_.clear();
    if (!tls_.active() || !tls_.cipher)
        return;
    // A group only where the suite's key exchange uses one of its family
    // (RFC 8314 §4.3: "when applicable and known"): never for RSA key
    // transport, never an elliptic curve for a DHE suite.
    const auto& groups = GroupRegistry::instance();
    auto pick = [&](std::string_view spelling) {
        const auto code = groups.code(spelling);
        const auto name = groups.ianaName(spelling);
        if (code && name && groupFitsCipher(*tls_.cipher, *code))
            group_ = std::string(*name);
    };
    if (!config_->groupMacro.empty()) {
        if (auto g = m.get(config_->groupMacro))
            pick(*g);
    }
    if (group_.empty() && !listener_.keyExchangeGroup.empty())
        pick(listener_.keyExchangeGroup);
}

Decision Session::onHelo(const MacroSource& m, std::string_view helo) {
    Decision d;
    // A HELO that runs through reads every fact a failed one may have
    // missed (MTA-FACTS.md §1: the TLS facts come with each EHLO).
    if (connectionFailure_ && connectionFailure_->stage == Stage::Helo)
        connectionFailure_.reset();
    client_.helo = std::string(helo);
    captureTls(m);
    if (tls_.active() && !tls_.cipher && !warnedUnknownCipher_) {
        warnedUnknownCipher_ = true;
        LogLine line;
        line.add("warning", "cipher not understood, no tls clause")
            .add("cipher", tls_.cipherText)
            .add("client", clientText());
        d.logs.push_back({LogLevel::Warning, line.str(), {}});
    }
    if (tls_.active() && config_->logLevel >= LogLevel::Debug) {
        LogLine line;
        line.add("event", "tls")
            .add("client", clientText())
            .add("listener", listenerText())
            .add("tls", toString(tls_.version))
            .add("cipher", tls_.clause.empty() ? std::string_view("unknown") : tls_.clause)
            .add("group", group_.empty() ? std::string_view("unknown") : group_)
            .add("bits", bitsText(tls_));
        d.logs.push_back({LogLevel::Debug, line.str(), {}});
    }
    return d;
}

void Session::captureQueueId(const MacroSource& m) {
    // Into the kept string, with no string of its own in between.
    if (auto q = m.get("i"); q && !q->empty())
        queueId_.assign(*q);
}

LogEvent Session::auditEvent(const PolicyResult& p, std::time_t when, const Failure* failure,
                             std::string_view answered) const {
    const bool authenticated = auth_.authenticated();
    const bool tls = tls_.active();
    // The facts; audit.cpp spells them as the schema says, in both forms.
    AuditEvent e;
    e.time = when;
    e.queueId = queueId_;
    e.authenticated = authenticated;
    e.user = auth_.authen;
    e.mech = auth_.type;
    e.tls = tls_.version;
    e.tlsRaw = tls_.versionText;
    e.cipher = tls_.clause;
    e.group = group_;
    e.groupUnused = groupUnused_;
    e.bits = tls_.bits;
    e.clientName = client_.name;
    e.clientAddr = client_.addr;
    e.clientPort = client_.port;
    e.listener = listenerName();
    if (listenerFacts_.port)
        e.listenerPort = *listenerFacts_.port;
    e.verdict = failure ? toString(config_->onInternalError) : toString(p.verdict);
    if (failure)
        e.reason = "internal-error";
    else if (p.reason != PolicyReason::None)
        e.reason = toString(p.reason);
    std::string exception, exemptUntil;
    if (!failure) {
        e.bucket = p.bucket;
        if (p.exception) {
            exception = p.exception->text();
            e.exception = exception;
        }
        if (p.exception && p.exception->until) {
            exemptUntil = p.exception->until->str();
            e.exemptUntil = exemptUntil;
        }
    } else {
        e.stage = failure->stage;
        e.answered = answered;
        e.error = failure->what;
    }

    AuditSummary summary;
    summary.verdict = e.verdict;
    summary.reason = e.reason;
    summary.listener = e.listener;
    summary.tls = tls_.version;
    if (tls)
        summary.cipher = tls_.cipher;
    summary.cleartextAuth = authenticated && !tls;
    if (failure) {
        summary.failedStage = failure->stage;
        summary.answered = answered;
    }
    // The line's head is the same for each line of the connection while
    // its user is: written once (cleared where the connection's facts
    // change, keyed on the authentication).
    if (lineHead_.empty() || lineHeadAuthenticated_ != e.authenticated || lineHeadUser_ != e.user ||
        lineHeadMech_ != e.mech) {
        lineHead_.clear(); // until every key below is set (assign may throw)
        lineHeadAuthenticated_ = e.authenticated;
        lineHeadUser_.assign(e.user);
        lineHeadMech_.assign(e.mech);
        lineHead_ = auditLineHead(e);
    }
    e.lineHead = lineHead_;
    const LogLevel level = failure ? LogLevel::Error : LogLevel::Info;
    if (!auditJson_)
        return {level, auditLine(e, std::move(spareLine_)), {}, summary};
    e.host = auditHost_;
    if (config_->auditFormat == AuditFormat::Ecs)
        return {level, auditLine(e, std::move(spareLine_)), ecsAuditJson(e), summary};
    return {level, auditLine(e, std::move(spareLine_)), auditJson(e), summary};
}

void Session::answerFailure(Decision& d, const Failure& f, Stage at) const {
    d.logs.push_back(auditEvent(PolicyResult{}, f.when, &f, toString(at)));
    d.verdict = config_->onInternalError == FailAction::Accept ? Verdict::Accept : Verdict::Tempfail;
    d.reply.reset();
    d.inserts.clear();
}

void Session::flushAudit(Decision& d) {
    if (transactionFailure_) {
        // The transaction ended (abort, close, a new MAIL) before the end
        // of message could answer the failure: nothing was delivered.
        d.logs.push_back(auditEvent(PolicyResult{}, transactionFailure_->when, &*transactionFailure_,
                                    "none"));
        transactionFailure_.reset();
        pendingAudit_.reset();
    }
    if (!pendingAudit_)
        return;
    d.logs.push_back(auditEvent(*pendingAudit_, pendingTime_));
    pendingAudit_.reset();
}

Decision Session::onMailFrom(const MacroSource& m, std::string_view /*sender*/,
                             const Clock& clock) {
    // A new MAIL ends the previous transaction (RSET or a second MAIL).
    Decision d = onAbort();
    // Some MTAs resend TLS macros here; a client cannot change TLS state
    // without a new EHLO, so this only fills gaps.  Once HELO gave the TLS
    // facts there is no gap, and re-reading them (macro lookups, cipher
    // lookup) for every message is wasted work — unless a group macro is
    // configured, which an MTA might send only here.
    if (!tls_.active() || !config_->groupMacro.empty())
        captureTls(m);
    // Sendmail gives the queue id at MAIL, Postfix (by default) only after
    // the first valid RCPT, and an MTA does one or the other for all of a
    // connection.  A miss is libmilter's slowest look-up (it walks every
    // stage's macros), so after a MAIL without it the connection's later
    // MAILs do not ask; end of message always does.
    if (queueIdAtMail_) {
        captureQueueId(m);
        queueIdAtMail_ = !queueId_.empty();
    }
    readAuthFacts(m, auth_);

    // A session that never finished its connect step (its context was
    // made only now, or the step failed) knows neither listener nor client.
    if (!connected_ && !connectionFailure_)
        connectionFailure_ = Failure{Stage::Connect, "the connect step did not complete", clock.now};
    if (connectionFailure_) {
        answerFailure(d, *connectionFailure_, Stage::Mail);
        return d;
    }

    const bool authenticated = auth_.authenticated();
    // No listener known: authentication is submission, whatever the port;
    // anything else is relay.  Say once an hour what the MTA must pass.
    if (!listener_.determined && !warnedUnknownListener_) {
        warnedUnknownListener_ = true;
        if (!limiter_ || limiter_->allow("listener-unknown", clock.now, 3600)) {
            LogLine warn;
            warn.add("warning", "the MTA passed no {daemon_port} and no [listener] section matched: "
                                "listener unknown; authenticated transactions get the submission "
                                "policy, others are treated as relay")
                .add("fix", "add {daemon_port} to the MTA's connect macros (Postfix "
                            "milter_connect_macros, Sendmail confMILTER_MACROS_CONNECT), or name "
                            "the listener by daemon_name or address in a [listener] section")
                .add("client", clientText());
            d.logs.push_back({LogLevel::Warning, warn.str(), {}});
        }
    }
    PolicyInput in;
    in.tls = &tls_;
    in.auth = &auth_;
    in.today = Day::fromTime(clock.now);
    in.salt = config_->rolloutSalt;
    in.exceptions = listener_.exceptions ? listener_.exceptions.get() : config_->exceptions.get();
    in.clientAddr = client_.addr;
    const PolicyResult p =
        evaluate(!listener_.determined && authenticated ? authPolicy_ : listener_.policy, in);

    const bool refused = p.verdict == PolicyVerdict::Reject || p.verdict == PolicyVerdict::Tempfail;
    // One audit line per authenticated transaction and per decision that is
    // not a plain accept.  A refusal is written now (there is no queue id
    // to wait for); anything else waits for the queue id unless the MTA
    // already gave one (Sendmail does at MAIL).
    if (authenticated || p.verdict != PolicyVerdict::Accept) {
        if (refused || !queueId_.empty()) {
            d.logs.push_back(auditEvent(p, clock.now));
        } else {
            pendingAudit_ = p;
            pendingTime_ = clock.now;
        }
    }

    // The MTA answered AUTH before any milter ran: over cleartext the
    // password has crossed the wire and the MTA's answer told the client
    // whether it was valid.  Only MTA settings close that.
    // On every listener: a relay port that takes AUTH in cleartext exposes
    // passwords just the same, even where no policy refuses the transaction.
    if (authenticated && !tls_.active() &&
        (!limiter_ || limiter_->allow("cleartext-auth/" + listener_.name, clock.now, 3600))) {
        LogLine warn;
        warn.add("warning", "AUTH succeeded over cleartext: the password crossed the wire before "
                            "any milter ran; set Postfix smtpd_tls_auth_only = yes on this "
                            "service, or Sendmail AuthOptions=p, so the MTA offers AUTH only "
                            "after STARTTLS")
            .add("listener", listenerText());
        d.logs.push_back({LogLevel::Warning, warn.str(), {}});
    }

    if (refused) {
        d.verdict = p.verdict == PolicyVerdict::Reject ? Verdict::Reject : Verdict::Tempfail;
        if (p.reply)
            d.reply = Reply{p.reply->code, p.reply->xcode, p.reply->text};
    }
    return d;
}

Decision Session::onRcpt(const MacroSource& /*m*/, std::string_view rcpt) {
    // Only the count and the first one matter: `for` is written only for a
    // single recipient, so no other recipient's address leaks into the trace.
    // Assigned into the strings a previous message left, not new ones: an
    // allocation per message saved.
    if (rcptCount_ < rcpts_.size())
        rcpts_[rcptCount_++].assign(rcpt);
    else
        rcptCount_ = rcpts_.size() + 1; // more than one: `for` is not written
    return {};
}

std::optional<std::string> Session::receivedValue(const Clock& clock, std::string_view eol) const {
    const bool tls = tls_.active();
    if (listener_.trace == TraceMode::Off)
        return std::nullopt;
    if (listener_.trace == TraceMode::Tls && !tls)
        return std::nullopt;
    ReceivedView in; // views of the session's own values: nothing copied
    if (listener_.traceClient == TraceClient::Hidden) {
        in.hideClient = true; // the audit line keeps what the field leaves out
    } else {
        in.helo = client_.helo;
        in.clientName = client_.name;
        in.clientAddr = client_.addr;
    }
    in.byHost = byHost_;
    in.with = withProtocol(true, tls, auth_.authenticated());
    in.queueId = queueId_;
    if (rcptCount_ == 1) {
        std::string_view r = rcpts_.front();
        if (r.size() >= 2 && r.front() == '<' && r.back() == '>')
            r = r.substr(1, r.size() - 2);
        in.forRcpt = r;
    }
    if (tls) {
        in.tls = tls_.clause;
        if (!in.tls.empty())
            in.group = group_;
    }
    in.when = clock.now;
    in.utcOffsetMinutes = clock.utcOffsetMinutes;
    return buildReceived(in, eol, std::move(spareField_));
}

Decision Session::onEndOfMessage(const MacroSource& m, const Clock& clock) {
    Decision d;
    captureQueueId(m);
    const Failure* failed = transactionFailure_    ? &*transactionFailure_
                            : connectionFailure_ ? &*connectionFailure_
                                                 : nullptr;
    if (failed) {
        // No trace field: the facts it would state are in doubt.
        pendingAudit_.reset();
        answerFailure(d, *failed, Stage::Eom);
        transactionFailure_.reset();
        return d;
    }
    flushAudit(d);
    if (auto value = receivedValue(clock, "\n")) {
        d.inserts.push_back({0, "Received", std::move(*value)});
        if (config_->logLevel >= LogLevel::Debug) {
            LogLine line(queueId_);
            line.add("event", "trace").add("tls", tls_.clause).add("group", group_);
            d.logs.push_back({LogLevel::Debug, line.str(), {}});
        }
    }
    return d;
}

Decision Session::onAbort() {
    Decision d;
    flushAudit(d);
    auth_ = AuthFacts{};
    queueId_.clear();
    rcptCount_ = 0;
    return d;
}

Decision Session::onClose() {
    Decision d;
    flushAudit(d);
    return d;
}

void Session::recycle(Decision& d) noexcept {
    // One of each is all a step makes; the larger buffer is kept.
    for (auto& e : d.logs)
        if (!e.summary.verdict.empty() && e.line.capacity() > spareLine_.capacity())
            spareLine_ = std::move(e.line);
    for (auto& h : d.inserts)
        if (h.value.capacity() > spareField_.capacity())
            spareField_ = std::move(h.value);
}

Decision Session::onFailure(Stage stage, std::string_view what, std::time_t now) {
    Decision d;
    LogLine line(queueId_);
    line.add("error", "internal error").add("stage", toString(stage)).add("what", what);
    Failure f{stage, std::string(what), now};
    switch (stage) {
    case Stage::Connect:
    case Stage::Helo:
        line.add("answer_at", "mail");
        d.logs.push_back({LogLevel::Error, line.str(), {}});
        connectionFailure_ = std::move(f);
        break;
    case Stage::Rcpt:
        line.add("answer_at", "eom");
        d.logs.push_back({LogLevel::Error, line.str(), {}});
        // Its line replaces the accept line the transaction was waiting
        // to write: it will not end the way that line would say.
        pendingAudit_.reset();
        transactionFailure_ = std::move(f);
        break;
    case Stage::Mail:
    case Stage::Eom:
        d.logs.push_back({LogLevel::Error, line.str(), {}});
        pendingAudit_.reset();
        transactionFailure_.reset();
        answerFailure(d, f, stage);
        break;
    case Stage::Negotiate:
    case Stage::Abort:
    case Stage::Close:
        // Nothing to answer; what the transaction was waiting to write
        // is still true of it.
        d.logs.push_back({LogLevel::Error, line.str(), {}});
        if (stage != Stage::Negotiate)
            flushAudit(d);
        break;
    }
    return d;
}

std::string Session::clientText() const {
    std::string out;
    appendClientText(out, client_.name, client_.addr,
                     client_.port ? std::optional<int>(*client_.port) : std::nullopt);
    return out;
}

std::string_view Session::listenerName() const noexcept {
    return listener_.determined ? std::string_view(listener_.name) : std::string_view("unknown");
}

std::string Session::listenerText() const {
    std::string out(listenerName());
    if (listenerFacts_.port) {
        out += '/';
        out += std::to_string(*listenerFacts_.port);
    }
    return out;
}

} // namespace rfc8314
