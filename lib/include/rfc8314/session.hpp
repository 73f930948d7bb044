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

#include <array>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rfc8314/config.hpp"
#include "rfc8314/facts.hpp"
#include "rfc8314/policy.hpp"
#include "rfc8314/stage.hpp"

namespace rfc8314 {

// What the daemon answers at a stage.  Accept lets the transaction through
// with no further callbacks (the answer of on_internal_error = accept).
enum class Verdict { Continue, Accept, Reject, Tempfail };
std::string_view toString(Verdict) noexcept;

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

// What one audit line says, as values rather than text: the one structured
// record of an audit event (the daemon's counters read it).  Every view is
// static text or points into the Session that made the event, so it is
// valid while that session lives; never a user name or an address here.
struct AuditSummary {
    std::string_view verdict;  // as in the line; empty: not an audit line
    std::string_view reason;   // as in the line; empty when none
    std::string_view listener; // the listener's name as in the line, "unknown" when undetermined
    TlsVersion tls = TlsVersion::None;
    std::optional<CipherInfo> cipher; // nullopt on cleartext or when not understood
    bool cleartextAuth = false;       // authenticated on a cleartext connection
    // A transaction the filter failed on (reason internal-error): the stage
    // that failed and where it was answered ("mail", "eom", or "none" when
    // the transaction ended first).
    std::optional<Stage> failedStage;
    std::string_view answered;
};

struct LogEvent {
    LogLevel level = LogLevel::Info;
    std::string line; // Postfix grammar, already escaped
    // An audit line's JSON twin, when the session makes JSON (every audit
    // line has one then, internal-error lines included); empty otherwise.
    std::string json;
    // An audit line's values (summary.verdict empty on every other line).
    AuditSummary summary{};
};

// A short list that keeps its first N elements in the object itself: a
// Decision carries at most one field and a line or two, and two heap
// vectors per step were a tenth of the filter's own work per message
// (issue 17).  Past N it moves everything to a std::vector and stays there,
// so the elements are always contiguous (pointers are the iterators).
template <class T, std::size_t N> class ShortList {
public:
    using value_type = T;
    using iterator = T*;
    using const_iterator = const T*;

    ShortList() noexcept {} // user-provided: the buffer is never zeroed
    ShortList(const ShortList& o) { append(o.begin(), o.end()); }
    ShortList(ShortList&& o) noexcept(std::is_nothrow_move_constructible_v<T>) { take(o); }
    ShortList& operator=(const ShortList& o) {
        if (this != &o) {
            clear();
            append(o.begin(), o.end());
        }
        return *this;
    }
    ShortList& operator=(ShortList&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (this != &o) {
            clear();
            take(o);
        }
        return *this;
    }
    ~ShortList() { clear(); }
    // Decision's lists were std::vectors: callers that keep one still can.
    operator std::vector<T>() const { return std::vector<T>(begin(), end()); }

    T* begin() noexcept { return heap_.empty() ? inline_() : heap_.data(); }
    T* end() noexcept { return begin() + size(); }
    const T* begin() const noexcept { return heap_.empty() ? inline_() : heap_.data(); }
    const T* end() const noexcept { return begin() + size(); }
    std::size_t size() const noexcept { return heap_.empty() ? count_ : heap_.size(); }
    bool empty() const noexcept { return size() == 0; }
    T& operator[](std::size_t i) noexcept { return begin()[i]; }
    const T& operator[](std::size_t i) const noexcept { return begin()[i]; }
    T& front() noexcept { return *begin(); }
    const T& front() const noexcept { return *begin(); }
    T& back() noexcept { return end()[-1]; }
    const T& back() const noexcept { return end()[-1]; }

    void push_back(const T& v) { emplace_back(v); }
    void push_back(T&& v) { emplace_back(std::move(v)); }
    template <class... A> T& emplace_back(A&&... a) {
        if (heap_.empty() && count_ < N) {
            T* p = new (inline_() + count_) T(std::forward<A>(a)...);
            ++count_;
            return *p;
        }
        T v(std::forward<A>(a)...); // before toHeap: `a` may be one of ours
        toHeap();
        return heap_.emplace_back(std::move(v));
    }
    // Inserts [first, last) before pos (any position).
    template <class It> T* insert(const T* pos, It first, It last) {
        const auto at = pos - begin();
        if (heap_.empty() && at == static_cast<std::ptrdiff_t>(count_)) {
            append(first, last); // the usual case: at the end
            return begin() + at;
        }
        toHeap();
        heap_.insert(heap_.begin() + at, first, last);
        return begin() + at;
    }
    void clear() noexcept {
        for (std::size_t i = 0; i < count_; ++i)
            inline_()[i].~T();
        count_ = 0;
        heap_.clear();
    }

private:
    T* inline_() noexcept { return std::launder(reinterpret_cast<T*>(buf_)); }
    const T* inline_() const noexcept { return std::launder(reinterpret_cast<const T*>(buf_)); }
    template <class It> void append(It first, It last) {
        for (; first != last; ++first)
            emplace_back(*first);
    }
    // Everything into heap_ (which then holds at least one element, so
    // begin() looks there from now on).
    void toHeap() {
        if (!heap_.empty())
            return;
        heap_.reserve(count_ + 2);
        for (std::size_t i = 0; i < count_; ++i)
            heap_.push_back(std::move(inline_()[i]));
        for (std::size_t i = 0; i < count_; ++i)
            inline_()[i].~T();
        count_ = 0;
    }
    void take(ShortList& o) {
        if (!o.heap_.empty()) {
            heap_ = std::move(o.heap_);
            o.heap_.clear();
            return;
        }
        for (std::size_t i = 0; i < o.count_; ++i)
            new (inline_() + i) T(std::move(o.inline_()[i]));
        count_ = o.count_;
        o.clear();
    }

    alignas(T) unsigned char buf_[N * sizeof(T)];
    std::size_t count_ = 0; // elements in buf_ (0 once heap_ holds them)
    std::vector<T> heap_;
};

struct Decision {
    // User-provided, so `return {}` does not zero the lists' inline
    // buffers first (value-initialisation of a class without one does:
    // a memset of some 400 octets per step).
    Decision() noexcept {}
    Verdict verdict = Verdict::Continue;
    std::optional<Reply> reply;
    ShortList<HeaderInsert, 1> inserts;
    ShortList<LogEvent, 2> logs;
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

