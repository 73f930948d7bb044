// notify.cpp — sd_notify datagrams, the milter self-probe and the
// readiness/watchdog thread.  See notify.hpp.
#include "notify.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "rfc8314/logfmt.hpp"
#include "runtime.hpp"

namespace rfc8314 {

namespace {

using SteadyClock = std::chrono::steady_clock;

void logLine(LogLevel level, const LogLine& line) noexcept {
    try {
        Runtime::instance().logger().log(level, line.str());
    } catch (...) {
    }
}

// A descriptor closed on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Waits for `events` on fd until `deadline`; false on timeout or error.
bool waitFor(int fd, short events, SteadyClock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
        if (left.count() <= 0) {
            errno = ETIMEDOUT;
            return false;
        }
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

bool sendAll(int fd, const unsigned char* p, std::size_t n, SteadyClock::time_point deadline) {
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= static_cast<std::size_t>(w);
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!waitFor(fd, POLLOUT, deadline))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

bool recvAll(int fd, unsigned char* p, std::size_t n, SteadyClock::time_point deadline) {
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= static_cast<std::size_t>(r);
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!waitFor(fd, POLLIN, deadline))
                return false;
        } else {
            if (r == 0)
                errno = ECONNRESET;
            return false;
        }
    }
    return true;
}

void putU32(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
}

std::uint32_t getU32(const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

} // namespace

// ---- the notification socket -------------------------------------------------------

SystemdNotify SystemdNotify::fromEnvironment(std::string* why) {
    SystemdNotify n;
    const char* v = std::getenv("NOTIFY_SOCKET");
    if (!v || !*v)
        return n;
    const std::string path(v);
    auto* un = reinterpret_cast<sockaddr_un*>(&n.addr_);
    if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof un->sun_path) {
        if (why)
            *why = "NOTIFY_SOCKET=" + statusLine(path) + " is neither an absolute path nor an "
                   "abstract socket (@name); not notifying systemd";
        return n;
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    if (path[0] == '@')
        un->sun_path[0] = '\0';
    n.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                    (path[0] == '@' ? 0 : 1));
    return n;
}

bool SystemdNotify::send(std::string_view message) const noexcept {
    if (!enabled())
        return true;
    Fd s;
    s.fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0)
        return false;
    ssize_t n;
    do {
        n = ::sendto(s.fd, message.data(), message.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&addr_), len_);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(message.size());
}

std::optional<std::chrono::microseconds> SystemdNotify::watchdogInterval() noexcept {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec || !*usec)
        return std::nullopt;
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
        char* end = nullptr;
        const long p = std::strtol(pid, &end, 10);
        if (*end != '\0' || p != static_cast<long>(::getpid()))
            return std::nullopt;
    }
    char* end = nullptr;
    const unsigned long long us = std::strtoull(usec, &end, 10);
    if (*end != '\0' || us == 0)
        return std::nullopt;
    return std::chrono::microseconds(us);
}

std::string SystemdNotify::statusLine(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return out;
}

// ---- the milter's own endpoint -----------------------------------------------------------

std::optional<MilterEndpoint> milterEndpoint(int listenFd, std::string* why) {
    auto fail = [&](std::string what) -> std::optional<MilterEndpoint> {
        if (why)
            *why = std::move(what);
        return std::nullopt;
    };
    MilterEndpoint ep;
    ep.len = sizeof ep.addr;
    if (listenFd < 0)
        return fail("the milter's listening socket was not found in this process");
    if (getsockname(listenFd, reinterpret_cast<sockaddr*>(&ep.addr), &ep.len) != 0)
        return fail(errnoText("getsockname of the milter socket"));
    char buf[INET6_ADDRSTRLEN] = {};
    if (ep.addr.ss_family == AF_UNIX) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&ep.addr);
        if (ep.len <= offsetof(sockaddr_un, sun_path) || un->sun_path[0] == '\0')
            return fail("the milter socket has no path");
        ep.text = "local:" + std::string(un->sun_path, strnlen(un->sun_path, sizeof un->sun_path));
    } else if (ep.addr.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&ep.addr);
        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        ep.text = "inet:" + std::to_string(ntohs(in->sin_port)) + "@" + buf;
    } else if (ep.addr.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
        inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        ep.text = "inet6:" + std::to_string(ntohs(in6->sin6_port)) + "@" + buf;
    } else {
        return fail("the milter socket is neither a unix nor an inet socket");
    }
    return ep;
}

