// runtime.hpp — process-wide state of the daemon: the current configuration,
// the log sinks (syslog, standard error, the JSON audit file) and the count
// of open MTA connections.
//
// Promises: current() hands out the config as an immutable shared_ptr, so a
// SIGUSR1 reload swaps it for new connections while open ones keep theirs.
// Logging never throws and never splits a line: each event is written with
// one write(2) to the audit file and one syslog(3) call.  Every MTA
// connection that reached a callback is counted from its first callback to
// its close, so the daemon's stop can wait for them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "rfc8314/config.hpp"
#include "rfc8314/session.hpp"

namespace rfc8314 {

class Logger {
public:
    // Opens syslog (ident rfc8314-milter) per the restart-only keys.
    void openSyslog(const Config& c);
    // Applies the reloadable keys: level, stderr, audit file (reopened, so a
    // rotated file is picked up on SIGUSR1).  Returns an error text or "".
    std::string configure(const Config& c);
    void log(LogLevel level, const std::string& line) noexcept;
    void audit(const std::string& json) noexcept;
    // A message about the start (an error that keeps the daemon from
    // running, a warning): on standard error always (whoever started it is
    // looking there) and in syslog when it is on (an init script's standard
    // error is often lost), whatever log_stderr and log_level say.
    void startup(LogLevel level, const std::string& text) noexcept;

private:
    struct AuditFile {
        int fd = -1;
        std::string path;
        ~AuditFile();
    };
    mutable std::mutex mu_;
    bool syslog_ = false;
    bool stderr_ = true;
    LogLevel level_ = LogLevel::Info;
    std::shared_ptr<AuditFile> audit_;
};

// The MTA connections the filter is serving.
class SessionGauge {
public:
    void opened() noexcept;
    void closed() noexcept;
    std::size_t open() const noexcept;
    // Waits until no connection is open or `deadline` passes; returns how
    // many are still open.
    std::size_t waitIdle(std::chrono::steady_clock::time_point deadline) const noexcept;

private:
    mutable std::mutex mu_;
    mutable std::condition_variable idle_;
    std::size_t open_ = 0;
};

// Counts one MTA connection for as long as it lives: the connection's
// context holds one, from the first callback to xxfi_close.
class OpenSession {
public:
    OpenSession() noexcept;
    ~OpenSession();
    OpenSession(const OpenSession&) = delete;
    OpenSession& operator=(const OpenSession&) = delete;
};

class Runtime {
public:
    static Runtime& instance();
    std::shared_ptr<const Config> current() const;
    void replace(std::shared_ptr<const Config> c);
    Logger& logger() noexcept { return logger_; }
    SessionGauge& sessions() noexcept { return sessions_; }
    const std::shared_ptr<WarningLimiter>& limiter() const noexcept { return limiter_; }
    // Where the config was read from and the command-line overrides, for reload.
    std::string configPath;
    bool configOptional = false;
    std::vector<ConfigOverride> overrides;

private:
    mutable std::mutex mu_;
    std::shared_ptr<const Config> config_;
    Logger logger_;
    SessionGauge sessions_;
    std::shared_ptr<WarningLimiter> limiter_ = std::make_shared<WarningLimiter>();
};

// Reload from Runtime::configPath; a bad new config is logged and the old one
// kept.  Returns true when the new config is in force; else, with `why`,
// says why (the first error).
bool reloadConfig(std::string* why = nullptr);

} // namespace rfc8314