    // The daemon is done with `d` (its lines written, its field inserted):
    // the buffers of its audit line and trace field come back to the
    // session, which writes the next message's line and field into them
    // rather than into two new allocations (issue 17).  Only those two
    // strings of `d` are moved out.
    void recycle(Decision& d) noexcept;

    // The filter itself failed in `stage` at `now` (the daemon's guard calls
    // this for any exception; the action is the config's on_internal_error).
    // MAIL and end of message can answer: the Decision carries the action
    // as its verdict and the transaction's audit line, reason=internal-error,
    // which replaces the line it was waiting to write.  Connect, HELO and
    // RCPT are negotiated no-reply (libmilter would turn any answer into
    // "no reply"), so the failure is remembered and answered at the next
    // step that can: every MAIL of the connection after a connect failure;
    // every MAIL until a HELO succeeds after a HELO failure; the end of
    // this message after an RCPT failure.  Abort and close have nothing left
    // to answer: their Decision only writes what was pending.  Always an
    // error line naming the stage (and where the answer will come).
    Decision onFailure(Stage stage, std::string_view what, std::time_t now);

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
    // "listener=name/port" value; "unknown" when no listener could be
    // determined (no {daemon_port}, no [listener] section matched).
    std::string listenerText() const;

    // The Received field value this session would insert now, if any.
    std::optional<std::string> receivedValue(const Clock& clock, std::string_view eol) const;

private:
    // A failure waiting for a step that can answer it.
    struct Failure {
        Stage stage = Stage::Connect;
        std::string what;
        std::time_t when = 0;
    };

    void captureTls(const MacroSource& m);
    void captureQueueId(const MacroSource& m);
    // The audit line (and its JSON twin) for one transaction, with the
    // queue id known now.  With `failure`: the line of a transaction the
    // filter failed on, verdict = on_internal_error, answered at `answered`
    // ("none" when the transaction ended before any step could answer).
    LogEvent auditEvent(const PolicyResult& p, std::time_t when, const Failure* failure = nullptr,
                        std::string_view answered = {}) const;
    // Answers `f` at `at`: the audit line and on_internal_error's verdict.
    void answerFailure(Decision& d, const Failure& f, Stage at) const;
    // Moves the pending audit line (or unanswered failure), if any, into d.
    void flushAudit(Decision& d);
    std::string_view listenerName() const noexcept;

    std::shared_ptr<const Config> config_;
    std::shared_ptr<WarningLimiter> limiter_;
    ListenerFacts listenerFacts_;
    Config::Listener listener_;
    // For an authenticated transaction on an undetermined listener.
    ListenerPolicy authPolicy_;
    ClientFacts client_;
    std::string byHost_;
    std::string auditHost_; // `host` of the JSON events (only made when they are)
    TlsFacts tls_;
    bool groupUnused_ = false; // tls_'s suite uses no group (captureTls)
    std::string group_;
    // The audit line's head (auditLineHead), made by the first line that
    // needs it, for the user, mech and authentication kept beside it; ""
    // again wherever the TLS facts, the client or the listener change.
    mutable std::string lineHead_;
    mutable std::string lineHeadUser_, lineHeadMech_;
    mutable bool lineHeadAuthenticated_ = false;
    // The buffers recycle() took back, for the next audit line and field.
    mutable std::string spareLine_, spareField_;
    bool connected_ = false; // onConnect ran to its end
    bool warnedUnknownCipher_ = false;
    bool warnedUnknownListener_ = false;
    bool auditJson_ = false;
    // Whether MAIL asks for the queue id: until a MAIL of the connection
    // came without one (onMailFrom).
    bool queueIdAtMail_ = true;
    // A connect or HELO failure: answered at every MAIL (a HELO failure
    // until the next HELO succeeds).
    std::optional<Failure> connectionFailure_;

    // Per message.  An accepted transaction's audit line waits for the
    // queue id: Postfix assigns it only after the first valid RCPT (with
    // smtpd_delay_open_until_valid_rcpt = yes, its default), so it is
    // written at end of message, or without the id at abort/close.
    std::optional<PolicyResult> pendingAudit_;
    std::time_t pendingTime_ = 0;
    // An RCPT failure: answered at the end of this message.
    std::optional<Failure> transactionFailure_;
    AuthFacts auth_;
    std::string queueId_;
    // The first recipients (only whether there is exactly one, and which,
    // matters); rcptCount_ counts them, up to one more than kept.
    std::array<std::string, 2> rcpts_;
    std::size_t rcptCount_ = 0;
};

} // namespace rfc8314