bool probeMilter(const MilterEndpoint& ep, std::chrono::milliseconds timeout, std::string* why) {
    const auto deadline = SteadyClock::now() + timeout;
    auto fail = [&](const char* what) {
        if (why)
            *why = errnoText(what);
        return false;
    };
    Fd s;
    s.fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0)
        return fail("socket");
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
        if (errno != EINPROGRESS)
            return fail("connect");
        if (!waitFor(s.fd, POLLOUT, deadline))
            return fail("connect");
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            errno = err;
            return fail("connect");
        }
    }
    // SMFIC_OPTNEG as Postfix 3.7 sends it: protocol version 6, every
    // action and every protocol step offered.
    unsigned char optneg[17];
    putU32(optneg, 13);
    optneg[4] = 'O';
    putU32(optneg + 5, 6);
    putU32(optneg + 9, 0x1ff);
    putU32(optneg + 13, 0x1fffff);
    if (!sendAll(s.fd, optneg, sizeof optneg, deadline))
        return fail("send negotiation");
    unsigned char head[5];
    if (!recvAll(s.fd, head, sizeof head, deadline))
        return fail("read negotiation reply");
    const std::uint32_t len = getU32(head);
    if (head[4] != 'O' || len < 13 || len > 65536) {
        errno = EPROTO;
        return fail("negotiation reply");
    }
    std::string body(len - 1, '\0');
    if (!recvAll(s.fd, reinterpret_cast<unsigned char*>(body.data()), body.size(), deadline))
        return fail("read negotiation reply");
    const unsigned char quit[5] = {0, 0, 0, 1, 'Q'};
    (void)sendAll(s.fd, quit, sizeof quit, deadline);
    return true;
}

// ---- the supervisor thread -------------------------------------------------------------------

namespace {

std::string monotonicUsec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::to_string(static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
                          static_cast<unsigned long long>(ts.tv_nsec) / 1000ull);
}

} // namespace

ServiceSupervisor::ServiceSupervisor(SystemdNotify notify, MilterEndpoint endpoint)
    : notify_(notify), endpoint_(std::move(endpoint)), watchdog_(SystemdNotify::watchdogInterval()) {}

ServiceSupervisor::~ServiceSupervisor() { stop(); }

void ServiceSupervisor::start(std::string status) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this, s = std::move(status)]() mutable { run(std::move(s)); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void ServiceSupervisor::reloading() noexcept {
    if (stopping_.load())
        return;
    try {
        if (!notify_.send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" +
                          monotonicUsec()))
            logLine(LogLevel::Warning, LogLine().add("warning", "cannot notify systemd").add("what", std::strerror(errno)));
    } catch (...) {
    }
}

void ServiceSupervisor::reloaded(std::string_view status) noexcept {
    if (stopping_.load())
        return;
    try {
        notify_.send("READY=1\nSTATUS=" + SystemdNotify::statusLine(status));
    } catch (...) {
    }
}

void ServiceSupervisor::stopping(std::string_view status) noexcept {
    // No more pings: the socket is about to close, and the probe would only
    // log a warning about a stop that is meant.  No READY=1 after this
    // either: a reload during the drain is not a return to service.
    stopping_.store(true);
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    try {
        notify_.send("STOPPING=1\nSTATUS=" + SystemdNotify::statusLine(status));
    } catch (...) {
    }
}

void ServiceSupervisor::stop() noexcept {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

bool ServiceSupervisor::sleepFor(std::chrono::microseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void ServiceSupervisor::run(std::string status) noexcept {
    try {
        // Readiness: the first negotiation libmilter answers.
        const auto started = SteadyClock::now();
        auto nextWarning = started + std::chrono::seconds(10);
        std::string why;
        while (!probeMilter(endpoint_, std::chrono::milliseconds(1000), &why)) {
            if (SteadyClock::now() >= nextWarning) {
                nextWarning += std::chrono::seconds(10);
                logLine(LogLevel::Warning, LogLine()
                                               .add("warning", "the milter socket does not answer yet; "
                                                               "not ready")
                                               .add("socket", endpoint_.text)
                                               .add("what", why));
            }
            if (!sleepFor(std::chrono::milliseconds(20)))
                return;
        }
        if (!notify_.send("READY=1\nSTATUS=" + SystemdNotify::statusLine(status) +
                          "\nMAINPID=" + std::to_string(::getpid())))
            logLine(LogLevel::Warning,
                    LogLine().add("warning", "cannot notify systemd").add("what", std::strerror(errno)));
        if (!watchdog_)
            return;
        // Each ping follows a negotiation answered within the half
        // interval, so two missed probes in a row let systemd's watchdog
        // fire: a stuck filter is restarted, a slow one is not.
        const auto half = *watchdog_ / 2;
        const auto probeTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(half);
        auto next = SteadyClock::now();
        for (;;) {
            next += half;
            const bool answered =
                probeMilter(endpoint_, std::max(probeTimeout, std::chrono::milliseconds(1)), &why);
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (stop_)
                    return;
            }
            if (answered) {
                notify_.send("WATCHDOG=1");
            } else {
                logLine(LogLevel::Warning,
                        LogLine()
                            .add("warning", "watchdog: the milter did not answer a negotiation on its "
                                            "own socket; not pinging systemd")
                            .add("socket", endpoint_.text)
                            .add("what", why));
            }
            const auto left = std::chrono::duration_cast<std::chrono::microseconds>(next - SteadyClock::now());
            if (left.count() > 0 && !sleepFor(left))
                return;
            if (left.count() <= 0)
                next = SteadyClock::now();
            std::lock_guard<std::mutex> lock(mu_);
            if (stop_)
                return;
        }
    } catch (...) {
        logLine(LogLevel::Error, LogLine().add("error", "the systemd supervisor thread failed"));
    }
}

} // namespace rfc8314
