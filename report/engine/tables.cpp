// tables.cpp — the report's tables and their text, CSV and JSON
// renderings.  See tables.hpp.
//
// Text and CSV share one table model, so a column can never be in one and
// missing from the other.  Everything that came from the log (user names
// above all) is written through an escaper for the target format: text
// shows it as the log did (escapeLogValue, so a control byte cannot move
// the terminal's cursor), CSV quotes per RFC 4180, JSON uses jsonEscape.
//
// Why ~600 lines in one file: every table (summary, days, ciphers, users,
// clients, hosts, cleartext, what-if) is built here from the one model, so a
// column added to one is seen beside the others and the three renderings
// stay in step.
#include "tables.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "rfc8314/logfmt.hpp"

namespace rfc8314::report {

namespace {

std::string num(std::uint64_t n) { return std::to_string(n); }

// A share in percent with one decimal, "33.3": the TLS mix columns.
std::string pct(std::uint64_t part, std::uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
    return buf;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
    return buf;
}

// A list cell: names joined by ' ' (a space never occurs in a bare log
// value, and the text form escapes any name that has one).
std::string joined(const std::vector<std::string_view>& names, bool text) {
    std::string out;
    for (auto n : names) {
        if (!out.empty())
            out += ' ';
        out += text ? escapeLogValue(n) : std::string(n);
    }
    return out;
}

std::string shown(std::string_view s, bool text) { return text ? escapeLogValue(s) : std::string(s); }

bool wanted(const OutputOptions& o, std::string_view id) { return o.table.empty() || o.table == id; }

// A verdict or reason as a column or JSON key: "would-reject" -> "would_reject".
std::string keyName(std::string_view label) {
    std::string n(label);
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
}

// `first`: the name column ("user", "client", "host").
void entityColumns(Table& t, bool client, const char* first) {
    t.cols.push_back({first});
    t.cols.push_back({"transactions", true});
    if (client)
        t.cols.push_back({"users", true});
    for (const char* c : {"first", "last", "tls"})
        t.cols.push_back({c});
    // The TLS mix: SSLv3 and versions the milter did not understand are
    // rare, so their columns leave the text when zero everywhere.
    for (int k = 0; k < kTlsCount; ++k) {
        const auto v = static_cast<TlsVersion>(k);
        t.cols.push_back({std::string(tlsShareColumn(v)), true, v == TlsVersion::SSLv3 || v == TlsVersion::Unknown});
    }
    for (const char* c : {"ciphers", "groups", "mechs", "listeners"})
        t.cols.push_back({c});
    for (const char* c : {"accept", "exempt", "would_reject", "tempfail", "reject", "other"})
        t.cols.push_back({c, true, true});
    t.cols.push_back({"cleartext_auth", true});
    t.cols.push_back({"whatif_refused", true, true});
}

std::string peersText(const Entity& e) {
    return num(e.peers().size()) + (e.peersCapped ? "+" : "");
}

// Rows of v (named by names): users, clients (with their users column) or hosts.
void entityRows(Table& t, const Aggregator& a, bool client, const OutputOptions& o, bool text,
                const EntityTable& v, const Dict& names) {
    auto ids = std::make_shared<std::vector<std::uint32_t>>(entityOrder(v, names, o.top));
    t.lazyCount = ids->size();
    t.lazyRow = [&a, &v, &names, ids, client, text](std::size_t i, std::vector<std::string>& row) {
        const std::uint32_t id = (*ids)[i];
        const Entity& e = v[id];
        row.clear();
        row.push_back(shown(names.name(id), text));
        row.push_back(num(e.count));
        if (client)
            row.push_back(peersText(e));
        row.push_back(formatTime(e.first));
        row.push_back(formatTime(e.last));
        row.push_back(joined(tlsNames(e.tls), text));
        for (int k = 0; k < kTlsCount; ++k)
            row.push_back(pct(e.tls[k], e.count));
        row.push_back(joined(tallyNames(e.ciphers, a.ciphers), text));
        row.push_back(joined(tallyNames(e.groups, a.groups), text));
        row.push_back(joined(tallyNames(e.mechs, a.mechs), text));
        row.push_back(joined(tallyNames(e.listeners, a.listeners), text));
        for (int k = 0; k < VCount; ++k)
            row.push_back(num(e.verdicts[k]));
        row.push_back(num(e.cleartext));
        row.push_back(num(e.seldom().whatIf[RNone]));
    };
}

} // namespace

std::vector<Table> buildTables(const Aggregator& a, const OutputOptions& o, bool text) {
    std::vector<Table> out;
    const InputCounts& c = a.counts;
    if (wanted(o, "summary")) {
        Table t{"summary", "SUMMARY", "", {{"item"}, {"value"}}, {}, 0, {}};
        auto kv = [&](const char* k, std::string v) { t.rows.push_back({k, std::move(v)}); };
        kv("first", formatTime(a.first));
        kv("last", formatTime(a.last));
        kv("lines", num(c.lines));
        kv("audit", num(c.audit));
        kv("foreign", num(c.foreign));
        kv("other", num(c.other));
        kv("damaged", num(c.damaged));
        kv("undated", num(c.undated));
        kv("users", num(a.users.size()));
        kv("clients", num(a.clients.size()));
        kv("unauthenticated", num(c.unauthenticated));
        std::uint64_t ct = 0;
        for (std::size_t i = 0; i < a.users.size(); ++i)
            ct += a.users[i].cleartext ? 1 : 0;
        kv("cleartext_users", num(ct));
        for (int k = 0; k < VCount; ++k)
            kv(std::string(verdictLabel(k)).c_str(), num(a.verdictTotals[k]));
        out.push_back(std::move(t));
    }
    if (wanted(o, "days")) {
        Table t{"days", "VERDICTS PER DAY", "", {{"day"}, {"transactions", true}}, {}, 0, {}};
        for (int k = 0; k < VCount; ++k)
            t.cols.push_back({keyName(verdictLabel(k)), true, k == VOther});
        for (int k = 0; k < kTlsCount; ++k)
            t.cols.push_back({"tls_" + std::string(toString(static_cast<TlsVersion>(k))), true, true});
        for (int k = RNone + 1; k < RCount; ++k)
            t.cols.push_back({"refused_" + keyName(reasonLabel(k)), true, true});
        for (const auto& [day, d] : a.days) {
            std::vector<std::string> row{formatDay(day), num(d.count)};
            for (int k = 0; k < VCount; ++k)
                row.push_back(num(d.verdicts[k]));
            for (int k = 0; k < kTlsCount; ++k)
                row.push_back(num(d.tls[k]));
            for (int k = RNone + 1; k < RCount; ++k)
                row.push_back(num(d.refused[k]));
            t.rows.push_back(std::move(row));
        }
        if (c.undated)
            t.note = num(c.undated) + " undated transactions are not in this table";
        out.push_back(std::move(t));
    }
    if (wanted(o, "ciphers")) {
        Table t{"ciphers", "CIPHER MIX", "", {{"cipher"}, {"transactions", true}, {"share", true}}, {}, 0, {}};
        std::vector<std::uint32_t> ids(a.ciphers.size());
        for (std::uint32_t i = 0; i < ids.size(); ++i)
            ids[i] = i;
        std::sort(ids.begin(), ids.end(), [&](auto x, auto y) {
            if (a.cipherTotals[x] != a.cipherTotals[y])
                return a.cipherTotals[x] > a.cipherTotals[y];
            return a.ciphers.name(x) < a.ciphers.name(y);
        });
        for (auto id : ids)
            t.rows.push_back({shown(a.ciphers.name(id), text), num(a.cipherTotals[id]),
                              percent(a.cipherTotals[id], c.audit)});
        out.push_back(std::move(t));
    }
    if (wanted(o, "users")) {
        Table t{"users", "USERS", "", {}, {}, 0, {}};
        entityColumns(t, false, "user");
        entityRows(t, a, false, o, text, a.users, a.userNames);
        if (o.top)
            t.note = "the " + num(t.rowCount()) + " busiest of " + num(a.users.size()) + " users";
        out.push_back(std::move(t));
    }
    if (wanted(o, "clients")) {
        Table t{"clients", "CLIENT ADDRESSES", "", {}, {}, 0, {}};
        entityColumns(t, true, "client");
        entityRows(t, a, true, o, text, a.clients, a.clientNames);
        if (o.top)
            t.note = "the " + num(t.rowCount()) + " busiest of " + num(a.clients.size()) + " addresses";
        out.push_back(std::move(t));
    }
    if (a.byHost && wanted(o, "hosts")) {
        Table t{"hosts", "AUDIT HOSTS", "", {}, {}, 0, {}};
        entityColumns(t, false, "host");
        entityRows(t, a, false, o, text, a.hosts, a.auditHosts);
        out.push_back(std::move(t));
    }
    if (wanted(o, "cleartext")) {
        // RFC 8314 section 4.1 asks for a change of a password likely to
        // have been compromised: the heading says what the log shows (it
        // was exposed), not that the user must act.
        Table t{"cleartext", "AUTHENTICATED OVER CLEARTEXT: password exposed, change advised",
                "cleartext_auth=yes: the password crossed the network unencrypted and may "
                "have been seen; RFC 8314 section 4.1 advises changing a password that is "
                "likely to have been compromised",
                {{"user"}, {"transactions", true}, {"first"}, {"last"}}, {}, 0, {}};
        auto ids = std::make_shared<std::vector<std::uint32_t>>();
        for (std::uint32_t id : entityOrder(a.users, a.userNames, 0))
            if (a.users[id].cleartext)
                ids->push_back(id);
        t.lazyCount = ids->size();
        t.lazyRow = [&a, ids, text](std::size_t i, std::vector<std::string>& row) {
            const std::uint32_t id = (*ids)[i];
            const Entity& e = a.users[id];
            row = {shown(a.userNames.name(id), text), num(e.cleartext), formatTime(e.seldom().cleartextFirst),
                   formatTime(e.seldom().cleartextLast)};
        };
        out.push_back(std::move(t));
    }
    if (wanted(o, "whatif") && a.policy().active()) {
        // A column per reason evaluate() can give (kReasons), then what
        // only exceptions and a rollout share let through: those two leave
        // the text when zero (no --exceptions, no --rollout-percent).
        Table t{"whatif", "WHAT IF " + a.policy().str(), "",
                {{"user"}, {"refused", true}, {"transactions", true}}, {}, 0, {}};
        for (int k = RNone + 1; k < ROther; ++k)
            t.cols.push_back({keyName(reasonLabel(k)), true});
        t.cols.push_back({"exempt", true, true});
        t.cols.push_back({"outside_rollout", true, true});
        auto ids = std::make_shared<std::vector<std::uint32_t>>(whatIfUsers(a));
        // The users, then one row for the unauthenticated transactions.
        t.lazyCount = ids->size() + (a.whatIfUnauth ? 1 : 0);
        t.lazyRow = [&a, ids, text](std::size_t i, std::vector<std::string>& row) {
            std::uint64_t by[RCount];
            std::uint64_t exempt = 0, outside = 0;
            if (i == ids->size()) {
                row = {text ? "(unauthenticated)" : "", num(a.whatIfUnauth), num(a.counts.unauthenticated)};
                std::copy(std::begin(a.whatIfUnauthBy), std::end(a.whatIfUnauthBy), by);
            } else {
                const std::uint32_t id = (*ids)[i];
                const Entity& e = a.users[id];
                const Entity::Seldom& s = e.seldom();
                row = {shown(a.userNames.name(id), text), num(s.whatIf[RNone]), num(e.count)};
                std::copy(std::begin(s.whatIf), std::end(s.whatIf), by);
                exempt = s.whatIfExempt;
                outside = s.whatIfOutside;
            }
            for (int k = RNone + 1; k < ROther; ++k)
                row.push_back(num(by[k]));
            row.push_back(num(exempt));
            row.push_back(num(outside));
        };
        std::uint64_t refusedUsers = 0, exemptUsers = 0, outsideUsers = 0;
        for (std::uint32_t id : *ids) {
            const Entity::Seldom& s = a.users[id].seldom();
            refusedUsers += s.whatIf[RNone] ? 1 : 0;
            exemptUsers += s.whatIfExempt ? 1 : 0;
            outsideUsers += s.whatIfOutside ? 1 : 0;
        }
        t.note = "would refuse " + num(a.whatIfTotal) + " of " + num(c.audit) + " transactions (" +
                 percent(a.whatIfTotal, c.audit) + ") of " + num(refusedUsers) + " users" +
                 (a.whatIfUnauth ? " and " + num(a.whatIfUnauth) + " unauthenticated" : "");
        if (a.whatIfExempt)
            t.note += "; exceptions let " + num(a.whatIfExempt) + " transactions of " + num(exemptUsers) +
                      " users through";
        if (a.whatIfOutside)
            t.note += "; " + num(a.whatIfOutside) + " transactions of " + num(outsideUsers) +
                      " users are outside the rollout share (reported only)";
        out.push_back(std::move(t));
    }
    return out;
}

namespace {

// Two passes over the rows, one to size the columns and one to write
// them, so a table of a million users is never held as text.
void renderText(const Table& t, std::ostream& out) {
    std::vector<bool> keep(t.cols.size(), false);
    std::vector<std::size_t> width(t.cols.size());
    for (std::size_t k = 0; k < t.cols.size(); ++k) {
        width[k] = t.cols[k].name.size();
        keep[k] = !t.cols[k].optional;
    }
    t.forEachRow([&](const std::vector<std::string>& r) {
        for (std::size_t k = 0; k < t.cols.size(); ++k) {
            width[k] = std::max(width[k], r[k].size());
            if (!keep[k] && r[k] != "0" && r[k] != "0.0") // a count, or a share (pct)
                keep[k] = true;
        }
    });
    out << t.title << '\n';
    if (!t.note.empty())
        out << t.note << '\n';
    std::string s;
    auto line = [&](auto cell) {
        s.clear();
        for (std::size_t k = 0; k < t.cols.size(); ++k) {
            if (!keep[k])
                continue;
            const std::string& v = cell(k);
            if (!s.empty())
                s += "  ";
            const std::size_t pad = width[k] - v.size();
            if (t.cols[k].number)
                s.append(pad, ' ').append(v);
            else
                s.append(v).append(pad, ' ');
        }
        while (!s.empty() && s.back() == ' ')
            s.pop_back();
        s += '\n';
        out << s;
    };
    line([&](std::size_t k) -> const std::string& { return t.cols[k].name; });
    t.forEachRow([&](const std::vector<std::string>& r) {
        line([&](std::size_t k) -> const std::string& { return r[k]; });
    });
    if (t.rowCount() == 0)
        out << "(none)\n";
}

std::string csvCell(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos)
        return v;
    std::string s = "\"";
    for (char c : v) {
        if (c == '"')
            s += '"';
        s += c;
    }
    return s + '"';
}

void renderCsv(const Table& t, std::ostream& out) {
    auto row = [&](auto cell) {
        for (std::size_t k = 0; k < t.cols.size(); ++k)
            out << (k ? "," : "") << csvCell(cell(k));
        out << "\r\n";
    };
    row([&](std::size_t k) -> const std::string& { return t.cols[k].name; });
    t.forEachRow([&](const std::vector<std::string>& r) {
        row([&](std::size_t k) -> const std::string& { return r[k]; });
    });
}

// ---- JSON ---------------------------------------------------------------

std::string js(std::string_view s) { return "\"" + jsonEscape(s) + "\""; }
std::string jtime(CivilTime t) { return t < 0 ? "null" : js(formatTime(t)); }

std::string jtally(Pairs s, const Dict& names) {
    std::sort(s.begin(), s.end(), [&](auto& x, auto& y) {
        if (x.second != y.second)
            return x.second > y.second;
        return names.name(x.first) < names.name(y.first);
    });
    std::string o = "{";
    for (const auto& [id, n] : s)
        o += (o.size() > 1 ? "," : "") + js(names.name(id)) + ":" + num(n);
    return o + "}";
}

template <typename T>
std::string jtls(const T (&tls)[kTlsCount]) {
    std::string o = "{";
    for (int k = 0; k < kTlsCount; ++k)
        if (tls[k])
            o += (o.size() > 1 ? "," : "") + js(toString(static_cast<TlsVersion>(k))) + ":" + num(tls[k]);
    return o + "}";
}

template <typename T>
std::string jverdicts(const T (&v)[VCount]) {
    std::string o = "{";
    for (int k = 0; k < VCount; ++k)
        o += (k ? "," : "") + js(verdictLabel(k)) + ":" + num(v[k]);
    return o + "}";
}

std::string jentity(const Aggregator& a, const Entity& e, bool client) {
    std::string o = "\"transactions\":" + num(e.count) + ",\"first\":" + jtime(e.first) +
                    ",\"last\":" + jtime(e.last) + ",\"tls\":" + jtls(e.tls) +
                    ",\"ciphers\":" + jtally(e.ciphers.pairs(), a.ciphers) +
                    ",\"groups\":" + jtally(e.groups.pairs(), a.groups) +
                    ",\"mechs\":" + jtally(e.mechs.pairs(), a.mechs) +
                    ",\"listeners\":" + jtally(e.listeners.pairs(), a.listeners) +
                    ",\"verdicts\":" + jverdicts(e.verdicts) + ",\"cleartext_auth\":" + num(e.cleartext);
    for (int k = 0; k < kTlsCount; ++k)
        o += ",\"" + std::string(tlsShareColumn(static_cast<TlsVersion>(k))) + "\":" + pct(e.tls[k], e.count);
    if (client) {
        // By name, so the output does not depend on the order files were read.
        std::vector<std::string_view> peers;
        for (auto id : e.peers())
            peers.push_back(a.userNames.name(id));
        std::sort(peers.begin(), peers.end());
        o += ",\"users\":[";
        for (std::size_t i = 0; i < peers.size(); ++i)
            o += (i ? "," : "") + js(peers[i]);
        o += "],\"users_capped\":";
        o += e.peersCapped ? "true" : "false";
    }
    if (a.policy().active())
        o += ",\"whatif_refused\":" + num(e.seldom().whatIf[RNone]);
    return o;
}

} // namespace

