// main.cpp — rfc8314-milter: command line, config check, offline test mode
// and the daemon's start-up (socket, privileges, signals, smfi_main).
//
// Exit status: 0 on a clean stop or a good check; 78 (EX_CONFIG) for a bad
// configuration (every error printed with file, line and key); 64 for a bad
// command line; 71 (EX_OSERR) when the socket or privileges cannot be set up.
//
// Signals: libmilter's own signal thread stops the filter on SIGTERM, SIGINT
// and SIGHUP (SIGHUP is *not* a reload).  SIGUSR1 reloads the reloadable part
// of the configuration; it is blocked before any thread starts and taken by a
// dedicated sigwait() thread, so it can never interrupt a callback.
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "doctor.hpp"
#include "metrics_http.hpp"
#include "milter.hpp"
#include "notify.hpp"
#include "offline.hpp"
#include "rfc8314/config.hpp"
#include "rfc8314/logfmt.hpp"
#include "rfc8314/tls_names.hpp"
#include "runtime.hpp"

namespace po = boost::program_options;
using namespace rfc8314;

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitOsErr = 71;
constexpr int kExitConfig = 78;

const char* const kDefaultConfig = RFC8314_SYSCONFDIR "/rfc8314-milter/rfc8314-milter.conf";

std::string socketPath(const std::string& spec) {
    for (const char* prefix : {"local:", "unix:"}) {
        if (spec.rfind(prefix, 0) == 0)
            return spec.substr(std::strlen(prefix));
    }
    return {};
}

int dropPrivileges(const Config& cfg) {
    if (cfg.user.empty())
        return 0;
    if (geteuid() != 0) {
        std::cerr << "rfc8314-milter: user is set but not running as root; staying "
                  << "the current user\n";
        return 0;
    }
    errno = 0;
    struct passwd* pw = getpwnam(cfg.user.c_str());
    if (!pw) {
        std::cerr << "rfc8314-milter: unknown user " << cfg.user << "\n";
        return kExitOsErr;
    }
    gid_t gid = pw->pw_gid;
    if (!cfg.group.empty()) {
        struct group* gr = getgrnam(cfg.group.c_str());
        if (!gr) {
            std::cerr << "rfc8314-milter: unknown group " << cfg.group << "\n";
            return kExitOsErr;
        }
        gid = gr->gr_gid;
    }
    auto path = socketPath(cfg.socket);
    if (!path.empty() && chown(path.c_str(), pw->pw_uid, gid) != 0) {
        std::cerr << "rfc8314-milter: chown " << path << ": " << std::strerror(errno) << "\n";
        return kExitOsErr;
    }
    if (initgroups(pw->pw_name, gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
        std::cerr << "rfc8314-milter: cannot switch to " << cfg.user << ": "
                  << std::strerror(errno) << "\n";
        return kExitOsErr;
    }
    return 0;
}

// libmilter writes a header edit and the reply that follows it as two
// small packets and never sets TCP_NODELAY, so on an inet: socket the second
// one waits for the MTA's delayed ACK: about 40 ms per message (measured by
// bench/run.sh; unix sockets are unaffected).  libmilter does not hand out
// its listening socket, so find it: the one listening TCP socket we own.
// Accepted connections inherit the option on Linux.  Returns how many
// sockets were set.
int setNoDelayOnListeners() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd) {
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
            continue;
        sockaddr_storage addr{};
        socklen_t alen = sizeof addr;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0 ||
            (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
            continue;
        const int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
            ++n;
    }
    return n;
}

std::string configName(const Config& c) {
    return c.file.empty() ? std::string("(built-in defaults)") : c.file;
}

// Each reload is told to systemd (RELOADING=1, then READY=1 with the
// outcome) and counted; `supervisor` may be null (not under systemd).
void reloadLoop(sigset_t set, std::shared_ptr<ServiceSupervisor> supervisor) {
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig != SIGUSR1)
            continue;
        if (supervisor)
            supervisor->reloading();
        std::string why;
        const bool ok = reloadConfig(&why);
        auto now = Runtime::instance().current();
        if (auto* m = daemonMetrics()) {
            m->reloaded(ok, std::time(nullptr));
            if (ok && now)
                declareListeners(*m, *now);
        }
        if (supervisor)
            supervisor->reloaded(ok ? "configuration " + (now ? configName(*now) : "") +
                                          " reloaded and in force"
                                    : "reload failed, the previous configuration stays in "
                                      "force: " + why);
    }
}

