// main.cpp — rfc8314-milter: command line, config check, offline test mode,
// the doctor, and the hand-over to the daemon (daemon.cpp).
//
// Exit status: 0 on a clean stop or a good check; 78 (EX_CONFIG) for a bad
// configuration or one the system cannot serve (every error printed with
// file, line and key); 64 for a bad command line; 71 (EX_OSERR) when the
// pid file, audit file, socket, metrics endpoint or privileges cannot be set
// up.
//
// Signals: the ones the daemon handles are blocked on the first line of
// main(), before anything can be delivered (HandledSignals); the modes that
// run no daemon get their original mask back.  The daemon takes SIGTERM,
// SIGINT and SIGHUP as an orderly stop (SIGHUP is *not* a reload) and
// SIGUSR1 as a reload (daemon.cpp).
#include <unistd.h>

#include <boost/program_options.hpp>
#include <climits>
#include <iostream>

#include "daemon.hpp"
#include "doctor.hpp"
#include "offline.hpp"
#include "rfc8314/config.hpp"
#include "rfc8314/tls_names.hpp"
#include "runtime.hpp"
#include "startup.hpp"

namespace po = boost::program_options;
using namespace rfc8314;

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;

const char* const kDefaultConfig = RFC8314_SYSCONFDIR "/rfc8314-milter/rfc8314-milter.conf";

// The daemon changes to / when it detaches; a reload must still find a
// configuration named relative to where it was started.
std::string absolutePath(const std::string& path) {
    if (path.empty() || path.front() == '/')
        return path;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return path;
    return std::string(cwd) + "/" + path;
}

// For the modes that start nothing (-n, -t, --doctor); the daemon's
// failures go through Logger::startup, to syslog too.
void printErrors(const std::vector<ConfigError>& errors) {
    for (const auto& e : errors)
        std::cerr << "rfc8314-milter: " << e.str() << "\n";
    std::cerr << "rfc8314-milter: " << errors.size() << " configuration error(s)\n";
}

} // namespace

int main(int argc, char** argv) {
    // First, before anything can take a signal's default action.
    HandledSignals signals;

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

    const bool daemon = !vm.count("check") && !vm.count("test") && !vm.count("doctor");
    if (!daemon)
        signals.restore();

    auto& rt = Runtime::instance();
    rt.configOptional = !vm.count("config");
    rt.configPath = vm.count("config") ? vm["config"].as<std::string>() : kDefaultConfig;
    rt.overrides = std::move(overrides);

    // Build the cipher registry once, before any thread: the per-message path
    // then makes no OpenSSL calls.
    (void)CipherRegistry::instance();

    auto result = loadConfig(rt.configPath, rt.overrides, rt.configOptional);
    if (!result.config && daemon) {
        // Not started: say why in syslog too, with the built-in syslog
        // settings since the file's could not be read.
        rt.logger().openSyslog(Config());
        for (const auto& e : result.errors)
            rt.logger().startup(LogLevel::Error, e.str());
        rt.logger().startup(LogLevel::Error, std::to_string(result.errors.size()) +
                                                 " configuration error(s); not started");
        return kExitConfig;
    }
    for (const auto& w : result.warnings)
        std::cerr << "rfc8314-milter: warning: " << w << "\n";
    if (!result.config) {
        printErrors(result.errors);
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
        // What the start would refuse beyond the file itself: the same
        // checks, without creating or binding anything.
        auto checks = preflight(*result.config);
        for (const auto& w : checks.warnings)
            std::cerr << "rfc8314-milter: warning: " << w << "\n";
        if (!checks.errors.empty()) {
            printErrors(checks.errors);
            return kExitConfig;
        }
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
        return runOffline(result.config, req, std::cout, std::cerr);
    }
    rt.configPath = absolutePath(rt.configPath);
    return runDaemon(result.config, vm.count("foreground") > 0);
}
