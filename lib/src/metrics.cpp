// metrics.cpp — counters, gauges, the histogram and their renderings.  See
// metrics.hpp.
//
// Storage: each labelled counter is a flat array of atomics, one per
// combination of label slots (listener x verdict x reason, ...), so an
// update is an index computation and one fetch_add; the label tables bound
// the array's size.  Renderings walk the arrays; a series that was never
// incremented is left out, except where the label's values are known ahead
// (stages, reload results, declared listeners): those are exported at 0, so
// that increase() in an alert sees the first event.
#include "rfc8314/metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "rfc8314/facts.hpp"
#include "text.hpp"

namespace rfc8314 {

// ---- metrics_listen -----------------------------------------------------------

std::string ListenAddress::str() const {
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenAddress> parseListenAddress(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> std::optional<ListenAddress> {
        if (why)
            *why = std::move(msg);
        return std::nullopt;
    };
    const std::string want = "want ADDR:PORT with a numeric address, e.g. 127.0.0.1:9925 or [::1]:9925";
    ListenAddress a;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail(want);
        a.host = std::string(text.substr(1, close - 1));
        a.v6 = true;
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail(want);
        a.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned char buf[sizeof(struct in6_addr)];
    if (a.host.empty() || inet_pton(a.v6 ? AF_INET6 : AF_INET, a.host.c_str(), buf) != 1)
        return fail(want + "; \"" + a.host + "\" is not a numeric " + (a.v6 ? "IPv6" : "IPv4") +
                    " address");
    auto p = parsePort(port);
    if (!p)
        return fail("want a port 1..65535 after the address, got \"" + std::string(port) + "\"");
    a.port = *p;
    return a;
}

namespace metrics {

// ---- content negotiation --------------------------------------------------------

namespace {

// q-value per RFC 9110: "0", "1", "0.5", "1.000"; nullopt when malformed.
std::optional<int> parseQ(std::string_view v) noexcept {
    if (v.empty() || (v[0] != '0' && v[0] != '1'))
        return std::nullopt;
    int q = (v[0] - '0') * 1000;
    if (v.size() == 1)
        return q;
    if (v[1] != '.' || v.size() > 5)
        return std::nullopt;
    int scale = 100;
    for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
        if (!text::isDigit(v[i]))
            return std::nullopt;
        q += (v[i] - '0') * scale;
    }
    return q <= 1000 ? std::optional<int>(q) : std::nullopt;
}

} // namespace

Format negotiate(std::string_view accept) noexcept {
    int openMetricsQ = 0;
    int textQ = 0;
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        const auto semi = range.find(';');
        const auto type = text::trimSpace(range.substr(0, semi));
        int q = 1000;
        std::string_view version;
        bool bad = false;
        for (auto params = semi == std::string_view::npos ? std::string_view() : range.substr(semi + 1);
             !params.empty();) {
            const auto next = params.find(';');
            const auto param = text::trimSpace(params.substr(0, next));
            params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
            const auto eq = param.find('=');
            if (eq == std::string_view::npos)
                continue;
            const auto name = text::trimSpace(param.substr(0, eq));
            const auto value = text::trimSpace(param.substr(eq + 1));
            if (text::iequals(name, "q")) {
                auto parsed = parseQ(value);
                bad = bad || !parsed;
                q = parsed.value_or(0);
            } else if (text::iequals(name, "version")) {
                version = value;
            }
        }
        if (bad)
            continue;
        if (text::iequals(type, "application/openmetrics-text") &&
            (version.empty() || version == "1.0.0")) {
            openMetricsQ = std::max(openMetricsQ, q);
        } else if ((text::iequals(type, "text/plain") && (version.empty() || version == "0.0.4")) ||
                   text::iequals(type, "text/*") || type == "*/*") {
            textQ = std::max(textQ, q);
        }
    }
    return openMetricsQ > 0 && openMetricsQ >= textQ ? Format::OpenMetrics : Format::Prometheus;
}

std::string_view contentType(Format f) noexcept {
    return f == Format::OpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                    : "text/plain; version=0.0.4; charset=utf-8";
}

// ---- values ------------------------------------------------------------------------

std::string escapeLabelValue(std::string_view value) {
    return text::utf8Escape(value, [](std::string& out, unsigned char c) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += static_cast<char>(c);
        }
    });
}

std::string formatValue(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    // Whole numbers as integers (a timestamp reads 1700000000, not 1.7e+09),
    // as long as a double holds them exactly.
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0)
        return std::to_string(static_cast<long long>(v));
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

