// postfix_conf.cpp — postconf output parsed, and the grammar the Postfix
// judge needs (see postfix_conf.hpp).
#include "postfix_conf.hpp"

#include <sstream>

#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {

namespace {

// postconf's "name = value" lines, trimmed; lines without '=' skipped.
std::vector<std::pair<std::string, std::string>> assignments(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos)
            out.emplace_back(trimmed(line.substr(0, eq)), trimmed(line.substr(eq + 1)));
    }
    return out;
}

} // namespace

std::map<std::string, std::string> parsePostconfMain(std::string_view text) {
    std::map<std::string, std::string> out;
    for (auto& [name, value] : assignments(text))
        if (!name.empty() && name.find(' ') == std::string::npos)
            out[name] = std::move(value);
    return out;
}

std::vector<PostfixService> parsePostconfMaster(std::string_view text) {
    std::vector<PostfixService> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        const auto t = trimmed(line);
        if (t.empty() || t.front() == '#')
            continue;
        const auto toks = splitList(t, " \t");
        if (toks.size() < 8)
            continue;
        PostfixService s;
        s.name = toks[0];
        s.type = toks[1];
        s.priv = toks[2];
        s.unpriv = toks[3];
        s.chroot = toks[4];
        s.wakeup = toks[5];
        s.maxproc = toks[6];
        s.command = toks[7];
        s.line = t;
        out.push_back(s);
    }
    return out;
}

void applyPostconfOverrides(std::vector<PostfixService>& services, std::string_view text) {
    for (const auto& [name, value] : assignments(text)) {
        const auto key = splitList(name, "/");
        if (key.size() != 3)
            continue;
        for (auto& s : services)
            if (s.name == key[0] && s.type == key[1])
                s.overrides[key[2]] = value;
    }
}

const std::vector<std::string>& postfixParameters() {
    static const std::vector<std::string> names = {
        "mail_version",
        "queue_directory",
        "mail_owner",
        "smtpd_milters",
        "milter_protocol",
        "milter_default_action",
        "milter_connect_timeout",
        "milter_command_timeout",
        "milter_content_timeout",
        "milter_connect_macros",
        "milter_helo_macros",
        "milter_mail_macros",
        "milter_end_of_data_macros",
        "milter_macro_daemon_name",
        "smtpd_tls_auth_only",
        "smtpd_sasl_auth_enable",
        "smtpd_tls_wrappermode",
        "smtpd_tls_security_level",
        "smtpd_use_tls",
        "smtpd_enforce_tls",
        "smtpd_tls_protocols",
        "smtpd_tls_mandatory_protocols",
        "smtpd_tls_cert_file",
        "smtpd_tls_eccert_file",
        "smtpd_tls_dcert_file",
        "smtpd_tls_chain_files",
        "smtpd_milter_maps",
        "inet_protocols",
    };
    return names;
}

const std::vector<std::string>& postfixCertParameters() {
    static const std::vector<std::string> names = {"smtpd_tls_chain_files", "smtpd_tls_cert_file",
                                                   "smtpd_tls_eccert_file", "smtpd_tls_dcert_file"};
    return names;
}

std::vector<std::pair<std::string, std::string>> serviceCertFiles(const PostfixConf& pf,
                                                                  const PostfixService& s) {
    std::vector<std::pair<std::string, std::string>> out;
    // Postfix 3.4: chain files, when set, replace the older parameters.
    for (const auto& path : splitList(serviceValue(pf, s, "smtpd_tls_chain_files"), ", \t"))
        out.emplace_back("smtpd_tls_chain_files", path);
    if (!out.empty())
        return out;
    for (const auto& param : postfixCertParameters()) {
        const auto v = trimmed(serviceValue(pf, s, param));
        if (param != "smtpd_tls_chain_files" && !v.empty())
            out.emplace_back(param, v);
    }
    return out;
}

std::string postfixUser(const PostfixConf& pf) {
    auto u = mainValue(pf.main, "mail_owner");
    return u.empty() ? std::string("postfix") : u;
}

