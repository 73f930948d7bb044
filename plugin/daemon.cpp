// daemon.cpp — the daemon's start, detach, service and stop.  See daemon.hpp.
//
// Start (Daemon::start) runs every step that can fail while the process
// that was started still has its standard error: the checks -n shares
// (preflight), the pid file, the audit file (opened as the daemon's user),
// the socket, the metrics endpoint (bound, not yet served), systemd's
// NOTIFY_SOCKET and the milter socket its supervisor will probe, the switch
// to the daemon's user.  Only then does it detach:
// the starting process waits until the daemon has written its pid and says
// it runs, then exits 0 (or with the daemon's own failure).  Every failure
// is written on standard error and to syslog, and what the start had made
// (pid file, socket) is removed.
//
// Service: smfi_main() runs in a thread of its own; the main thread takes
// the handled signals with sigwait().  The reload thread, the metrics
// server and the systemd supervisor (READY=1 once the socket answers, then
// the watchdog) are started after the detach, since threads do not survive
// fork().  That is what makes an orderly stop
// possible: libmilter, when its own signal thread takes SIGTERM, stops its
// worker pool at once (Debian builds it with _FFR_WORKERS_POOL), and every
// open connection is left without an answer until the MTA's timeout.
// Linux hands a signal sent to the process to the main thread first when
// that thread waits for it, so libmilter's signal thread sees one only when
// the main thread is not waiting (two signals within microseconds); then
// smfi_main() returns and the main thread stops as below, with what
// libmilter left running.
//
// Stop (Daemon::drain): systemd is told STOPPING=1 (no watchdog ping after
// it), the listening socket is swapped for a socket nobody can reach (libmilter's listener keeps polling it, harmlessly) and shut
// down, a unix socket's path removed, so the MTA is refused at once and
// applies its own default action; the open connections get up to
// milter_timeout seconds to end (a second stop signal ends the wait; the
// metrics endpoint still answers meanwhile); then the reload thread, the
// metrics server and the supervisor are stopped, the pid file removed, and
// the process ends with _exit().  Static destructors never run: libmilter neither counts nor
// joins its threads, and one that took a connection in the last moment
// could otherwise meet a destroyed configuration, cipher registry or key
// table.
//
// Why ~700 lines in one file: start, detach, the signal loop, the drain and
// the reload thread share one state (the Daemon object: pid file, sockets,
// threads, the drain deadline) whose order of setup and teardown is the
// point of the file; the pieces that stand alone are in startup.cpp,
// pidfile.cpp, notify.cpp and metrics_http.cpp.
#include "daemon.hpp"

#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include "metrics_http.hpp"
#include "milter.hpp"
#include "notify.hpp"
#include "pidfile.hpp"
#include "rfc8314/logfmt.hpp"
#include "runtime.hpp"
#include "startup.hpp"

