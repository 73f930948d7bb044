// html.cpp — the HTML page of rfc8314-report.  See html.hpp.
//
// Three charts drawn as inline SVG by hand (share of TLS versions per day,
// cipher mix, refusals per day by reason) and the same tables as the text
// report.  Self-contained on purpose: the page is opened from a mail or a
// file share, often offline, and must not phone anywhere.  Every string
// from the log (user names come from the network) goes through htmlText.
#include "html.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace rfc8314::report {

namespace {

// HTML text and attribute content: markup characters as entities, control
// bytes as a visible \xHH so they can neither hide nor break the page.
std::string htmlText(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string o;
    o.reserve(s.size());
    for (unsigned char c : s) {
        switch (c) {
        case '&': o += "&amp;"; break;
        case '<': o += "&lt;"; break;
        case '>': o += "&gt;"; break;
        case '"': o += "&quot;"; break;
        case '\'': o += "&#39;"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                o += "\\x";
                o += hex[c >> 4];
                o += hex[c & 0xF];
            } else {
                o += static_cast<char>(c);
            }
        }
    }
    return o;
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// Old and missing TLS in warm colours, current in cool ones.
const char* tlsColour(int k) {
    static const char* c[] = {"#c0392b", "#6c3483", "#e67e22", "#f4d03f", "#2e86c1", "#27ae60", "#95a5a6"};
    return c[k];
}
// A colour per reason slot, "other" grey; a reason added to kReasons
// takes the next colour.
const char* reasonColour(int k) {
    static const char* c[] = {"#c0392b", "#e67e22", "#f4d03f", "#8e44ad", "#16a085", "#2c3e50"};
    return k == ROther ? "#7f8c8d" : c[(k - RNone - 1) % (sizeof c / sizeof c[0])];
}

void legend(std::ostream& out, const std::vector<std::pair<std::string, const char*>>& items) {
    out << "<p class=\"legend\">";
    for (const auto& [name, colour] : items)
        out << "<span><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\""
            << colour << "\"/></svg> " << htmlText(name) << "</span> ";
    out << "</p>\n";
}

// Stacked bars per day.  `share`: each bar is 100% (parts as shares);
// else bars are absolute against the largest day.
void dayBars(std::ostream& out, const std::string& label, const std::vector<int>& days,
             const std::vector<std::vector<std::uint64_t>>& parts, const std::vector<std::string>& names,
             const std::vector<const char*>& colours, bool share) {
    const double W = 1000, H = 260, left = 50, bottom = 60, top = 10;
    const double plotW = W - left - 10, plotH = H - bottom - top;
    std::uint64_t maxTotal = 0;
    for (const auto& p : parts) {
        std::uint64_t t = 0;
        for (auto v : p)
            t += v;
        maxTotal = std::max(maxTotal, t);
    }
    out << "<svg class=\"chart\" viewBox=\"0 0 " << W << " " << H << "\" role=\"img\" aria-label=\""
        << htmlText(label) << "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
    // Axis and grid: 0, 50%, 100% (or 0, half, max).
    for (int g = 0; g <= 2; ++g) {
        const double y = top + plotH - plotH * g / 2;
        out << "<line x1=\"" << left << "\" x2=\"" << W - 10 << "\" y1=\"" << fmt(y) << "\" y2=\"" << fmt(y)
            << "\" stroke=\"#ddd\"/>";
        const std::string t = share ? std::to_string(g * 50) + "%" : std::to_string(maxTotal * g / 2);
        out << "<text x=\"" << left - 4 << "\" y=\"" << fmt(y + 4) << "\" text-anchor=\"end\">" << t << "</text>\n";
    }
    if (days.empty() || maxTotal == 0) {
        out << "<text x=\"" << W / 2 << "\" y=\"" << H / 2 << "\" text-anchor=\"middle\">no "
            << (days.empty() ? "dated events" : "events of this kind") << "</text>\n</svg>\n";
        return;
    }
    const double slot = plotW / static_cast<double>(days.size());
    const double bw = std::max(1.0, std::min(40.0, slot * 0.8));
    const std::size_t labelEvery = std::max<std::size_t>(1, static_cast<std::size_t>(60 / slot) + 1);
    for (std::size_t d = 0; d < days.size(); ++d) {
        std::uint64_t total = 0;
        for (auto v : parts[d])
            total += v;
        const double x = left + slot * static_cast<double>(d) + (slot - bw) / 2;
        const double scale = share ? (total ? plotH / static_cast<double>(total) : 0)
                                   : plotH / static_cast<double>(maxTotal);
        double y = top + plotH;
        const std::string day = formatDay(days[d]);
        for (std::size_t k = 0; k < parts[d].size(); ++k) {
            const std::uint64_t v = parts[d][k];
            if (!v)
                continue;
            const double h = static_cast<double>(v) * scale;
            y -= h;
            out << "<rect x=\"" << fmt(x) << "\" y=\"" << fmt(y) << "\" width=\"" << fmt(bw) << "\" height=\""
                << fmt(h) << "\" fill=\"" << colours[k] << "\"><title>" << day << " " << htmlText(names[k])
                << ": " << v << " of " << total << "</title></rect>\n";
        }
        if (d % labelEvery == 0)
            out << "<text x=\"" << fmt(x + bw / 2) << "\" y=\"" << fmt(top + plotH + 12)
                << "\" text-anchor=\"end\" transform=\"rotate(-45 " << fmt(x + bw / 2) << " "
                << fmt(top + plotH + 12) << ")\">" << day << "</text>\n";
    }
    out << "</svg>\n";
}

void cipherBars(std::ostream& out, const Aggregator& a) {
    std::vector<std::uint32_t> ids(a.ciphers.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i)
        ids[i] = i;
    std::sort(ids.begin(), ids.end(), [&](auto x, auto y) { return a.cipherTotals[x] > a.cipherTotals[y]; });
    // The long tail folds into one bar so the chart stays readable.
    const std::size_t shown = std::min<std::size_t>(ids.size(), 12);
    std::vector<std::pair<std::string, std::uint64_t>> bars;
    std::uint64_t rest = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i < shown)
            bars.emplace_back(a.ciphers.name(ids[i]), a.cipherTotals[ids[i]]);
        else
            rest += a.cipherTotals[ids[i]];
    }
    if (rest)
        bars.emplace_back("(" + std::to_string(ids.size() - shown) + " others)", rest);
    const double rowH = 22, left = 420, W = 1000;
    const double H = std::max(40.0, rowH * static_cast<double>(bars.size()) + 10);
    std::uint64_t max = 1;
    for (const auto& b : bars)
        max = std::max(max, b.second);
    out << "<svg class=\"chart\" viewBox=\"0 0 " << W << " " << H
        << "\" role=\"img\" aria-label=\"cipher mix\" xmlns=\"http://www.w3.org/2000/svg\">\n";
    if (bars.empty())
        out << "<text x=\"500\" y=\"25\" text-anchor=\"middle\">no events</text>\n";
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const double y = 5 + rowH * static_cast<double>(i);
        const double w = (W - left - 110) * static_cast<double>(bars[i].second) / static_cast<double>(max);
        const bool weak = bars[i].first == "none";
        out << "<text x=\"" << left - 6 << "\" y=\"" << fmt(y + 15) << "\" text-anchor=\"end\">"
            << htmlText(bars[i].first) << "</text>"
            << "<rect x=\"" << left << "\" y=\"" << fmt(y + 3) << "\" width=\"" << fmt(std::max(w, 1.0))
            << "\" height=\"" << rowH - 6 << "\" fill=\"" << (weak ? "#c0392b" : "#2e86c1") << "\"><title>"
            << htmlText(bars[i].first) << ": " << bars[i].second << "</title></rect>"
            << "<text x=\"" << fmt(left + std::max(w, 1.0) + 6) << "\" y=\"" << fmt(y + 15) << "\">"
            << bars[i].second << "</text>\n";
    }
    out << "</svg>\n";
}