// ---- label tables ------------------------------------------------------------------

LabelValues::LabelValues(std::size_t capacity, std::string overflow)
    : capacity_(capacity), overflow_(std::move(overflow)),
      names_(std::make_unique<std::string[]>(capacity)) {}

std::size_t LabelValues::index(std::string_view value) noexcept {
    // Entries below count_ are written once, before count_ is raised with
    // release order, and never change: reading them needs no lock.
    std::size_t n = count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i)
        if (names_[i] == value)
            return i;
    if (n >= capacity_)
        return capacity_;
    try {
        std::lock_guard<std::mutex> lock(addMu_);
        n = count_.load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < n; ++i)
            if (names_[i] == value)
                return i;
        if (n >= capacity_)
            return capacity_;
        names_[n] = std::string(value);
        count_.store(n + 1, std::memory_order_release);
        return n;
    } catch (...) {
        // Out of memory (or a failed lock): count it as "other" rather than lose it.
        return capacity_;
    }
}

std::string_view LabelValues::name(std::size_t i) const noexcept {
    return i < size() ? std::string_view(names_[i]) : std::string_view(overflow_);
}

} // namespace metrics

// ---- the registry ----------------------------------------------------------------------

namespace {

using metrics::Format;

constexpr std::array<std::uint64_t, metrics::kDurationBuckets.size()> bucketNanos() {
    std::array<std::uint64_t, metrics::kDurationBuckets.size()> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::uint64_t>(metrics::kDurationBuckets[i] * 1e9 + 0.5);
    return out;
}
constexpr auto kBucketNanos = bucketNanos();

// Writes families and samples in one of the two formats.
class Exposition {
public:
    explicit Exposition(Format f) : f_(f) {}

    // `name` is the family name; for a counter the samples are name_total.
    // OpenMetrics names the family without _total; the text format's HELP
    // and TYPE lines name the sample.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        const bool counter = type == "counter";
        std::string head(name);
        if (counter && f_ == Format::Prometheus)
            head += "_total";
        std::string_view t = type;
        if (type == "info" && f_ == Format::Prometheus) {
            t = "gauge";
            head += "_info";
        }
        out_ += "# HELP " + head + " " + escapeHelp(help) + "\n";
        out_ += "# TYPE " + head + " " + std::string(t) + "\n";
    }
    // labels: name, value pairs already in order.
    void sample(std::string_view name,
                std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                std::string_view value) {
        out_ += name;
        if (labels.size() > 0) {
            out_ += '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                if (!first)
                    out_ += ',';
                first = false;
                out_ += k;
                out_ += "=\"";
                out_ += metrics::escapeLabelValue(v);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }
    std::string finish() {
        if (f_ == Format::OpenMetrics)
            out_ += "# EOF\n";
        return std::move(out_);
    }

private:
    // HELP text: the text format escapes \ and newline; OpenMetrics also ".
    std::string escapeHelp(std::string_view help) const {
        std::string out;
        for (char c : help) {
            if (c == '\\')
                out += "\\\\";
            else if (c == '\n')
                out += "\\n";
            else if (c == '"' && f_ == Format::OpenMetrics)
                out += "\\\"";
            else
                out += c;
        }
        return out;
    }
    Format f_;
    std::string out_;
};

std::string num(std::uint64_t v) { return std::to_string(v); }

} // namespace

Metrics::Counter::Counter(std::size_t size)
    : v(std::make_unique<std::atomic<std::uint64_t>[]>(size)), n(size) {}

Metrics::Metrics(std::string version, std::string openssl, std::time_t now)
    : version_(std::move(version)), openssl_(std::move(openssl)),
      listeners_(metrics::kListenerSlots, "other"), verdicts_(metrics::kVerdictSlots, "other"),
      reasons_(metrics::kReasonSlots, "other"), tlsVersions_(metrics::kTlsVersionSlots, "other"),
      ciphers_(metrics::kCipherSlots, "other"),
      transactions_(listeners_.slots() * verdicts_.slots() * reasons_.slots()),
      tls_(listeners_.slots() * tlsVersions_.slots() * ciphers_.slots()),
      cleartextAuth_(listeners_.slots()), lastReloadSuccess_(static_cast<std::int64_t>(now)) {}