namespace rfc8314 {

namespace {

constexpr int kExitOsErr = 71;
constexpr int kExitConfig = 78;
constexpr int kHandled[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

using Clock = std::chrono::steady_clock;

// libmilter does not hand out its listening socket: find it, the one
// listening socket this process owns (right after smfi_opensocket()).
int findListener() {
    for (int fd = 0; fd < 1024; ++fd) {
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
            return fd;
    }
    return -1;
}

bool isInet(int fd) {
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    return getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) == 0 &&
           (addr.ss_family == AF_INET || addr.ss_family == AF_INET6);
}

// libmilter writes a header edit and the reply that follows it as two
// small packets and never sets TCP_NODELAY, so on an inet: socket the second
// one waits for the MTA's delayed ACK: about 40 ms per message (measured by
// bench/run.sh; unix sockets are unaffected).  Accepted connections inherit
// the option on Linux.
bool setNoDelay(int fd) {
    const int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

// Stops new MTA connections without telling libmilter (which would stop
// its workers): the listening descriptor is replaced by one end of a
// socket pair whose other end stays open, which never becomes readable and
// which nobody can connect to; libmilter's listener goes on polling it
// (a poll in progress re-examines the descriptor when it wakes).  The real
// socket is then shut down, so connections are refused from now on and
// those in its backlog are reset.
void stopListening(int fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        return; // libmilter closed it already
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return;
    const int old = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (old < 0 || dup3(pair[0], fd, O_CLOEXEC) < 0) {
        if (old >= 0)
            close(old);
        close(pair[0]);
        close(pair[1]);
        return;
    }
    close(pair[0]); // pair[1] stays open until the process ends
    shutdown(old, SHUT_RDWR);
    close(old);
}

// Why libmilter could not open the socket: it says so only in syslog, so
// try the same bind once to have the reason for standard error too.
std::string whyNoSocket(const SocketSpec& s) {
    if (s.kind == SocketSpec::Kind::Local) {
        const auto dir = s.path.substr(0, std::max<std::size_t>(s.path.rfind('/'), 1));
        struct stat st{};
        if (stat(dir.c_str(), &st) != 0)
            return dir + ": " + std::strerror(errno);
        if (lstat(s.path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
            return s.path + " exists and is not a socket";
        return "see the libmilter line in syslog";
    }
    addrinfo hints{};
    hints.ai_family = s.kind == SocketSpec::Kind::Inet ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string host = s.host.size() > 2 && s.host.front() == '['
                                 ? s.host.substr(1, s.host.size() - 2)
                                 : s.host;
    if (getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(s.port).c_str(), &hints,
                    &res) != 0 ||
        !res)
        return "see the libmilter line in syslog";
    std::string why = "see the libmilter line in syslog";
    const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, res->ai_addr, res->ai_addrlen) != 0)
        why = std::strerror(errno);
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return why;
}

// The unix socket this daemon bound, removed at exit or on a failed start
// only while it still is ours (a second instance may have replaced it).
class OwnSocket {
public:
    void record(const std::string& path) {
        struct stat st{};
        if (stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            path_ = path;
            dev_ = st.st_dev;
            ino_ = st.st_ino;
        }
    }
    void remove() noexcept {
        struct stat st{};
        if (!path_.empty() && stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
            st.st_ino == ino_)
            ::unlink(path_.c_str());
        path_.clear();
    }

private:
    std::string path_;
    dev_t dev_{};
    ino_t ino_{};
};

// Runs the reloads the main thread asks for (SIGUSR1), one at a time, so
// a reload never interrupts a callback and the main thread is back in
// sigwait() at once.  Requests made during a reload are merged into one.
class ReloadThread {
public:
    // `reload` runs on the thread, once per (merged) request; it must not
    // throw.
    void start(std::function<void()> reload) {
        auto done = std::make_shared<std::promise<void>>();
        ended_ = done->get_future();
        thread_ = std::thread([this, done, reload = std::move(reload)] {
            std::unique_lock<std::mutex> lock(mu_);
            for (;;) {
                wake_.wait(lock, [this] { return requested_ || stopping_; });
                if (stopping_)
                    break;
                requested_ = false;
                lock.unlock();
                reload();
                lock.lock();
            }
            done->set_value();
        });
    }

    void request() noexcept {
        {
            std::lock_guard<std::mutex> lock(mu_);
            requested_ = true;
        }
        wake_.notify_one();
    }

    // True when the thread ended (a reload in progress finished) before
    // `deadline`; otherwise it is left to the end of the process.
    bool stop(Clock::time_point deadline) noexcept {
        if (!thread_.joinable())
            return true;
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        wake_.notify_one();
        if (ended_.wait_until(deadline) == std::future_status::ready) {
            thread_.join();
            return true;
        }
        thread_.detach();
        return false;
    }

private:
    std::mutex mu_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stopping_ = false;
    std::thread thread_;
    std::future<void> ended_;
};

// smfi_main() in a thread of its own.  When it returns by itself (libmilter
// took a stop signal, or its listener failed) the main thread is told with
// a SIGTERM of its own, which only the main thread can take.
class MilterThread {
public:
    void start() {
        const pthread_t main = pthread_self();
        thread_ = std::thread([this, main] {
            result_.store(smfi_main());
            pthread_kill(main, SIGTERM);
        });
        thread_.detach(); // it may never return: see the top
    }
    // MI_SUCCESS while it runs.
    int result() const noexcept { return result_.load(); }

private:
    std::thread thread_;
    std::atomic<int> result_{MI_SUCCESS};
};

// Ends the process without running static destructors (see the top).
// Under AddressSanitizer the leak check that exit() would have run is run
// here, so a leak still fails the sanitizer build.
[[noreturn]] void endProcess(int status) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    closelog();
#if defined(__SANITIZE_ADDRESS__)
    __lsan_do_leak_check();
#endif
    _exit(status);
}

class Daemon {
public:
    Daemon(std::shared_ptr<const Config> cfg, bool foreground)
        : cfg_(std::move(cfg)), foreground_(foreground), log_(Runtime::instance().logger()) {}

