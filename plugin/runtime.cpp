// runtime.cpp — config holder and log sinks.  See runtime.hpp.
#include "runtime.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rfc8314/logfmt.hpp"

namespace rfc8314 {

namespace {

int facilityCode(const std::string& name) {
    if (name == "daemon") return LOG_DAEMON;
    if (name == "user") return LOG_USER;
    if (name == "local0") return LOG_LOCAL0;
    if (name == "local1") return LOG_LOCAL1;
    if (name == "local2") return LOG_LOCAL2;
    if (name == "local3") return LOG_LOCAL3;
    if (name == "local4") return LOG_LOCAL4;
    if (name == "local5") return LOG_LOCAL5;
    if (name == "local6") return LOG_LOCAL6;
    if (name == "local7") return LOG_LOCAL7;
    return LOG_MAIL;
}

int priority(LogLevel l) {
    switch (l) {
    case LogLevel::Error: return LOG_ERR;
    case LogLevel::Warning: return LOG_WARNING;
    case LogLevel::Notice: return LOG_NOTICE;
    case LogLevel::Info: return LOG_INFO;
    case LogLevel::Debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

void writeAll(int fd, const std::string& s) noexcept {
    const char* p = s.data();
    std::size_t left = s.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// writev until every part is written (or an error other than EINTR).
void writevAll(int fd, iovec* parts, int count) noexcept {
    while (count > 0) {
        const ssize_t n = ::writev(fd, parts, count);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        auto done = static_cast<std::size_t>(n);
        while (count > 0 && done >= parts->iov_len) {
            done -= parts->iov_len;
            ++parts;
            --count;
        }
        if (count > 0) {
            parts->iov_base = static_cast<char*>(parts->iov_base) + done;
            parts->iov_len -= done;
        }
    }
}

} // namespace

Logger::AuditFile::~AuditFile() {
    if (fd >= 0)
        ::close(fd);
}

void Logger::openSyslog(const Config& c) {
    std::lock_guard<std::mutex> lock(mu_);
    syslog_ = c.syslog;
    if (syslog_)
        openlog("rfc8314-milter", LOG_PID | LOG_NDELAY, facilityCode(c.syslogFacility));
}

std::string Logger::configure(const Config& c) {
    std::shared_ptr<AuditFile> file;
    std::string error;
    if (!c.auditFile.empty()) {
        file = std::make_shared<AuditFile>();
        file->path = c.auditFile;
        file->fd = ::open(c.auditFile.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (file->fd < 0) {
            error = "cannot open audit_file " + c.auditFile + ": " + std::strerror(errno);
            file.reset();
        }
    }
    std::lock_guard<std::mutex> lock(mu_);
    stderr_ = c.logStderr;
    level_ = c.logLevel;
    // A reopen that fails (the file was rotated to a place the daemon's user
    // cannot write, say) keeps the open descriptor rather than losing every
    // audit event from now on.
    if (!file && !error.empty() && audit_ && audit_->path == c.auditFile) {
        error += "; still writing to the file opened before";
        return error;
    }
    audit_ = std::move(file);
    return error;
}

void Logger::startup(LogLevel level, const std::string& text) noexcept {
    bool toSyslog;
    {
        std::lock_guard<std::mutex> lock(mu_);
        toSyslog = syslog_;
    }
    try {
        // The log grammar (and its escaping) in syslog, plain text for the
        // person at the terminal.
        if (toSyslog) {
            LogLine line;
            line.add(level == LogLevel::Warning ? "warning" : "error", text);
            ::syslog(priority(level), "%s", line.str().c_str());
        }
        writeAll(STDERR_FILENO, std::string("rfc8314-milter: ") +
                                    (level == LogLevel::Warning ? "warning: " : "") + text + "\n");
    } catch (...) {
    }
}

void Logger::log(LogLevel level, const std::string& line) noexcept {
    bool toSyslog, toStderr;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (level > level_)
            return;
        toSyslog = syslog_;
        toStderr = stderr_;
    }
    if (toSyslog)
        ::syslog(priority(level), "%s", line.c_str());
    if (toStderr) {
        // No allocation and no copy of the line: this runs for every audit
        // line.  The prefix on the stack, the three parts in one writev,
        // one line in one system call as before.
        char prefix[48] = "rfc8314-milter[";
        char digits[24];
        char* d = digits + sizeof digits;
        auto n = static_cast<unsigned long>(::getpid());
        do {
            *--d = static_cast<char>('0' + n % 10);
            n /= 10;
        } while (n);
        const std::size_t pidSize = static_cast<std::size_t>(digits + sizeof digits - d);
        const std::size_t lead = sizeof "rfc8314-milter[" - 1;
        std::memcpy(prefix + lead, d, pidSize);
        std::memcpy(prefix + lead + pidSize, "]: ", 3);
        char newline = '\n';
        iovec parts[3] = {{prefix, lead + pidSize + 3},
                          {const_cast<char*>(line.data()), line.size()},
                          {&newline, 1}};
        writevAll(STDERR_FILENO, parts, 3);
    }
}

void Logger::audit(const std::string& json) noexcept {
    std::shared_ptr<AuditFile> file;
    {
        std::lock_guard<std::mutex> lock(mu_);
        file = audit_;
    }
    if (!file || json.empty())
        return;
    try {
        // One write per event: O_APPEND keeps concurrent events whole.
        writeAll(file->fd, json + "\n");
    } catch (...) {
    }
}

void SessionGauge::opened() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    ++open_;
}

void SessionGauge::closed() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_ > 0 && --open_ == 0)
        idle_.notify_all();
}

std::size_t SessionGauge::open() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
}

std::size_t SessionGauge::waitIdle(std::chrono::steady_clock::time_point deadline) const noexcept {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait_until(lock, deadline, [this] { return open_ == 0; });
    return open_;
}

OpenSession::OpenSession() noexcept { Runtime::instance().sessions().opened(); }

OpenSession::~OpenSession() { Runtime::instance().sessions().closed(); }

Runtime& Runtime::instance() {
    static Runtime r;
    return r;
}

std::shared_ptr<const Config> Runtime::current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
}

void Runtime::replace(std::shared_ptr<const Config> c) {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = std::move(c);
}

bool reloadConfig(std::string* why) {
    auto& rt = Runtime::instance();
    auto note = [&](LogLevel level, std::string_view status, std::string_view what) {
        LogLine line;
        line.add("event", "reload").add("status", status).add("file", rt.configPath);
        if (!what.empty())
            line.add("detail", what);
        rt.logger().log(level, line.str());
    };
    auto result = loadConfig(rt.configPath, rt.overrides, rt.configOptional);
    if (!result.config) {
        for (const auto& e : result.errors)
            note(LogLevel::Error, "error", e.str());
        note(LogLevel::Error, "failed", "keeping the running configuration");
        if (why)
            *why = result.errors.empty() ? std::string("no configuration") : result.errors.front().str();
        return false;
    }
    for (const auto& w : result.warnings)
        note(LogLevel::Warning, "warning", w);
    auto old = rt.current();
    if (old) {
        for (const auto& k : restartOnlyChanges(*old, *result.config))
            note(LogLevel::Warning, "warning", k + " changed; it takes effect at the next restart");
    }
    auto err = rt.logger().configure(*result.config);
    if (!err.empty())
        note(LogLevel::Error, "error", err);
    rt.replace(result.config);
    note(LogLevel::Notice, "ok", "");
    return true;
}

} // namespace rfc8314
