// metrics_http.cpp — the metrics endpoint's sockets and poll loop.  See
// metrics_http.hpp; what to answer is metrics::httpResponse() in lib/.
#include "metrics_http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <openssl/crypto.h>

#include "rfc8314/config.hpp"

namespace rfc8314 {

namespace {
Metrics* g_metrics = nullptr;
} // namespace

Metrics* daemonMetrics() noexcept { return g_metrics; }

Metrics& enableDaemonMetrics() {
    if (!g_metrics)
        g_metrics = new Metrics(RFC8314_VERSION, OpenSSL_version(OPENSSL_VERSION), std::time(nullptr));
    return *g_metrics;
}

void declareListeners(Metrics& m, const Config& c) noexcept {
    for (auto r : {Role::Submission, Role::Submissions, Role::Relay})
        m.declareListener(toString(r));
    for (const auto& l : c.listeners)
        m.declareListener(l.name);
}

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
    int fd = -1;
    Clock::time_point deadline;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    bool answering = false;
};

void closeFd(int& fd) noexcept {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

} // namespace

std::unique_ptr<MetricsServer> MetricsServer::open(const ListenAddress& addr, const Metrics& metrics,
                                                   std::string* why) {
    auto fail = [&](const std::string& what) -> std::unique_ptr<MetricsServer> {
        if (why)
            *why = "metrics_listen " + addr.str() + ": " + what + ": " + std::strerror(errno);
        return nullptr;
    };
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (addr.v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(addr.port);
        if (inet_pton(AF_INET6, addr.host.c_str(), &a->sin6_addr) != 1)
            return fail("bad address");
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(addr.port);
        if (inet_pton(AF_INET, addr.host.c_str(), &a->sin_addr) != 1)
            return fail("bad address");
        len = sizeof *a;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // "[::]" means IPv6 only, as written; IPv4 has its own spelling.
    if (addr.v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        auto r = fail("bind");
        ::close(fd);
        return r;
    }
    if (::listen(fd, kMaxConnections) != 0) {
        auto r = fail("listen");
        ::close(fd);
        return r;
    }
    int wake[2];
    if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        auto r = fail("pipe");
        ::close(fd);
        return r;
    }
    return std::unique_ptr<MetricsServer>(new MetricsServer(fd, wake[0], wake[1], metrics));
}

MetricsServer::MetricsServer(int listenFd, int wakeRead, int wakeWrite, const Metrics& metrics)
    : listenFd_(listenFd), wakeRead_(wakeRead), wakeWrite_(wakeWrite), metrics_(metrics) {}

MetricsServer::~MetricsServer() {
    stop();
    closeFd(listenFd_);
    closeFd(wakeRead_);
    closeFd(wakeWrite_);
}

void MetricsServer::start() {
    // The thread inherits this mask: no signal is ever delivered to it, so
    // SIGUSR1 and the stop signals reach the threads that wait for them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void MetricsServer::stop() noexcept {
    if (!thread_.joinable())
        return;
    const char c = 'x';
    while (::write(wakeWrite_, &c, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
}

void MetricsServer::run() noexcept {
    std::vector<Connection> conns;
    conns.reserve(kMaxConnections);
    std::vector<pollfd> fds;
    fds.reserve(kMaxConnections + 2);
    for (;;) {
        const auto now = Clock::now();
        // Past its deadline, a connection is closed without an answer.
        for (auto& c : conns)
            if (now >= c.deadline)
                closeFd(c.fd);
        conns.erase(std::remove_if(conns.begin(), conns.end(), [](const Connection& c) { return c.fd < 0; }),
                    conns.end());

        fds.clear();
        fds.push_back({wakeRead_, POLLIN, 0});
        fds.push_back({listenFd_, POLLIN, 0});
        int timeoutMs = -1;
        for (const auto& c : conns) {
            fds.push_back({c.fd, static_cast<short>(c.answering ? POLLOUT : POLLIN), 0});
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now).count() + 1;
            timeoutMs = timeoutMs < 0 ? static_cast<int>(left) : std::min(timeoutMs, static_cast<int>(left));
        }
        if (::poll(fds.data(), fds.size(), timeoutMs) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break; // stop()

        for (std::size_t i = 0; i < conns.size(); ++i) {
            auto& c = conns[i];
            const short ev = fds[i + 2].revents;
            if (!ev)
                continue;
            if (!c.answering) {
                char buf[2048];
                const ssize_t n = ::read(c.fd, buf, sizeof buf);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    closeFd(c.fd);
                    continue;
                }
                if (n > 0)
                    c.in.append(buf, static_cast<std::size_t>(n));
                const std::size_t head = metrics::requestHeadLength(c.in);
                try {
                    if (head > 0 && head <= kMaxRequest) {
                        c.out = metrics::httpResponse(std::string_view(c.in).substr(0, head), metrics_);
                    } else if (c.in.size() > kMaxRequest) {
                        c.out = metrics::httpTooLarge();
                    } else {
                        continue; // more to come
                    }
                } catch (...) {
                    c.out = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                            "Connection: close\r\n\r\n";
                }
                c.answering = true;
                c.in.clear();
                c.in.shrink_to_fit();
                // Most answers fit the socket buffer: try at once.
            }
            const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0) {
                closeFd(c.fd);
                continue;
            }
            c.sent += static_cast<std::size_t>(n);
            if (c.sent == c.out.size()) {
                ::shutdown(c.fd, SHUT_WR);
                closeFd(c.fd);
            }
        }

        if (fds[1].revents & POLLIN) {
            // Take every pending connection; past the cap, close it at once
            // rather than let it wait in the backlog.
            for (;;) {
                int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                const auto open = std::count_if(conns.begin(), conns.end(),
                                                [](const Connection& c) { return c.fd >= 0; });
                if (open >= kMaxConnections) {
                    ::close(fd);
                    continue;
                }
                try {
                    Connection c;
                    c.fd = fd;
                    c.deadline = Clock::now() + kTimeout;
                    conns.push_back(std::move(c));
                } catch (...) {
                    ::close(fd);
                }
            }
        }
    }
    for (auto& c : conns)
        closeFd(c.fd);
}

} // namespace rfc8314
