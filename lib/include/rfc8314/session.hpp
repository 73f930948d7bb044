// session.hpp — one SMTP connection as the milter sees it, and the decisions
// it makes: facts in, Decision values out.
//
// The daemon calls one method per milter stage with that stage's macros; the
// session captures facts when they arrive (listener and client at connect, TLS
// at every HELO — the second EHLO after STARTTLS carries them — auth at MAIL)
// and keeps them, because Postfix's cleanup never resends them and changes
// {daemon_name} at EOM (MTA-FACTS.md §1).  Each Decision says what to answer,
// which header edits to make (only at end of message) and which log events to
// write.  No libmilter here: the unit tests and the offline mode drive this
// class directly.
//
// Promises: never throws for any macro content; per-message state is reset by
// onAbort() and by each new MAIL, so many transactions per connection work.
// The session keeps the Config it was created with for its whole life.
#pragma once

#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rfc8314/config.hpp"
#include "rfc8314/facts.hpp"
#include "rfc8314/policy.hpp"

namespace rfc8314 {

enum class Verdict { Continue, Accept, Reject, Tempfail };

struct Reply {
    std::string code;  // "530"
    std::string xcode; // "5.7.0"
    std::string text;
};

struct HeaderInsert {
    int index = 0; // libmilter smfi_insheader index (0 = very top)
    std::string name;
    std::string value; // folded with "\n\t" as libmilter wants
};

// What an audit event (or a transaction's internal-error line) says, as
// values taken when the line is made, for the daemon's counters.
struct AuditSummary {
    std::string_view verdict; // static text, as in the line; empty: not a transaction line
    std::string_view reason;  // static text, as in the line; empty when none
    TlsVersion tls = TlsVersion::None;
    std::optional<CipherInfo> cipher; // its name points into the CipherRegistry
    bool cleartextAuth = false;       // authenticated on a cleartext connection
};

struct LogEvent {
    LogLevel level = LogLevel::Info;
    std::string line;  // Postfix grammar, already escaped
    std::string json;  // the same event as one JSON object, when the session makes JSON
    bool audit = false; // one of the audit events (one per transaction or decision)
    AuditSummary summary{};
};

struct Decision {
    Verdict verdict = Verdict::Continue;
    std::optional<Reply> reply;
    std::vector<HeaderInsert> inserts;
    std::vector<LogEvent> logs;
};

// Time source for the Received date, so tests can fix it.
struct Clock {
    std::time_t now = 0;
    int utcOffsetMinutes = 0;
    static Clock system(); // the current local time and its UTC offset
};

// Process-wide "at most once per interval per key" gate for warnings that
// would otherwise repeat on every session.  Thread-safe.
class WarningLimiter {
public:
    bool allow(const std::string& key, std::time_t now, std::time_t interval);

private:
    std::mutex mu_;
    std::map<std::string, std::time_t> last_;
};

class Session {
public:
    explicit Session(std::shared_ptr<const Config> config,
                     std::shared_ptr<WarningLimiter> limiter = nullptr);

    // `hostname`/`addr` as libmilter's connect callback gives them.
    Decision onConnect(const MacroSource& m, std::string_view hostname, std::string_view addr);
    Decision onHelo(const MacroSource& m, std::string_view helo);
    // Policy decision and audit line; the clock gives the day for
    // enforce_from and exception expiry.
    Decision onMailFrom(const MacroSource& m, std::string_view sender, const Clock& clock);
    Decision onRcpt(const MacroSource& m, std::string_view rcpt);
    Decision onEndOfMessage(const MacroSource& m, const Clock& clock);
    // Per-message state only (libmilter's abort, and RSET).  Returns the
    // audit line still pending for the aborted transaction, if any.
    Decision onAbort();
    // The connection ends: the pending audit line, if any.
    Decision onClose();

    // The line for a transaction the filter itself failed on: what is known
    // of it, verdict = the on_internal_error action, reason=internal-error.
    LogEvent internalErrorEvent(std::string_view stage, std::string_view what,
                                FailAction action) const;
    // The same, for the daemon's guard: also drops the transaction's pending
    // audit line, which this one replaces.
    LogEvent failTransaction(std::string_view stage, std::string_view what, FailAction action);

    // Whether audit events also carry their JSON form.  Default: only when
    // the config has an audit_file (building it costs about a quarter of
    // the filter's own per-message work); the offline mode wants it always.
    void setAuditJson(bool on) noexcept { auditJson_ = on; }

    const Config& config() const noexcept { return *config_; }
    const TlsFacts& tls() const noexcept { return tls_; }
    const AuthFacts& auth() const noexcept { return auth_; }
    const ClientFacts& client() const noexcept { return client_; }
    const ListenerFacts& listenerFacts() const noexcept { return listenerFacts_; }
    const Config::Listener& listener() const noexcept { return listener_; }
    // The IANA group for the `group` clause, or empty (never guessed).
    const std::string& group() const noexcept { return group_; }
    const std::string& queueId() const noexcept { return queueId_; }
    // "client=name[addr]:port" value.
    std::string clientText() const;
    // "listener=name/port" value.
    std::string listenerText() const;

    // The Received field value this session would insert now, if any.
    std::optional<std::string> receivedValue(const Clock& clock, std::string_view eol) const;

private:
    void captureTls(const MacroSource& m);
    void captureQueueId(const MacroSource& m);
    // The audit line for one transaction, with the queue id known now.
    LogEvent auditEvent(const PolicyResult& p, std::time_t when) const;
    // Moves the pending audit line, if any, into d.
    void flushAudit(Decision& d);

    std::shared_ptr<const Config> config_;
    std::shared_ptr<WarningLimiter> limiter_;
    ListenerFacts listenerFacts_;
    Config::Listener listener_;
    ClientFacts client_;
    std::string byHost_;
    TlsFacts tls_;
    std::string group_;
    bool warnedUnknownCipher_ = false;
    bool auditJson_ = false;

    // Per message.  An accepted transaction's audit line waits for the
    // queue id: Postfix assigns it only after the first valid RCPT (with
    // smtpd_delay_open_until_valid_rcpt = yes, its default), so it is
    // written at end of message, or without the id at abort/close.
    std::optional<PolicyResult> pendingAudit_;
    std::time_t pendingTime_ = 0;
    AuthFacts auth_;
    std::string queueId_;
    std::vector<std::string> rcpts_;
};

} // namespace rfc8314