    // Returns only when the start failed.
    int run() {
        if (int rc = start())
            return rc;
        detach();
        endProcess(serve());
    }

private:
    // Every step that can fail, in the order that lets each failure undo
    // what came before it.  Nothing here starts a thread.
    int start() {
        log_.openSyslog(*cfg_);
        {
            // The audit file is opened below, as the daemon's user.
            Config noAudit = *cfg_;
            noAudit.auditFile.clear();
            log_.configure(noAudit);
        }
        auto checks = preflight(*cfg_);
        for (const auto& w : checks.warnings)
            log_.startup(LogLevel::Warning, w);
        if (!checks.errors.empty()) {
            for (const auto& e : checks.errors)
                log_.startup(LogLevel::Error, e.str());
            log_.startup(LogLevel::Error, std::to_string(checks.errors.size()) +
                                              " configuration error(s); not started");
            return kExitConfig;
        }
        who_ = checks.who;
        umask(static_cast<mode_t>(cfg_->umask));

        // The pid file before the socket: a second instance stops here,
        // before it could take over the first one's unix socket.
        if (!cfg_->pidFile.empty()) {
            if (auto why = pid_.acquire(cfg_->pidFile); !why.empty())
                return fail(kExitOsErr, "pid_file: " + why);
            if (who_.switches)
                if (auto why = pid_.chown(who_.uid, who_.gid); !why.empty())
                    return fail(kExitOsErr, "pid_file: " + why);
        }
        {
            // As the daemon's user, so each reopen on SIGUSR1 (log
            // rotation) is made with the same rights as this first open.
            AsUser as(who_);
            if (!as.error().empty())
                return fail(kExitOsErr, "audit_file: " + as.error());
            if (auto why = log_.configure(*cfg_); !why.empty())
                return fail(kExitOsErr, why);
        }
        if (int rc = openSocket())
            return rc;
        if (int rc = openMetrics())
            return rc;
        if (int rc = prepareSupervisor())
            return rc;
        if (auto why = becomeUser(who_); !why.empty())
            return fail(kExitOsErr, why);
        return 0;
    }

    // The metrics endpoint is bound here, as root when started so (a port
    // below 1024 works), so an address in use stops the start; its thread
    // starts in serve().  After openSocket(): findListener() there takes
    // the one listening socket the process has.
    int openMetrics() {
        if (cfg_->metricsListen.empty())
            return 0;
        auto& metrics = enableDaemonMetrics();
        declareListeners(metrics, *cfg_);
        std::string why;
        if (auto addr = parseListenAddress(cfg_->metricsListen, &why))
            metrics_ = MetricsServer::open(*addr, metrics, &why);
        if (!metrics_)
            return fail(kExitOsErr, why);
        return 0;
    }

    // Under systemd (Type=notify, $NOTIFY_SOCKET set), readiness and the
    // watchdog are proven by negotiations over the milter's own socket
    // (notify.hpp): find it now, while a failure can still stop the start.
    int prepareSupervisor() {
        std::string why;
        auto notify = SystemdNotify::fromEnvironment(&why);
        if (!why.empty())
            log_.startup(LogLevel::Warning, why);
        if (!notify.enabled())
            return 0;
        auto endpoint = milterEndpoint(listener_, &why);
        if (!endpoint)
            return fail(kExitOsErr, "systemd readiness: " + why);
        supervisor_ = std::make_unique<ServiceSupervisor>(notify, std::move(*endpoint));
        return 0;
    }

    // One SIGUSR1 reload, on the reload thread: told to systemd
    // (RELOADING=1, then READY=1 with the outcome) and counted.
    void reload() noexcept {
        try {
            if (supervisor_)
                supervisor_->reloading();
            std::string why;
            const bool ok = reloadConfig(&why);
            const auto now = Runtime::instance().current();
            if (auto* m = daemonMetrics()) {
                m->reloaded(ok, std::time(nullptr));
                if (ok && now)
                    declareListeners(*m, *now);
            }
            if (supervisor_)
                supervisor_->reloaded(ok ? "configuration " + configName(now ? *now : *cfg_) +
                                               " reloaded and in force"
                                         : "reload failed, the previous configuration stays in "
                                           "force: " + why);
        } catch (...) {
            // Only an allocation can fail here; reloadConfig() logged the
            // reload's own outcome.
        }
    }

    static std::string configName(const Config& c) {
        return c.file.empty() ? std::string("(built-in defaults)") : c.file;
    }

