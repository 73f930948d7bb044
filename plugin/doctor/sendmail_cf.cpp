// sendmail_cf.cpp — sendmail.cf parsed (see sendmail_cf.hpp).
#include "sendmail_cf.hpp"

#include <sstream>

#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {
namespace {

SendmailDaemon parseDaemon(const std::string& value, std::size_t index) {
    SendmailDaemon d;
    d.value = value;
    d.name = "Daemon" + std::to_string(index);
    d.portText = "smtp";
    for (const auto& part : splitList(value, ",")) {
        const auto eq = part.find('=');
        if (eq == std::string::npos)
            continue;
        const auto key = trimmed(part.substr(0, eq));
        const auto val = trimmed(part.substr(eq + 1));
        if (key.empty())
            continue;
        // Sendmail itself looks only at the first letter of each key.
        switch (text::toUpper(key[0])) {
        case 'P': d.portText = val; break;
        case 'N': d.name = val; break;
        case 'A': d.addr = val; break;
        case 'M': d.modifiers = val; break;
        case 'I': d.inputFilters = val; break;
        default: break;
        }
    }
    d.port = portOf(d.portText);
    return d;
}

} // namespace

SendmailCf parseSendmailCf(std::string_view text) {
    SendmailCf cf;
    // Join continuation lines (leading blank) first, as Sendmail does.
    std::vector<std::string> lines;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !lines.empty())
            lines.back() += " " + trimmed(line);
        else
            lines.push_back(line);
    }
    for (const auto& l : lines) {
        if (startsWith(l, "DZ")) {
            cf.version = trimmed(l.substr(2));
        } else if (startsWith(l, "O ")) {
            const auto rest = l.substr(2);
            const auto eq = rest.find('=');
            const auto name = trimmed(rest.substr(0, eq));
            const auto value =
                eq == std::string::npos ? std::string() : trimmed(rest.substr(eq + 1));
            if (name == "DaemonPortOptions")
                cf.daemons.push_back(parseDaemon(value, cf.daemons.size()));
            else
                cf.options[name] = value;
        } else if (startsWith(l, "X") && l.size() > 1) {
            const auto parts = splitList(l.substr(1), ",");
            if (parts.empty())
                continue;
            SendmailFilter f;
            f.line = l;
            f.name = trimmed(parts[0]);
            for (std::size_t i = 1; i < parts.size(); ++i) {
                const auto p = trimmed(parts[i]);
                const auto eq = p.find('=');
                if (eq == std::string::npos)
                    continue;
                const auto key = text::lower(trimmed(p.substr(0, eq)));
                const auto val = trimmed(p.substr(eq + 1));
                if (key == "s") {
                    f.socket = val;
                } else if (key == "f") {
                    f.flags = val;
                    f.hasFlags = true;
                } else if (key == "t") {
                    f.timeouts = val;
                }
            }
            cf.filters.push_back(f);
        }
    }
    return cf;
}

std::string option(const SendmailCf& sm, const std::string& name) {
    const auto it = sm.options.find(name);
    return it == sm.options.end() ? std::string() : it->second;
}

std::string daemonValueWithModifiers(const SendmailDaemon& d, const std::string& modifiers) {
    std::vector<std::string> parts;
    bool had = false;
    for (const auto& p : splitList(d.value, ",")) {
        const auto t = trimmed(p);
        if (t.empty())
            continue;
        if (text::toUpper(t[0]) == 'M' && t.find('=') != std::string::npos) {
            had = true;
            if (!modifiers.empty())
                parts.push_back("M=" + modifiers);
        } else {
            parts.push_back(t);
        }
    }
    if (!had && !modifiers.empty())
        parts.push_back("M=" + modifiers);
    return join(parts, ", ");
}

std::string sendmailDefaultMacros(std::string_view stage) {
    if (stage == "connect")
        return "j, _, {daemon_name}, {if_name}, {if_addr}";
    if (stage == "helo")
        return "{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}";
    if (stage == "envfrom")
        return "i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, "
               "{mail_host}, {mail_addr}";
    if (stage == "eom")
        return "{msg_id}";
    return {};
}

std::string filterLine(const SendmailFilter& f, const std::string& flags) {
    std::string l = "X" + f.name + ", S=" + f.socket;
    if (!flags.empty())
        l += ", F=" + flags;
    if (!f.timeouts.empty())
        l += ", T=" + f.timeouts;
    return l;
}

std::string mcFilterLine(const std::string& name, const std::string& socket,
                         const std::string& flags, const std::string& timeouts) {
    return "INPUT_MAIL_FILTER(`" + name + "', `S=" + socket + ", F=" + flags + ", T=" + timeouts +
           "')dnl";
}

} // namespace rfc8314::doctor
