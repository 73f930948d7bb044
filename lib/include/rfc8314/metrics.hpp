// metrics.hpp — the daemon's metrics (counters, gauges, one histogram) with
// bounded labels, and their two renderings: the Prometheus text exposition
// format 0.0.4 and OpenMetrics 1.0.0.
//
// What is counted (rfc8314-milter.conf(5), METRICS, is the reference):
//   rfc8314_transactions_total{listener,verdict,reason}     every audit event
//   rfc8314_tls_transactions_total{listener,tls_version,cipher}
//   rfc8314_cleartext_auth_total{listener}
//   rfc8314_internal_errors_total{stage}
//   rfc8314_config_reloads_total{result}, rfc8314_config_last_reload_successful,
//   rfc8314_config_last_reload_success_timestamp_seconds
//   rfc8314_sessions_active, rfc8314_callback_duration_seconds{stage}
//   rfc8314_build_info{version,openssl}
//
// Promises: an update on the per-message path is a few relaxed atomic
// additions and a scan of a short table of label values already seen — no
// lock, no allocation, no system call; only a label value never seen before
// takes a mutex, once.  Counts are exact under concurrency: every event adds
// exactly one.  A rendering reads each series once, so a histogram's _count
// is always its +Inf bucket.  Labels are bounded: each label has a fixed
// number of distinct values (kListenerSlots, kCipherSlots, ...); a value past
// that is counted under "other", never dropped and never a new series.  Label
// values are escaped and made valid UTF-8 (an invalid byte becomes U+FFFD), so
// no value from a configuration file can break a scrape.  Never a user name or
// a client address as a label: those belong in the audit log.
//
// Failure: the update functions are noexcept and cannot fail; render() can
// throw only std::bad_alloc.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rfc8314/stage.hpp"

namespace rfc8314 {

// `metrics_listen = ADDR:PORT`: a numeric IPv4 address, or an IPv6 address in
// brackets, and a port 1..65535 ("127.0.0.1:9925", "[::1]:9925").  No host
// names: the endpoint must not depend on the resolver at start.
struct ListenAddress {
    std::string host; // as inet_pton reads it, without brackets
    std::uint16_t port = 0;
    bool v6 = false;
    std::string str() const; // "127.0.0.1:9925", "[::1]:9925"
};
std::optional<ListenAddress> parseListenAddress(std::string_view text, std::string* why = nullptr);

namespace metrics {

enum class Format { Prometheus, OpenMetrics };

// The format for an HTTP Accept header: OpenMetrics when the client accepts
// application/openmetrics-text (version absent or 1.0.0) with a q-value at
// least as high as its best for text/plain (or */*), else the Prometheus text
// format.  An empty or unparseable header gets the text format.
Format negotiate(std::string_view accept) noexcept;
std::string_view contentType(Format f) noexcept;

// A label value as both formats want it between double quotes: \\, \" and \n
// escaped; bytes that are not valid UTF-8 replaced by U+FFFD.
std::string escapeLabelValue(std::string_view value);

// A sample value: integers as integers, others in the shortest form that
// reads back to the same double ("0.005", "1e-05"), "+Inf", "-Inf", "NaN".
std::string formatValue(double v);

// A bounded set of label values, indexed 0..capacity-1 in the order first
// seen, and the overflow slot `capacity` named by `overflow`.  index() of a
// value already seen reads without a lock; a new value takes the mutex.
class LabelValues {
public:
    LabelValues(std::size_t capacity, std::string overflow);
    std::size_t index(std::string_view value) noexcept;
    std::size_t slots() const noexcept { return capacity_ + 1; }
    // Values seen so far (the overflow slot not included).
    std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
    std::string_view name(std::size_t i) const noexcept;

private:
    const std::size_t capacity_;
    const std::string overflow_;
    std::unique_ptr<std::string[]> names_;
    std::atomic<std::size_t> count_{0};
    std::mutex addMu_;
};

// Upper bounds of the callback duration buckets, in seconds (+Inf implied).
// A callback is a few microseconds of the filter's own work; the upper
// buckets catch a stall (a slow resolver, a blocked log) well below the
// MTAs' milter timeouts.
inline constexpr std::array<double, 12> kDurationBuckets = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1.0};

inline constexpr std::size_t kListenerSlots = 16;
inline constexpr std::size_t kVerdictSlots = 8;
inline constexpr std::size_t kReasonSlots = 16;
inline constexpr std::size_t kTlsVersionSlots = 8;
inline constexpr std::size_t kCipherSlots = 64;

} // namespace metrics