    int openSocket() {
        auto desc = milterDescription();
        if (smfi_register(desc) != MI_SUCCESS)
            return fail(kExitOsErr, "smfi_register failed");
        if (smfi_setconn(const_cast<char*>(cfg_->socket.c_str())) != MI_SUCCESS)
            return fail(kExitOsErr, "bad socket " + cfg_->socket);
        smfi_settimeout(cfg_->milterTimeout);
        const auto spec = parseSocketSpec(cfg_->socket);
        if (smfi_opensocket(true) != MI_SUCCESS)
            return fail(kExitOsErr, "cannot open socket " + cfg_->socket + ": " +
                                        (spec ? whyNoSocket(*spec) : std::string("bad socket")));
        listener_ = findListener();
        if (spec && spec->kind == SocketSpec::Kind::Local) {
            socket_.record(spec->path);
            if (who_.switches && chown(spec->path.c_str(), who_.uid, who_.gid) != 0)
                return fail(kExitOsErr, "chown " + spec->path + ": " + std::strerror(errno));
        } else if (listener_ < 0 || !isInet(listener_) || !setNoDelay(listener_)) {
            log_.log(LogLevel::Warning,
                     "warning=\"cannot set TCP_NODELAY on the listening socket; each message "
                     "may wait for the MTA's delayed ACK\"");
        }
        return 0;
    }

    // A failed start: the reason on standard error and in syslog, and
    // nothing left of what the start had made.
    int fail(int code, const std::string& why) {
        log_.startup(LogLevel::Error, why + "; not started");
        socket_.remove();
        pid_.remove();
        return code;
    }