void Table::forEachRow(const std::function<void(const std::vector<std::string>&)>& f) const {
    for (const auto& r : rows)
        f(r);
    std::vector<std::string> row;
    for (std::size_t i = 0; i < lazyCount; ++i) {
        lazyRow(i, row);
        f(row);
    }
}

std::string_view tlsShareColumn(TlsVersion v) noexcept {
    switch (v) {
    case TlsVersion::None: return "pct_cleartext";
    case TlsVersion::SSLv3: return "pct_sslv3";
    case TlsVersion::TLSv1_0: return "pct_tls1_0";
    case TlsVersion::TLSv1_1: return "pct_tls1_1";
    case TlsVersion::TLSv1_2: return "pct_tls1_2";
    case TlsVersion::TLSv1_3: return "pct_tls1_3";
    case TlsVersion::Unknown: break;
    }
    return "pct_tls_unknown";
}

std::vector<std::uint32_t> whatIfUsers(const Aggregator& a) {
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < a.users.size(); ++i)
        if (a.users[i].belowRule())
            ids.push_back(i);
    std::sort(ids.begin(), ids.end(), [&](auto x, auto y) {
        const Entity &ex = a.users[x], &ey = a.users[y];
        if (ex.seldom().whatIf[RNone] != ey.seldom().whatIf[RNone])
            return ex.seldom().whatIf[RNone] > ey.seldom().whatIf[RNone];
        if (ex.belowRule() != ey.belowRule())
            return ex.belowRule() > ey.belowRule();
        return a.userNames.name(x) < a.userNames.name(y);
    });
    return ids;
}