void Metrics::transaction(const TransactionSample& t) noexcept {
    const std::size_t l = listeners_.index(t.listener);
    const std::size_t v = verdicts_.index(t.verdict);
    const std::size_t r = reasons_.index(t.reason);
    transactions_.v[(l * verdicts_.slots() + v) * reasons_.slots() + r].fetch_add(
        1, std::memory_order_relaxed);
    const std::size_t tv = tlsVersions_.index(t.tlsVersion);
    const std::size_t c = ciphers_.index(t.cipher);
    tls_.v[(l * tlsVersions_.slots() + tv) * ciphers_.slots() + c].fetch_add(
        1, std::memory_order_relaxed);
    if (t.cleartextAuth)
        cleartextAuth_.v[l].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::internalError(Stage s) noexcept {
    internalErrors_[static_cast<std::size_t>(s)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe(Stage s, std::chrono::nanoseconds d) noexcept {
    auto& h = durations_[static_cast<std::size_t>(s)];
    const auto ns = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
    std::size_t b = 0;
    while (b < kBucketNanos.size() && ns > kBucketNanos[b])
        ++b;
    h.buckets[b].fetch_add(1, std::memory_order_relaxed);
    h.sumNanos.fetch_add(ns, std::memory_order_relaxed);
}

void Metrics::reloaded(bool ok, std::time_t now) noexcept {
    (ok ? reloadsOk_ : reloadsFailed_).fetch_add(1, std::memory_order_relaxed);
    lastReloadOk_.store(ok, std::memory_order_relaxed);
    if (ok)
        lastReloadSuccess_.store(static_cast<std::int64_t>(now), std::memory_order_relaxed);
}

void Metrics::declareListener(std::string_view name) noexcept { (void)listeners_.index(name); }

std::string Metrics::render(Format f) const {
    Exposition out(f);
    const auto counterName = [](std::string_view family) { return std::string(family) + "_total"; };

    // Sparse counters: only the combinations that happened.  Slot i of a
    // three-label counter is (a * B + b) * C + c.
    const auto sparse = [&](std::string_view family, std::string_view help, const Counter& counter,
                            std::string_view la, const metrics::LabelValues& va, std::string_view lb,
                            const metrics::LabelValues& vb, std::string_view lc,
                            const metrics::LabelValues& vc) {
        const auto name = counterName(family);
        out.family(family, "counter", help);
        const std::size_t B = vb.slots(), C = vc.slots();
        for (std::size_t i = 0; i < counter.n; ++i) {
            const auto n = counter.v[i].load(std::memory_order_relaxed);
            if (n > 0)
                out.sample(name, {{la, va.name(i / (B * C))}, {lb, vb.name(i / C % B)}, {lc, vc.name(i % C)}},
                           num(n));
        }
    };
    sparse("rfc8314_transactions",
           "Audit events: one per authenticated transaction and per decision that is not a plain "
           "accept, by listener, verdict and reason (empty when none).",
           transactions_, "listener", listeners_, "verdict", verdicts_, "reason", reasons_);
    sparse("rfc8314_tls_transactions",
           "Audit events by listener, TLS version and IANA cipher suite (none for cleartext).", tls_,
           "listener", listeners_, "tls_version", tlsVersions_, "cipher", ciphers_);
    // Dense: every listener seen or declared, at 0 too.
    {
        const auto name = counterName("rfc8314_cleartext_auth");
        out.family("rfc8314_cleartext_auth", "counter",
                   "Audit events of a successful AUTH on a cleartext connection: the password "
                   "crossed the wire unencrypted.");
        const std::size_t known = listeners_.size();
        for (std::size_t l = 0; l < cleartextAuth_.n; ++l) {
            const auto n = cleartextAuth_.v[l].load(std::memory_order_relaxed);
            if (l < known || n > 0)
                out.sample(name, {{"listener", listeners_.name(l)}}, num(n));
        }
    }
    {
        const auto name = counterName("rfc8314_internal_errors");
        out.family("rfc8314_internal_errors", "counter",
                   "Failures of the filter itself (answered with on_internal_error), by milter "
                   "stage.");
        for (std::size_t s = 0; s < kStageCount; ++s)
            out.sample(name, {{"stage", toString(static_cast<Stage>(s))}},
                       num(internalErrors_[s].load(std::memory_order_relaxed)));
    }
    {
        const auto name = counterName("rfc8314_config_reloads");
        out.family("rfc8314_config_reloads", "counter",
                   "Configuration reloads (SIGUSR1) by result; a failed one keeps the running "
                   "configuration.");
        out.sample(name, {{"result", "ok"}}, num(reloadsOk_.load(std::memory_order_relaxed)));
        out.sample(name, {{"result", "failed"}},
                   num(reloadsFailed_.load(std::memory_order_relaxed)));
    }
    out.family("rfc8314_config_last_reload_successful", "gauge",
               "1 when the last reload (or the start) loaded the configuration file, 0 when "
               "it failed and an older configuration is in force.");
    out.sample("rfc8314_config_last_reload_successful", {},
               lastReloadOk_.load(std::memory_order_relaxed) ? "1" : "0");
    out.family("rfc8314_config_last_reload_success_timestamp_seconds", "gauge",
               "When the configuration in force was loaded (start or reload), Unix time.");
    out.sample("rfc8314_config_last_reload_success_timestamp_seconds", {},
               std::to_string(lastReloadSuccess_.load(std::memory_order_relaxed)));
    out.family("rfc8314_sessions_active", "gauge", "Milter connections open now.");
    out.sample("rfc8314_sessions_active", {},
               std::to_string(sessions_.load(std::memory_order_relaxed)));
    {
        out.family("rfc8314_callback_duration_seconds", "histogram",
                   "Time the filter spends in each milter callback, by stage.");
        for (std::size_t s = 0; s < kStageCount; ++s) {
            const auto& h = durations_[s];
            std::array<std::uint64_t, metrics::kDurationBuckets.size() + 1> counts{};
            std::uint64_t total = 0;
            for (std::size_t b = 0; b < counts.size(); ++b) {
                counts[b] = h.buckets[b].load(std::memory_order_relaxed);
                total += counts[b];
            }
            const auto label = toString(static_cast<Stage>(s));
            std::uint64_t cumulative = 0;
            for (std::size_t b = 0; b < counts.size(); ++b) {
                cumulative += counts[b];
                const std::string le = b < metrics::kDurationBuckets.size()
                                           ? metrics::formatValue(metrics::kDurationBuckets[b])
                                           : std::string("+Inf");
                out.sample("rfc8314_callback_duration_seconds_bucket",
                           {{"stage", label}, {"le", le}}, num(cumulative));
            }
            out.sample("rfc8314_callback_duration_seconds_sum", {{"stage", label}},
                       metrics::formatValue(
                           static_cast<double>(h.sumNanos.load(std::memory_order_relaxed)) / 1e9));
            out.sample("rfc8314_callback_duration_seconds_count", {{"stage", label}}, num(total));
        }
    }
    out.family("rfc8314_build", "info", "The filter's version and the OpenSSL it runs with.");
    out.sample("rfc8314_build_info", {{"version", version_}, {"openssl", openssl_}}, "1");
    return out.finish();
}

// ---- HTTP ----------------------------------------------------------------------------

namespace metrics {

std::size_t requestHeadLength(std::string_view buf) noexcept {
    for (std::size_t i = 0; i < buf.size(); ++i) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < buf.size() && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

namespace {

std::string response(std::string_view status, std::string_view type, const std::string& body,
                     bool withBody) {
    std::string out = "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += type;
    out += "\r\nContent-Length: " + std::to_string(body.size());
    out += "\r\nConnection: close\r\n\r\n";
    if (withBody)
        out += body;
    return out;
}

std::string plain(std::string_view status, bool withBody = true) {
    return response(status, "text/plain; charset=utf-8", std::string(status) + "\n", withBody);
}

} // namespace

std::string httpTooLarge() { return plain("431 Request Header Fields Too Large"); }

std::string httpResponse(std::string_view head, const Metrics& m) {
    // Request line: METHOD SP TARGET SP HTTP/1.x
    const auto eol = head.find('\n');
    auto line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return plain("400 Bad Request");
    const auto method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return plain("400 Bad Request");
    target = target.substr(0, target.find('?'));
    const bool isHead = method == "HEAD";
    if ((method != "GET" && !isHead) || target != "/metrics")
        return plain("404 Not Found", !isHead);

    // Every Accept field, as one list (RFC 9110 §5.3).
    std::string accept;
    for (auto rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
         !rest.empty();) {
        const auto next = rest.find('\n');
        auto field = rest.substr(0, next);
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || !text::iequals(field.substr(0, colon), "accept"))
            continue;
        if (!accept.empty())
            accept += ',';
        accept += text::trimSpace(field.substr(colon + 1));
    }
    const Format f = negotiate(accept);
    return response("200 OK", contentType(f), m.render(f), !isHead);
}

} // namespace metrics

} // namespace rfc8314