int runDaemon(const std::shared_ptr<const Config>& cfg, bool foreground) {
    auto& rt = Runtime::instance();
    rt.logger().openSyslog(*cfg);
    // The audit file is opened once the daemon runs as its own user (below),
    // so that every reopen on SIGUSR1 is made with the same rights.
    {
        Config noAudit = *cfg;
        noAudit.auditFile.clear();
        rt.logger().configure(noAudit);
    }

    umask(static_cast<mode_t>(cfg->umask));
    auto desc = milterDescription();
    if (smfi_register(desc) != MI_SUCCESS) {
        std::cerr << "rfc8314-milter: smfi_register failed\n";
        return kExitOsErr;
    }
    if (smfi_setconn(const_cast<char*>(cfg->socket.c_str())) != MI_SUCCESS) {
        std::cerr << "rfc8314-milter: bad socket " << cfg->socket << "\n";
        return kExitOsErr;
    }
    smfi_settimeout(cfg->milterTimeout);
    if (smfi_opensocket(true) != MI_SUCCESS) {
        std::cerr << "rfc8314-milter: cannot open socket " << cfg->socket << "\n";
        return kExitOsErr;
    }
    if ((cfg->socket.rfind("inet:", 0) == 0 || cfg->socket.rfind("inet6:", 0) == 0) &&
        setNoDelayOnListeners() == 0)
        rt.logger().log(LogLevel::Warning,
                        "warning=\"cannot set TCP_NODELAY on the listening socket; each message "
                        "may wait for the MTA's delayed ACK\"");
    // Under systemd (Type=notify), readiness and the watchdog are proven
    // by negotiations over this very socket (notify.hpp).
    std::shared_ptr<ServiceSupervisor> supervisor;
    {
        std::string why;
        auto notify = SystemdNotify::fromEnvironment(&why);
        if (!why.empty())
            rt.logger().log(LogLevel::Warning, LogLine().add("warning", why).str());
        if (notify.enabled()) {
            auto endpoint = findMilterEndpoint(cfg->socket, &why);
            if (!endpoint) {
                std::cerr << "rfc8314-milter: systemd readiness: " << why << "\n";
                return kExitOsErr;
            }
            supervisor = std::make_shared<ServiceSupervisor>(notify, std::move(*endpoint));
        }
    }
    // The metrics endpoint is bound now, so an address in use stops the start.
    std::unique_ptr<MetricsServer> metricsServer;
    if (!cfg->metricsListen.empty()) {
        auto& metrics = enableDaemonMetrics();
        declareListeners(metrics, *cfg);
        std::string why;
        if (auto addr = parseListenAddress(cfg->metricsListen, &why))
            metricsServer = MetricsServer::open(*addr, metrics, &why);
        if (!metricsServer) {
            std::cerr << "rfc8314-milter: " << why << "\n";
            return kExitOsErr;
        }
    }
    if (!foreground) {
        if (daemon(0, 0) != 0) {
            std::cerr << "rfc8314-milter: daemon: " << std::strerror(errno) << "\n";
            return kExitOsErr;
        }
    }
    if (!cfg->pidFile.empty()) {
        std::ofstream pf(cfg->pidFile, std::ios::trunc);
        pf << getpid() << "\n";
        if (!pf) {
            rt.logger().log(LogLevel::Error, "cannot write pid_file " + cfg->pidFile);
            return kExitOsErr;
        }
    }
    if (int rc = dropPrivileges(*cfg))
        return rc;
    if (auto err = rt.logger().configure(*cfg); !err.empty()) {
        LogLine line;
        line.add("error", err);
        rt.logger().log(LogLevel::Error, line.str());
        std::cerr << "rfc8314-milter: " << err << "\n";
        return kExitOsErr;
    }

    // Every thread, ours and libmilter's, must have the stop signals and
    // SIGUSR1 blocked, or the kernel may hand a process signal to a thread
    // that takes the default action and kills the filter without cleanup.
    // libmilter's own signal thread then takes SIGTERM, SIGINT and SIGHUP
    // (all three stop it); reloadLoop takes SIGUSR1.  A disposition of
    // "ignore" inherited from the parent (a shell's background job ignores
    // SIGINT) would make sigwait miss the signal, so reset them first.
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        std::signal(sig, SIG_DFL);
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t blocked;
    sigemptyset(&blocked);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&blocked, sig);
    pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    std::thread(reloadLoop, set, supervisor).detach();
    if (metricsServer)
        metricsServer->start();

    LogLine line;
    line.add("event", "start").add("version", RFC8314_VERSION).add("socket", cfg->socket);
    if (metricsServer)
        line.add("metrics", cfg->metricsListen);
    rt.logger().log(LogLevel::Notice, line.str());
    if (supervisor)
        supervisor->start("configuration " + configName(*cfg) + " in force; milter socket " +
                          cfg->socket);
    int rc = smfi_main();
    if (supervisor)
        supervisor->stopping(rc == MI_SUCCESS ? "stopping" : "stopping: smfi_main failed");
    rt.logger().log(LogLevel::Notice, rc == MI_SUCCESS ? "event=stop" : "event=stop, error=smfi_main");
    if (metricsServer)
        metricsServer->stop();
    if (supervisor)
        supervisor->stop();
    if (!cfg->pidFile.empty())
        unlink(cfg->pidFile.c_str());
    return rc == MI_SUCCESS ? 0 : kExitOsErr;
}

} // namespace