// One audit event as the metrics count it.  The views must stay valid for
// the call only.
struct TransactionSample {
    std::string_view listener;  // the listener's name (config section or role)
    std::string_view verdict;   // as in the audit line: accept, exempt, would-reject, ...
    std::string_view reason;    // as in the audit line; empty when none
    std::string_view tlsVersion; // "TLSv1.3", ..., "none" on cleartext
    std::string_view cipher;    // IANA name, "0xC02F", "unknown", "none" on cleartext
    bool cleartextAuth = false; // a successful AUTH on a cleartext connection
};

class Metrics {
public:
    // `version` and `openssl` become the build_info labels; `now` is the
    // start, the first successful load of the configuration.
    Metrics(std::string version, std::string openssl, std::time_t now);
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // ---- per message: lock-free, noexcept ----
    void transaction(const TransactionSample& t) noexcept;
    void internalError(Stage s) noexcept;
    void observe(Stage s, std::chrono::nanoseconds d) noexcept;
    void sessionOpened() noexcept { sessions_.fetch_add(1, std::memory_order_relaxed); }
    void sessionClosed() noexcept { sessions_.fetch_sub(1, std::memory_order_relaxed); }

    // ---- rare ----
    void reloaded(bool ok, std::time_t now) noexcept;
    // A listener name every configuration may resolve to: its
    // cleartext_auth series is exported at 0 from now on, so an alert on
    // its increase sees the first one.
    void declareListener(std::string_view name) noexcept;

    std::string render(metrics::Format f) const;

private:
    struct Counter {
        explicit Counter(std::size_t n);
        std::unique_ptr<std::atomic<std::uint64_t>[]> v;
        std::size_t n;
    };
    struct Histogram {
        std::array<std::atomic<std::uint64_t>, metrics::kDurationBuckets.size() + 1> buckets{};
        std::atomic<std::uint64_t> sumNanos{0};
    };

    const std::string version_;
    const std::string openssl_;
    metrics::LabelValues listeners_;
    metrics::LabelValues verdicts_;
    metrics::LabelValues reasons_;
    metrics::LabelValues tlsVersions_;
    metrics::LabelValues ciphers_;
    Counter transactions_;    // listener x verdict x reason
    Counter tls_;             // listener x tls_version x cipher
    Counter cleartextAuth_;   // listener
    std::array<std::atomic<std::uint64_t>, kStageCount> internalErrors_{};
    std::array<Histogram, kStageCount> durations_{};
    std::atomic<std::uint64_t> reloadsOk_{0};
    std::atomic<std::uint64_t> reloadsFailed_{0};
    std::atomic<bool> lastReloadOk_{true};
    std::atomic<std::int64_t> lastReloadSuccess_;
    std::atomic<std::int64_t> sessions_{0};
};

namespace metrics {

// ---- the HTTP exchange of the endpoint, without the sockets ----

// Length of the request head in `buf` (request line and header fields,
// through the empty line, CRLF or bare LF), or 0 while it is incomplete.
std::size_t requestHeadLength(std::string_view buf) noexcept;

// The whole HTTP/1.1 response to one request head: 200 with the registry
// for GET or HEAD of /metrics (any query string ignored), in the format the
// Accept fields negotiate; 404 for any other target or method; 400 for a
// head that is not HTTP/1.x.  Always "Connection: close".
std::string httpResponse(std::string_view head, const Metrics& m);
// The response to a request head over the size limit.
std::string httpTooLarge();

} // namespace metrics

} // namespace rfc8314