    // Without -f: fork; the child is the daemon, the parent waits on a pipe
    // until the child has written its pid and says it runs.  A signal that
    // reached the starting process meanwhile (it was blocked there) is
    // passed on, so `systemctl reload` or a stop right after the start is
    // not lost.  Returns in the daemon only.
    void detach() {
        if (foreground_) {
            if (auto why = pid_.write(getpid()); !why.empty())
                endProcess(fail(kExitOsErr, "pid_file: " + why));
            return;
        }
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) != 0)
            endProcess(fail(kExitOsErr, std::string("pipe: ") + std::strerror(errno)));
        const pid_t child = fork();
        if (child < 0)
            endProcess(fail(kExitOsErr, std::string("fork: ") + std::strerror(errno)));
        if (child > 0) {
            close(ready[1]);
            waitForDaemon(ready[0], child);
        }
        close(ready[0]);
        // The daemon's failures go to syslog here; the waiting parent
        // writes them on standard error.
        auto report = [&](const std::string& why) {
            const std::string msg = std::to_string(kExitOsErr) + " " + why;
            (void)!::write(ready[1], msg.data(), msg.size());
            log_.log(LogLevel::Error, LogLine().add("error", why + "; not started").str());
            socket_.remove();
            pid_.remove();
            endProcess(kExitOsErr);
        };
        const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
            dup2(null, STDERR_FILENO) < 0)
            report(std::string("/dev/null: ") + std::strerror(errno));
        close(null);
        if (setsid() < 0)
            report(std::string("setsid: ") + std::strerror(errno));
        if (chdir("/") != 0)
            report(std::string("chdir /: ") + std::strerror(errno));
        if (auto why = pid_.write(getpid()); !why.empty())
            report("pid_file: " + why);
        (void)!::write(ready[1], "ok", 2);
        close(ready[1]);
    }

    [[noreturn]] static void waitForDaemon(int fd, pid_t child) {
        std::string msg;
        char buf[512];
        for (;;) {
            const ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            msg.append(buf, static_cast<std::size_t>(n));
        }
        if (msg == "ok") {
            sigset_t pending;
            sigemptyset(&pending);
            sigpending(&pending);
            for (int sig : kHandled)
                if (sigismember(&pending, sig))
                    kill(child, sig);
            _exit(0);
        }
        // The daemon wrote its reason to syslog itself; standard error is
        // still ours.
        const auto sp = msg.find(' ');
        if (sp != std::string::npos) {
            std::cerr << "rfc8314-milter: " << msg.substr(sp + 1) << "; not started\n";
            std::cerr.flush();
            _exit(std::atoi(msg.c_str()) > 0 ? std::atoi(msg.c_str()) : kExitOsErr);
        }
        int status = 0;
        waitpid(child, &status, WNOHANG);
        std::cerr << "rfc8314-milter: the daemon process ended during its start"
                  << (WIFSIGNALED(status) ? " (signal " + std::to_string(WTERMSIG(status)) + ")"
                                          : std::string())
                  << "; not started\n";
        std::cerr.flush();
        _exit(kExitOsErr);
    }

    // Serves until a stop signal, then drains; returns the exit status.
    int serve() {
        std::signal(SIGPIPE, SIG_IGN);
        try {
            reload_.start([this] { reload(); });
            milter_.start();
            if (metrics_)
                metrics_->start();
            // READY=1 comes from its thread once the socket answers.
            if (supervisor_)
                supervisor_->start("configuration " + configName(*cfg_) +
                                   " in force; milter socket " + cfg_->socket);
        } catch (const std::exception& e) {
            log_.log(LogLevel::Error,
                     LogLine().add("error", std::string("cannot start a thread: ") + e.what()).str());
            return kExitOsErr;
        }
        LogLine line;
        line.add("event", "start").add("version", RFC8314_VERSION).add("socket", cfg_->socket);
        if (metrics_)
            line.add("metrics", cfg_->metricsListen);
        log_.log(LogLevel::Notice, line.str());

        sigset_t set = handledSet();
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0)
                continue;
            if (sig == SIGUSR1)
                reload_.request();
            else
                return drain(sig);
        }
    }

    static sigset_t handledSet() {
        sigset_t set;
        sigemptyset(&set);
        for (int sig : kHandled)
            sigaddset(&set, sig);
        return set;
    }

    int drain(int sig) {
        auto& sessions = Runtime::instance().sessions();
        // First, so no watchdog probe meets the socket closing.
        if (supervisor_) {
            const char* how = milter_.result() == MI_SUCCESS ? "stopping" : "stopping, smfi_main failed";
            supervisor_->stopping(std::string(how) + " (SIG" + sigabbrev_np(sig) + "): " +
                                  std::to_string(sessions.open()) +
                                  " open connection(s) get up to " +
                                  std::to_string(cfg_->milterTimeout) + " s to end");
        }
        stopListening(listener_);
        socket_.remove();
        const auto deadline = Clock::now() + std::chrono::seconds(cfg_->milterTimeout);
        {
            LogLine line;
            line.add("event", "stopping").add("signal", sigabbrev_np(sig));
            line.add("open_connections", std::to_string(sessions.open()))
                .add("wait_limit", std::to_string(cfg_->milterTimeout) + "s");
            log_.log(LogLevel::Notice, line.str());
        }
        // Reloads still run while the connections end; a second stop
        // signal ends the wait.
        const sigset_t set = handledSet();
        bool cut = false;
        while (sessions.open() > 0 && Clock::now() < deadline && !cut) {
            timespec tick{0, 100 * 1000 * 1000};
            const int got = sigtimedwait(&set, nullptr, &tick);
            if (got == SIGUSR1)
                reload_.request();
            else if (got > 0)
                cut = true;
        }
        const auto left = sessions.open();
        // A reload in progress gets a few seconds even when the
        // connections ended at once.
        const bool reloadEnded =
            reload_.stop(std::max(deadline, Clock::now() + std::chrono::seconds(5)));
        if (metrics_)
            metrics_->stop();
        if (supervisor_)
            supervisor_->stop();
        LogLine line;
        line.add("event", "stop");
        if (left > 0)
            line.add("cut_connections", std::to_string(left));
        if (!reloadEnded)
            line.add("reload", "unfinished");
        if (auto why = pid_.remove(); !why.empty())
            line.add("error", why);
        const int rc = milter_.result();
        if (rc != MI_SUCCESS)
            line.add("error", "smfi_main");
        log_.log(rc == MI_SUCCESS ? LogLevel::Notice : LogLevel::Error, line.str());
        return rc == MI_SUCCESS ? 0 : kExitOsErr;
    }

    std::shared_ptr<const Config> cfg_;
    bool foreground_;
    Logger& log_;
    Identity who_;
    PidFile pid_;
    OwnSocket socket_;
    int listener_ = -1;
    std::unique_ptr<MetricsServer> metrics_;
    std::unique_ptr<ServiceSupervisor> supervisor_;
    ReloadThread reload_;
    MilterThread milter_;
};

} // namespace

HandledSignals::HandledSignals() noexcept {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kHandled)
        sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &oldMask_);
    // An action of "ignore" inherited from the parent (a shell's background
    // job ignores SIGINT) would discard the signal before sigwait could take
    // it; blocked, the default action cannot run.
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (std::size_t i = 0; i < std::size(kHandled); ++i)
        sigaction(kHandled[i], &dfl, &oldActions_[i]);
}

void HandledSignals::restore() noexcept {
    for (std::size_t i = 0; i < std::size(kHandled); ++i)
        sigaction(kHandled[i], &oldActions_[i], nullptr);
    pthread_sigmask(SIG_SETMASK, &oldMask_, nullptr);
}

int runDaemon(const std::shared_ptr<const Config>& cfg, bool foreground) {
    Daemon d(cfg, foreground);
    return d.run();
}

} // namespace rfc8314
