// session.cpp — per-connection facts and decisions.  See session.hpp.
// Everything from the network goes through ReceivedInput validation or the
// log escaper before it reaches a header or a log line.
#include "rfc8314/session.hpp"

#include <unistd.h>

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

std::string isoTime(const Clock& clock) {
    std::time_t t = clock.now;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace

Clock Clock::system() {
    Clock c;
    c.now = std::time(nullptr);
    std::tm local{};
    localtime_r(&c.now, &local);
    c.utcOffsetMinutes = static_cast<int>(local.tm_gmtoff / 60);
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
    listenerFacts_ = readListenerFacts(m);
    listener_ = config_->resolveListener(listenerFacts_);
    client_ = readClientFacts(m);
    if (client_.addr.empty())
        client_.addr = std::string(addr);
    if (client_.name.empty())
        client_.name = clientNameFromConnect(hostname);
    byHost_ = config_->hostname;
    if (byHost_.empty())
        byHost_ = macro(m, "j");
    if (byHost_.empty())
        byHost_ = localHostName();
    // Implicit TLS: Postfix may already pass the TLS macros at connect.
    captureTls(m);
    return {};
}

void Session::captureTls(const MacroSource& m) {
    auto t = readTlsFacts(m);
    // A stage that does not carry the TLS macros says nothing about TLS; keep
    // what an earlier stage told us.
    if (!t.active() && tls_.active())
        return;
    tls_ = std::move(t);
    group_.clear();
    if (!tls_.active())
        return;
    if (!config_->groupMacro.empty()) {
        if (auto g = m.get(config_->groupMacro)) {
            if (auto iana = GroupRegistry::instance().ianaName(*g))
                group_ = std::string(*iana);
        }
    }
    if (group_.empty())
        group_ = listener_.keyExchangeGroup;
}

Decision Session::onHelo(const MacroSource& m, std::string_view helo) {
    Decision d;
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
            .add("cipher", tls_.clauseValue().empty() ? std::string("unknown") : tls_.clauseValue())
            .add("group", group_.empty() ? std::string("unknown") : group_)
            .add("bits", tls_.bits.value_or(0));
        d.logs.push_back({LogLevel::Debug, line.str(), {}});
    }
    return d;
}

void Session::captureQueueId(const MacroSource& m) {
    auto q = macro(m, "i");
    if (!q.empty())
        queueId_ = q;
}

LogEvent Session::auditEvent(const PolicyResult& p, std::time_t when) const {
    const bool authenticated = auth_.authenticated();
    const bool tls = tls_.active();
    const std::string cipher = tls ? tls_.clauseValue() : std::string();
    const std::string verdict(toString(p.verdict));
    LogLine line(queueId_);
    line.add("user", authenticated ? auth_.authen : std::string("none"))
        .add("mech", authenticated ? auth_.type : std::string("none"))
        .add("tls", toString(tls_.version))
        .add("cipher", tls ? (cipher.empty() ? std::string("unknown") : cipher) : "none")
        .add("group", tls ? (group_.empty() ? std::string("unknown") : group_) : "none")
        .add("bits", tls ? tls_.bits.value_or(0) : 0)
        .add("client", clientText())
        .add("listener", listenerText())
        .add("verdict", verdict);
    if (p.reason != PolicyReason::None)
        line.add("reason", toString(p.reason));
    if (p.bucket)
        line.add("bucket", *p.bucket);
    if (p.exception && p.exception->until)
        line.add("exempt_until", p.exception->until->str());
    if (authenticated && !tls)
        line.add("cleartext_auth", "yes");

    const AuditSummary summary{toString(p.verdict),
                               p.reason == PolicyReason::None ? std::string_view() : toString(p.reason),
                               tls_.version, tls_.cipher, authenticated && !tls};
    if (!auditJson_)
        return {LogLevel::Info, line.str(), {}, true, summary};
    Clock c;
    c.now = when;
    JsonLine json;
    json.add("time", isoTime(c))
        .add("queue_id", queueId_)
        .add("event", authenticated ? "auth" : "unauthenticated")
        .add("user", auth_.authen)
        .add("mech", auth_.type)
        .add("tls", toString(tls_.version))
        .add("cipher", cipher)
        .add("group", group_)
        .add("bits", tls ? tls_.bits.value_or(0) : 0)
        .add("client_name", client_.name)
        .add("client_addr", client_.addr)
        .add("client_port", client_.port.value_or(0))
        .add("listener", listener_.name)
        .add("listener_port", listenerFacts_.port.value_or(0))
        .add("verdict", verdict)
        .add("reason", toString(p.reason))
        .add("bucket", p.bucket.value_or(-1))
        .add("exempt_until", p.exception && p.exception->until ? p.exception->until->str() : "")
        .add("cleartext_auth", authenticated && !tls ? "yes" : "no");
    return {LogLevel::Info, line.str(), json.str(), true, summary};
}