std::vector<PfMilter> parsePostfixMilterList(std::string_view v) {
    std::vector<PfMilter> out;
    std::size_t i = 0;
    auto isSep = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n'; };
    while (i < v.size()) {
        if (isSep(v[i])) {
            ++i;
            continue;
        }
        if (v[i] == '{') {
            const auto close = v.find('}', i);
            const auto inner = v.substr(
                i + 1, close == std::string_view::npos ? std::string_view::npos : close - i - 1);
            const auto parts = splitList(inner, ",");
            PfMilter m;
            for (std::size_t k = 0; k < parts.size(); ++k) {
                const auto t = trimmed(parts[k]);
                if (k == 0) {
                    m.spec = t;
                    continue;
                }
                const auto eq = t.find('=');
                if (eq != std::string::npos)
                    m.settings[trimmed(t.substr(0, eq))] = trimmed(t.substr(eq + 1));
            }
            if (!m.spec.empty())
                out.push_back(m);
            i = close == std::string_view::npos ? v.size() : close + 1;
            continue;
        }
        std::size_t j = i;
        while (j < v.size() && !isSep(v[j]))
            ++j;
        out.push_back({std::string(v.substr(i, j - i)), {}});
        i = j;
    }
    return out;
}

std::string mainValue(const std::map<std::string, std::string>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
}

std::string serviceValue(const PostfixConf& pf, const PostfixService& s, const std::string& k,
                         bool* overridden) {
    const auto it = s.overrides.find(k);
    if (overridden)
        *overridden = it != s.overrides.end();
    return it != s.overrides.end() ? it->second : mainValue(pf.main, k);
}

bool yes(const std::string& v) { return text::lower(text::trimSpace(v)) == "yes"; }

std::string serviceLineWith(const PostfixService& s, const std::string& key,
                            const std::string& value) {
    const auto toks = splitList(s.line, " \t");
    std::vector<std::string> out;
    bool done = false;
    for (std::size_t i = 0; i < toks.size(); ++i) {
        if (toks[i] == "-o" && i + 1 < toks.size()) {
            if (toks[i + 1] == "{") {
                // -o { key = value } — skip the group if it sets our key.
                std::size_t j = i + 2;
                std::vector<std::string> grp;
                while (j < toks.size() && toks[j] != "}")
                    grp.push_back(toks[j++]);
                const std::string g = join(grp, " ");
                if (trimmed(g.substr(0, g.find('='))) == key) {
                    if (!done)
                        out.push_back("-o " + key + "=" + value);
                    done = true;
                    i = j;
                    continue;
                }
            } else if (startsWith(toks[i + 1], key + "=")) {
                if (!done)
                    out.push_back("-o " + key + "=" + value);
                done = true;
                ++i;
                continue;
            }
        }
        out.push_back(toks[i]);
    }
    if (!done)
        out.push_back("-o " + key + "=" + value);
    return join(out, " ");
}

bool postfixChrooted(const PostfixConf& pf, const PostfixService& s) {
    if (s.chroot == "y")
        return true;
    if (s.chroot != "-")
        return false;
    // "-" is the built-in default: y before Postfix 3.0, n since.
    const auto v = mainValue(pf.main, "mail_version");
    const auto major = number(v.substr(0, v.find('.')));
    return major && *major < 3;
}

std::string postfixUnixPath(const PostfixConf& pf, const std::string& path, bool chrooted) {
    const std::string queue = mainValue(pf.main, "queue_directory");
    if (path.empty() || path.front() != '/' || chrooted)
        return normPath(queue + "/" + path);
    return normPath(path);
}

std::optional<std::string> postfixSpellingFor(const PostfixConf& pf, const SocketAddr& milter,
                                              bool chrooted) {
    if (milter.kind == SocketAddr::Kind::Inet || !chrooted)
        return postfixSpelling(milter);
    const std::string queue = normPath(mainValue(pf.main, "queue_directory"));
    const std::string path = normPath(milter.path);
    if (!startsWith(path, queue + "/"))
        return std::nullopt;
    return "unix:" + path.substr(queue.size());
}

} // namespace rfc8314::doctor
