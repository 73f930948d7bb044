// metrics_http.hpp — the metrics endpoint (`metrics_listen`): a small
// HTTP/1.1 server on a thread of its own that answers `GET /metrics` (and
// HEAD) with the Metrics registry in the Prometheus text format, or in
// OpenMetrics when the Accept header asks for it; 404 for any other path or
// method, 400 for a request it cannot read, 431 for one too large.
//
// Written here rather than taken from a library: it needs one path, one
// method, no TLS, no keep-alive and hard limits, which is about 250 lines of
// poll(2); a library would bring its own threads, allocators and defaults
// to audit for the same job.
//
// Promises: nothing a client does reaches the milter's callbacks — they only
// add to atomics; the server never blocks on a client (non-blocking sockets,
// one poll loop); at most kMaxConnections are open at once (further ones
// are accepted and closed at once), each for at most kTimeout from accept to
// the last byte of the answer, and a request head over kMaxRequest bytes is
// refused.  Requests are never logged (their text is hostile).  One
// response per connection, then close.
//
// Failure: open() returns null with the reason (address in use, no such
// address) so the daemon refuses to start; once running, an error on one
// connection closes that connection only.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "rfc8314/metrics.hpp"

namespace rfc8314 {

struct Config;

// The daemon's registry, once enableDaemonMetrics() made it (metrics_listen
// set), else null.  Set before any milter thread starts and never
// destroyed, so a worker still counting while the process exits never
// touches a dead object.
Metrics* daemonMetrics() noexcept;
Metrics& enableDaemonMetrics();
// Every listener name `c` can resolve a connection to (the built-in roles
// and its [listener] sections), so their cleartext_auth series exist at 0.
void declareListeners(Metrics& m, const Config& c) noexcept;

class MetricsServer {
public:
    static constexpr int kMaxConnections = 16;
    static constexpr std::chrono::milliseconds kTimeout{5000};
    static constexpr std::size_t kMaxRequest = 8192;

    // Binds and listens on `addr` (before the daemon detaches and drops
    // privileges, so a port below 1024 works and an error stops the start).
    static std::unique_ptr<MetricsServer> open(const ListenAddress& addr, const Metrics& metrics,
                                               std::string* why);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Starts the server thread, with every signal blocked in it (after the
    // daemon forked: threads do not survive fork).
    void start();
    // Wakes the thread, joins it and closes every socket.  Idempotent.
    void stop() noexcept;

private:
    MetricsServer(int listenFd, int wakeRead, int wakeWrite, const Metrics& metrics);
    void run() noexcept;

    int listenFd_;
    int wakeRead_;
    int wakeWrite_;
    const Metrics& metrics_;
    std::thread thread_;
};

} // namespace rfc8314