bool validTable(std::string_view n) noexcept {
    for (std::string_view t : {"summary", "days", "ciphers", "users", "clients", "hosts", "cleartext", "whatif"})
        if (n == t)
            return true;
    return false;
}

std::vector<std::uint32_t> entityOrder(const EntityTable& v, const Dict& names, std::size_t top) {
    std::vector<std::uint32_t> ids(v.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i)
        ids[i] = i;
    if (top == 0) {
        std::sort(ids.begin(), ids.end(), [&](auto x, auto y) { return names.name(x) < names.name(y); });
        return ids;
    }
    auto busier = [&](auto x, auto y) {
        if (v[x].count != v[y].count)
            return v[x].count > v[y].count;
        return names.name(x) < names.name(y);
    };
    const std::size_t n = std::min(top, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), busier);
    ids.resize(n);
    return ids;
}

std::vector<std::string_view> tallyNames(const Tally& t, const Dict& names) {
    Pairs s = t.pairs();
    std::sort(s.begin(), s.end(), [&](auto& x, auto& y) {
        if (x.second != y.second)
            return x.second > y.second;
        return names.name(x.first) < names.name(y.first);
    });
    std::vector<std::string_view> out;
    for (const auto& p : s)
        out.push_back(names.name(p.first));
    return out;
}