// The TLS mix of the busiest users: one bar per user, 100% wide, a
// segment per TLS version in the colours of the per-day chart (cleartext
// and old versions warm, current ones cool), so an old client stands out
// at a glance, as in a provider's SMTP AUTH clients report.
void userMixBars(std::ostream& out, const Aggregator& a, const std::vector<std::uint32_t>& ids) {
    const double rowH = 22, left = 260, right = 90, W = 1000;
    const double barW = W - left - right;
    const double H = std::max(40.0, rowH * static_cast<double>(ids.size()) + 10);
    out << "<svg class=\"chart\" id=\"user-mix\" viewBox=\"0 0 " << W << " " << H
        << "\" role=\"img\" aria-label=\"TLS mix of the busiest users\" xmlns=\"http://www.w3.org/2000/svg\">\n";
    if (ids.empty())
        out << "<text x=\"500\" y=\"25\" text-anchor=\"middle\">no authenticated users</text>\n";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const Entity& e = a.users[ids[i]];
        const double y = 5 + rowH * static_cast<double>(i);
        std::string name(a.userNames.name(ids[i]));
        if (name.size() > 40) { // a label, not the record: the table has the whole name
            std::size_t cut = 39;
            while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
                --cut; // not inside a UTF-8 sequence
            name = name.substr(0, cut) + "...";
        }
        out << "<text x=\"" << left - 6 << "\" y=\"" << fmt(y + 15) << "\" text-anchor=\"end\">" << htmlText(name)
            << "</text>";
        double x = left;
        for (int k = 0; k < kTlsCount; ++k) {
            if (!e.tls[k] || !e.count)
                continue;
            const double w = barW * static_cast<double>(e.tls[k]) / static_cast<double>(e.count);
            const std::string label = k == 0 ? "no TLS" : std::string(toString(static_cast<TlsVersion>(k)));
            out << "<rect class=\"mix\" x=\"" << fmt(x) << "\" y=\"" << fmt(y + 3) << "\" width=\"" << fmt(w)
                << "\" height=\"" << rowH - 6 << "\" fill=\"" << tlsColour(k) << "\"><title>" << htmlText(name) << " "
                << label << ": " << e.tls[k] << " of " << e.count << "</title></rect>";
            x += w;
        }
        out << "<text x=\"" << fmt(left + barW + 6) << "\" y=\"" << fmt(y + 15) << "\">" << e.count << "</text>\n";
    }
    out << "</svg>\n";
}