int main(int argc, char** argv) {
    po::options_description cmd("Options");
    cmd.add_options()
        ("help,h", "print this help and exit")
        ("version,V", "print the version and exit")
        ("config,c", po::value<std::string>(), "configuration file (default " RFC8314_SYSCONFDIR
                                               "/rfc8314-milter/rfc8314-milter.conf)")
        ("foreground,f", "stay in the foreground (for systemd)")
        ("check,n", "check the configuration, print every error, exit 0 or 78")
        ("test,t", "offline test mode: show facts, trace field, verdict and log lines for "
                   "the macros given with --macro")
        ("macro", po::value<std::vector<std::string>>()->composing(),
         "with -t: NAME=VALUE as the MTA would pass it, e.g. '{cipher}=ECDHE-RSA-AES128-GCM-SHA256'")
        ("helo", po::value<std::string>(), "with -t: the HELO/EHLO argument")
        ("rcpt", po::value<std::vector<std::string>>()->composing(), "with -t: a recipient")
        ("received", po::value<std::string>(),
         "with -t: an MTA's own Received value; show it with the tls clauses added")
        ("doctor", "check how the local Postfix/Sendmail is wired to this milter; exit 0 "
                   "when all is well, 1 with findings")
        ("postfix-config", po::value<std::string>(), "with --doctor: Postfix config directory "
                                                      "(postconf -c DIR)")
        ("sendmail-cf", po::value<std::string>(), "with --doctor: sendmail.cf to read (default "
                                                   "/etc/mail/sendmail.cf)");
    // The config keys come from the same table, with the same value
    // semantics, as the file's: recognised here, converted and checked by
    // loadConfig() after the file (so a bad value is a config error, exit 78,
    // reported with every other), and kept for each SIGUSR1 reload.
    po::options_description keys("Configuration keys (also accepted on the command line as "
                                 "--key=value; they override the file)");
    keys.add(globalOptions());
    po::options_description all;
    all.add(cmd).add(keys);

    po::variables_map vm;
    std::vector<ConfigOverride> overrides;
    try {
        auto parsed = po::command_line_parser(argc, argv).options(all).run();
        po::parsed_options options(&cmd);
        for (auto& o : parsed.options) {
            if (keys.find_nothrow(o.string_key, false))
                overrides.push_back({o.string_key, o.value.empty() ? std::string() : o.value.front()});
            else
                options.options.push_back(std::move(o));
        }
        po::store(options, vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "rfc8314-milter: " << e.what() << "\n"
                  << "try 'rfc8314-milter --help'\n";
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << "usage: rfc8314-milter [-c FILE] [-f] [-n] [-t --macro NAME=VALUE ...]\n\n"
                  << all << "\nSignals: SIGUSR1 reloads the configuration; SIGTERM, SIGINT and "
                     "SIGHUP stop the filter.\n";
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "rfc8314-milter " << RFC8314_VERSION << "\n";
        return 0;
    }

    auto& rt = Runtime::instance();
    rt.configOptional = !vm.count("config");
    rt.configPath = vm.count("config") ? vm["config"].as<std::string>() : kDefaultConfig;
    rt.overrides = std::move(overrides);

    // Build the cipher registry once, before any thread: the per-message path
    // then makes no OpenSSL calls.
    (void)CipherRegistry::instance();

    auto result = loadConfig(rt.configPath, rt.overrides, rt.configOptional);
    for (const auto& w : result.warnings)
        std::cerr << "rfc8314-milter: warning: " << w << "\n";
    if (!result.config) {
        for (const auto& e : result.errors)
            std::cerr << "rfc8314-milter: " << e.str() << "\n";
        std::cerr << "rfc8314-milter: " << result.errors.size()
                  << " configuration error(s); not started\n";
        return kExitConfig;
    }
    rt.replace(result.config);

    if (vm.count("doctor")) {
        doctor::Options dopts;
        if (vm.count("postfix-config"))
            dopts.postfixConfig = vm["postfix-config"].as<std::string>();
        if (vm.count("sendmail-cf"))
            dopts.sendmailCf = vm["sendmail-cf"].as<std::string>();
        return doctor::runDoctor(*result.config, dopts, std::cout);
    }

    if (vm.count("check")) {
        std::cout << "rfc8314-milter: configuration "
                  << (result.config->file.empty() ? std::string("(built-in defaults)")
                                                  : result.config->file)
                  << " is valid\n";
        return 0;
    }
    if (vm.count("test")) {
        OfflineRequest req;
        if (vm.count("macro"))
            req.macros = vm["macro"].as<std::vector<std::string>>();
        if (vm.count("helo"))
            req.helo = vm["helo"].as<std::string>();
        if (vm.count("rcpt"))
            req.rcpts = vm["rcpt"].as<std::vector<std::string>>();
        if (vm.count("received"))
            req.received = vm["received"].as<std::string>();
        return runOffline(result.config, req, std::cout, std::cerr);
    }
    return runDaemon(result.config, vm.count("foreground") > 0);
}
