// notify.hpp — systemd readiness and watchdog for a Type=notify unit.
//
// The notification protocol (sd_notify(3)) is written out here rather than
// linked from libsystemd: it is one datagram of "KEY=value" lines to the
// AF_UNIX socket named by $NOTIFY_SOCKET ("/path", or "@name" for the
// abstract namespace), and a package that never runs under systemd then
// needs no libsystemd at all.
//
// What the daemon tells systemd, and when:
//   READY=1      once a milter negotiation over the daemon's own listening
//                socket has been answered — libmilter's accept loop runs and
//                a worker answered, not merely "the socket exists";
//   RELOADING=1  when a SIGUSR1 reload starts, then READY=1 with STATUS=
//                naming the configuration in force or why the reload failed;
//   STOPPING=1   when a stop signal arrives, before the wait for open
//                connections (no READY=1 and no ping after it);
//   WATCHDOG=1   every WATCHDOG_USEC/2 when systemd asks for it, each one
//                only after a fresh negotiation over the milter socket was
//                answered within the interval: a wedged accept loop, a
//                deleted socket or callbacks stuck on a lock mean no ping,
//                and systemd restarts the service.
//
// Promises: with $NOTIFY_SOCKET unset nothing is sent and no thread runs.
// STATUS= text is one line (control bytes become '?').  Nothing here
// throws into the caller's signal or milter paths; a datagram that cannot
// be sent is logged, never fatal.  The probe connections run through the
// real callbacks: each adds one negotiate and one close to the callback
// duration histogram, never a session.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace rfc8314 {

// $NOTIFY_SOCKET, read once.
class SystemdNotify {
public:
    // Disabled when the variable is unset or empty; `why` says what was
    // wrong with a value that cannot be used.
    static SystemdNotify fromEnvironment(std::string* why);
    bool enabled() const noexcept { return len_ > 0; }
    // One datagram; false (and errno) when it could not be sent.
    bool send(std::string_view message) const noexcept;
    // WATCHDOG_USEC when the watchdog is on for this process (WATCHDOG_PID
    // unset or ours).
    static std::optional<std::chrono::microseconds> watchdogInterval() noexcept;
    // `text` as one STATUS= value: control bytes become '?'.
    static std::string statusLine(std::string_view text);

private:
    sockaddr_storage addr_{};
    socklen_t len_ = 0;
};

// Where libmilter listens, as this process can connect to it.
struct MilterEndpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text; // for log lines
};

// Where to connect to the listening socket `listenFd` (the one libmilter
// opened; -1 when the daemon could not find it): its own address, a
// wildcard one reached through loopback.
std::optional<MilterEndpoint> milterEndpoint(int listenFd, std::string* why);

// One milter negotiation (SMFIC_OPTNEG, as an MTA sends it) and QUIT:
// true when the filter answered with its own OPTNEG within `timeout`.
bool probeMilter(const MilterEndpoint& ep, std::chrono::milliseconds timeout, std::string* why);

// The thread that sends READY=1 and the watchdog pings.
class ServiceSupervisor {
public:
    ServiceSupervisor(SystemdNotify notify, MilterEndpoint endpoint);
    ~ServiceSupervisor();
    ServiceSupervisor(const ServiceSupervisor&) = delete;
    ServiceSupervisor& operator=(const ServiceSupervisor&) = delete;

    // Starts the thread (every signal blocked in it): it probes until the
    // milter answers, sends READY=1 with `status`, then pings the watchdog.
    void start(std::string status);
    // RELOADING=1, then READY=1 with `status`; nothing once stopping.
    void reloading() noexcept;
    void reloaded(std::string_view status) noexcept;
    // STOPPING=1 with `status`; ends the pings.
    void stopping(std::string_view status) noexcept;
    // Ends the thread.  Idempotent.
    void stop() noexcept;

private:
    void run(std::string status) noexcept;
    // Waits up to `d`; false when stop() was called.
    bool sleepFor(std::chrono::microseconds d);

    SystemdNotify notify_;
    MilterEndpoint endpoint_;
    std::optional<std::chrono::microseconds> watchdog_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace rfc8314