void table(std::ostream& out, const Table& t) {
    out << "<section id=\"" << t.id << "\"><h2>" << htmlText(t.title) << "</h2>\n";
    if (!t.note.empty())
        out << "<p>" << htmlText(t.note) << "</p>\n";
    if (t.rowCount() == 0) {
        out << "<p class=\"none\">(none)</p></section>\n";
        return;
    }
    out << "<div class=\"scroll\"><table><thead><tr>";
    for (const auto& c : t.cols)
        out << "<th" << (c.number ? " class=\"n\"" : "") << ">" << htmlText(c.name) << "</th>";
    out << "</tr></thead><tbody>\n";
    t.forEachRow([&](const std::vector<std::string>& r) {
        out << "<tr>";
        for (std::size_t k = 0; k < t.cols.size(); ++k)
            out << "<td" << (t.cols[k].number ? " class=\"n\"" : "") << ">" << htmlText(r[k]) << "</td>";
        out << "</tr>\n";
    });
    out << "</tbody></table></div></section>\n";
}

} // namespace

void writeHtml(const Aggregator& a, const OutputOptions& o, std::ostream& out) {
    const InputCounts& c = a.counts;
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>RFC 8314 submission report</title>\n<style>\n"
           "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em auto;max-width:1100px;"
           "padding:0 1em;color:#222;background:#fff}\n"
           "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}\n"
           ".chart{width:100%;height:auto;font-size:11px;font-family:inherit}\n"
           ".legend span{margin-right:1em;white-space:nowrap}\n"
           ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85em}\n"
           "th,td{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}\n"
           "th{background:#f4f6f7}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
           ".kpi{display:flex;flex-wrap:wrap;gap:1em}.kpi div{background:#f4f6f7;padding:.6em 1em;border-radius:4px}\n"
           ".kpi b{display:block;font-size:1.4em}.warn b{color:#c0392b}\n"
           "</style></head><body>\n<h1>RFC 8314 submission report</h1>\n";
    std::uint64_t cleartextUsers = 0;
    for (std::size_t i = 0; i < a.users.size(); ++i)
        cleartextUsers += a.users[i].cleartext ? 1 : 0;
    out << "<p>" << htmlText(formatTime(a.first)) << " to " << htmlText(formatTime(a.last)) << ": " << c.audit
        << " audit events from " << c.lines << " lines (" << c.foreign << " foreign, " << c.other
        << " other milter lines, " << c.damaged << " damaged, " << c.undated << " undated).</p>\n";
    out << "<div class=\"kpi\"><div><b>" << c.audit << "</b>transactions</div><div><b>" << a.users.size()
        << "</b>users</div><div><b>" << a.clients.size() << "</b>client addresses</div><div class=\""
        << (cleartextUsers ? "warn" : "") << "\"><b>" << cleartextUsers
        << "</b>users sent a password in cleartext</div><div><b>"
        << a.verdictTotals[VTempfail] + a.verdictTotals[VReject] << "</b>refused</div>";
    if (a.policy().active())
        out << "<div class=\"warn\"><b>" << a.whatIfTotal << "</b>would be refused by "
            << htmlText(a.policy().str()) << "</div>";
    out << "</div>\n";

    std::vector<int> days;
    std::vector<std::vector<std::uint64_t>> tlsParts, refusalParts;
    for (const auto& [day, d] : a.days) {
        days.push_back(day);
        tlsParts.emplace_back(d.tls, d.tls + kTlsCount);
        refusalParts.emplace_back(d.refused + RNone + 1, d.refused + RCount);
    }
    std::vector<std::string> tlsLabels;
    std::vector<const char*> tlsColours;
    std::vector<std::pair<std::string, const char*>> tlsLegend;
    for (int k = 0; k < kTlsCount; ++k) {
        tlsLabels.emplace_back(toString(static_cast<TlsVersion>(k)));
        tlsColours.push_back(tlsColour(k));
        bool used = false;
        for (const auto& p : tlsParts)
            used = used || p[static_cast<std::size_t>(k)];
        if (used)
            tlsLegend.emplace_back(k == 0 ? "no TLS" : tlsLabels.back(), tlsColour(k));
    }
    out << "<section id=\"chart-tls\"><h2>TLS versions per day (share of transactions)</h2>\n";
    legend(out, tlsLegend);
    dayBars(out, "share of TLS versions per day", days, tlsParts, tlsLabels, tlsColours, true);
    out << "</section>\n<section id=\"chart-ciphers\"><h2>Cipher mix</h2>\n";
    cipherBars(out, a);
    out << "</section>\n<section id=\"chart-refusals\"><h2>Refusals per day by reason</h2>\n"
           "<p>Transactions the milter refused (tempfail or reject); would-reject verdicts of "
           "report-only listeners are in the table below.</p>\n";
    std::vector<std::string> reasonLabels;
    std::vector<const char*> reasonColours;
    std::vector<std::pair<std::string, const char*>> reasonLegend;
    for (int k = RNone + 1; k < RCount; ++k) {
        reasonLabels.emplace_back(reasonLabel(k));
        reasonColours.push_back(reasonColour(k));
        reasonLegend.emplace_back(reasonLabels.back(), reasonColour(k));
    }
    legend(out, reasonLegend);
    dayBars(out, "refusals per day by reason", days, refusalParts, reasonLabels, reasonColours, false);
    out << "</section>\n";

    const std::vector<std::uint32_t> busiest = entityOrder(a.users, a.userNames, kMixUsers);
    std::vector<std::pair<std::string, const char*>> mixLegend;
    for (int k = 0; k < kTlsCount; ++k) {
        bool used = false;
        for (auto id : busiest)
            used = used || a.users[id].tls[k];
        if (used)
            mixLegend.emplace_back(k == 0 ? "no TLS" : tlsLabels[static_cast<std::size_t>(k)], tlsColour(k));
    }
    out << "<section id=\"chart-users\"><h2>TLS mix of the " << busiest.size()
        << " busiest users (share of each user's transactions)</h2>\n";
    legend(out, mixLegend);
    userMixBars(out, a, busiest);
    out << "</section>\n";

    // Tables in the order a postmaster acts on them: whose password was
    // exposed, who a new policy would hit, then the detail.
    // A row per user of a busy MSP makes a page of hundreds of megabytes no
    // browser opens: unless --top says otherwise, the users and addresses
    // tables keep the busiest kHtmlRows.  The lists a postmaster acts on
    // (cleartext, what-if) stay whole.
    OutputOptions ho = o;
    const bool capped = ho.top == 0 && std::max(a.users.size(), a.clients.size()) > kHtmlRows;
    if (capped)
        ho.top = kHtmlRows;
    std::vector<Table> tables = buildTables(a, ho, false);
    for (Table& t : tables)
        if (capped && (t.id == "users" || t.id == "clients"))
            t.note += " (a page with every row would be too large to open; all of them: --csv, "
                      "--json, or --html with --top N)";
    for (const char* id : {"cleartext", "whatif", "days", "ciphers", "users", "clients", "summary"})
        for (const Table& t : tables)
            if (t.id == id)
                table(out, t);
    out << "<p><small>rfc8314-report " << RFC8314_VERSION << "</small></p>\n</body></html>\n";
}

} // namespace rfc8314::report