std::vector<std::string_view> tlsNames(const Count (&tls)[kTlsCount]) {
    // Newest first: the reader looks for the old ones at the end.
    std::vector<std::string_view> out;
    for (int k = kTlsCount - 1; k >= 0; --k)
        if (tls[k])
            out.push_back(toString(static_cast<TlsVersion>(k)));
    return out;
}

void writeText(const Aggregator& a, const OutputOptions& o, std::ostream& out) {
    bool first = true;
    for (const Table& t : buildTables(a, o, true)) {
        if (!first)
            out << '\n';
        first = false;
        renderText(t, out);
    }
}

void writeCsv(const Aggregator& a, const OutputOptions& o, std::ostream& out) {
    // Several tables: each with its own header row, a blank line between.
    // A single --table gives a plain RFC 4180 file.
    bool first = true;
    for (const Table& t : buildTables(a, o, false)) {
        if (!first)
            out << "\r\n";
        first = false;
        renderCsv(t, out);
    }
}

void writeJson(const Aggregator& a, const OutputOptions& o, std::ostream& out) {
    const InputCounts& c = a.counts;
    out << "{";
    bool sep = false;
    auto section = [&](const char* name) {
        if (!wanted(o, name))
            return false;
        out << (sep ? ",\n" : "\n") << "\"" << name << "\":";
        sep = true;
        return true;
    };
    if (section("summary")) {
        std::uint64_t ct = 0;
        for (std::size_t i = 0; i < a.users.size(); ++i)
            ct += a.users[i].cleartext ? 1 : 0;
        out << "{\"first\":" << jtime(a.first) << ",\"last\":" << jtime(a.last)
            << ",\"lines\":" << c.lines << ",\"audit\":" << c.audit << ",\"foreign\":" << c.foreign
            << ",\"other\":" << c.other << ",\"damaged\":" << c.damaged << ",\"undated\":" << c.undated
            << ",\"users\":" << a.users.size() << ",\"clients\":" << a.clients.size()
            << ",\"unauthenticated\":" << c.unauthenticated << ",\"cleartext_users\":" << ct
            << ",\"verdicts\":" << jverdicts(a.verdictTotals) << "}";
    }
    if (section("days")) {
        out << "[";
        bool f = true;
        for (const auto& [day, d] : a.days) {
            out << (f ? "\n" : ",\n") << "{\"day\":" << js(formatDay(day)) << ",\"transactions\":" << d.count
                << ",\"verdicts\":" << jverdicts(d.verdicts) << ",\"tls\":" << jtls(d.tls) << ",\"refused\":{";
            for (int k = RNone + 1; k < RCount; ++k)
                out << (k > RNone + 1 ? "," : "") << js(reasonLabel(k)) << ":" << d.refused[k];
            out << "}}";
            f = false;
        }
        out << "]";
    }
    if (section("ciphers")) {
        Pairs t;
        for (std::uint32_t i = 0; i < a.cipherTotals.size(); ++i)
            t.emplace_back(i, a.cipherTotals[i]);
        out << jtally(t, a.ciphers);
    }
    for (int kind = 0; kind < 3; ++kind) { // users, clients, hosts
        const bool client = kind == 1;
        if ((kind == 2 && !a.byHost) || !section(kind == 0 ? "users" : client ? "clients" : "hosts"))
            continue;
        const auto& v = kind == 0 ? a.users : client ? a.clients : a.hosts;
        const auto& names = kind == 0 ? a.userNames : client ? a.clientNames : a.auditHosts;
        out << "[";
        bool f = true;
        for (std::uint32_t id : entityOrder(v, names, o.top)) {
            out << (f ? "\n" : ",\n") << "{"
                << (kind == 0 ? "\"user\":" : client ? "\"client\":" : "\"host\":") << js(names.name(id))
                << "," << jentity(a, v[id], client) << "}";
            f = false;
        }
        out << "]";
    }
    if (section("cleartext")) {
        out << "[";
        bool f = true;
        for (std::uint32_t id : entityOrder(a.users, a.userNames, 0)) {
            const Entity& e = a.users[id];
            if (!e.cleartext)
                continue;
            out << (f ? "\n" : ",\n") << "{\"user\":" << js(a.userNames.name(id)) << ",\"transactions\":"
                << e.cleartext << ",\"first\":" << jtime(e.seldom().cleartextFirst) << ",\"last\":"
                << jtime(e.seldom().cleartextLast) << "}";
            f = false;
        }
        out << "]";
    }
    if (a.policy().active() && section("whatif")) {
        const WhatIfPolicy& p = a.policy();
        out << "{\"policy\":{\"require_tls\":" << (p.requireTls ? "true" : "false") << ",\"min_tls\":"
            << (p.minTls == TlsVersion::None ? std::string("null") : js(toString(p.minTls)))
            << ",\"min_bits\":" << (p.minBits > 0 ? num(static_cast<std::uint64_t>(p.minBits)) : "null")
            << ",\"exceptions\":" << (p.exceptions ? js(p.exceptions->file) : "null")
            << ",\"as_of\":" << (p.asOf ? js(p.asOf->str()) : "null")
            << ",\"rollout_percent\":" << p.rolloutPercent << ",\"listeners\":[";
        for (std::size_t i = 0; i < p.listeners.size(); ++i)
            out << (i ? "," : "") << js(p.listeners[i]);
        out << "]},\"transactions\":" << c.audit << ",\"refused\":" << a.whatIfTotal
            << ",\"unauthenticated_refused\":" << a.whatIfUnauth << ",\"exempt\":" << a.whatIfExempt
            << ",\"outside_rollout\":" << a.whatIfOutside << ",\"users\":[";
        bool f = true;
        for (std::uint32_t id : whatIfUsers(a)) {
            const Entity& e = a.users[id];
            out << (f ? "\n" : ",\n") << "{\"user\":" << js(a.userNames.name(id)) << ",\"refused\":"
                << e.seldom().whatIf[RNone] << ",\"transactions\":" << e.count;
            for (int k = RNone + 1; k < ROther; ++k)
                out << ",\"" << keyName(reasonLabel(k)) << "\":" << e.seldom().whatIf[k];
            out << ",\"exempt\":" << e.seldom().whatIfExempt << ",\"outside_rollout\":" << e.seldom().whatIfOutside << "}";
            f = false;
        }
        out << "]}";
    }
    out << "\n}\n";
}

} // namespace rfc8314::report