void Session::flushAudit(Decision& d) {
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
    captureQueueId(m);
    auth_ = readAuthFacts(m);

    PolicyInput in;
    in.tls = &tls_;
    in.auth = &auth_;
    in.today = Day::fromTime(clock.now);
    in.salt = config_->rolloutSalt;
    in.exceptions = config_->exceptions.get();
    const PolicyResult p = evaluate(listener_.policy, in);

    const bool authenticated = auth_.authenticated();
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
    if (rcpts_.size() < 2)
        rcpts_.emplace_back(rcpt);
    return {};
}

std::optional<std::string> Session::receivedValue(const Clock& clock, std::string_view eol) const {
    const bool tls = tls_.active();
    if (listener_.trace == TraceMode::Off)
        return std::nullopt;
    if (listener_.trace == TraceMode::Tls && !tls)
        return std::nullopt;
    ReceivedInput in;
    in.helo = client_.helo;
    in.clientName = client_.name;
    in.clientAddr = client_.addr;
    in.byHost = byHost_;
    in.with = withProtocol(true, tls, auth_.authenticated());
    in.queueId = queueId_;
    if (rcpts_.size() == 1) {
        std::string r = rcpts_.front();
        if (r.size() >= 2 && r.front() == '<' && r.back() == '>')
            r = r.substr(1, r.size() - 2);
        in.forRcpt = r;
    }
    if (tls) {
        in.tls = tls_.clauseValue();
        if (!in.tls.empty())
            in.group = group_;
    }
    in.when = clock.now;
    in.utcOffsetMinutes = clock.utcOffsetMinutes;
    return buildReceived(in, eol);
}

Decision Session::onEndOfMessage(const MacroSource& m, const Clock& clock) {
    Decision d;
    captureQueueId(m);
    flushAudit(d);
    if (auto value = receivedValue(clock, "\n")) {
        d.inserts.push_back({0, "Received", *value});
        if (config_->logLevel >= LogLevel::Debug) {
            LogLine line(queueId_);
            line.add("event", "trace").add("tls", tls_.clauseValue()).add("group", group_);
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
    rcpts_.clear();
    return d;
}

Decision Session::onClose() {
    Decision d;
    flushAudit(d);
    return d;
}

LogEvent Session::failTransaction(std::string_view stage, std::string_view what,
                                  FailAction action) {
    // This line replaces the audit line the transaction was waiting for: it
    // will not end the way that line would have said.
    pendingAudit_.reset();
    return internalErrorEvent(stage, what, action);
}

LogEvent Session::internalErrorEvent(std::string_view stage, std::string_view what,
                                     FailAction action) const {
    const bool tls = tls_.active();
    const std::string cipher = tls ? tls_.clauseValue() : std::string();
    const std::string verdict(toString(action));
    LogLine line(queueId_);
    line.add("user", auth_.authenticated() ? auth_.authen : std::string("none"))
        .add("mech", auth_.authenticated() ? auth_.type : std::string("none"))
        .add("tls", toString(tls_.version))
        .add("cipher", tls ? (cipher.empty() ? std::string("unknown") : cipher) : "none")
        .add("client", clientText())
        .add("listener", listenerText())
        .add("verdict", verdict)
        .add("reason", "internal-error")
        .add("stage", stage)
        .add("error", what);
    return {LogLevel::Error, line.str(), {}, false,
            {toString(action), "internal-error", tls_.version, tls_.cipher,
             auth_.authenticated() && !tls}};
}

std::string Session::clientText() const {
    std::string out = client_.name.empty() ? std::string("unknown") : client_.name;
    out += '[';
    out += client_.addr;
    out += ']';
    if (client_.port) {
        out += ':';
        out += std::to_string(*client_.port);
    }
    return out;
}

std::string Session::listenerText() const {
    std::string out = listener_.name;
    if (listenerFacts_.port) {
        out += '/';
        out += std::to_string(*listenerFacts_.port);
    }
    return out;
}

} // namespace rfc8314
