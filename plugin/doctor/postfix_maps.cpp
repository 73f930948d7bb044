// postfix_maps.cpp — smtpd_milter_maps tables read and judged for coverage
// (see postfix_maps.hpp).
#include "postfix_maps.hpp"

#include <algorithm>
#include <sstream>

#include "mta_text.hpp"
#include "text.hpp"

namespace rfc8314::doctor {

std::vector<std::string> splitMapList(std::string_view value) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : value) {
        if (c == '{')
            ++depth;
        else if (c == '}' && depth > 0)
            --depth;
        if (depth == 0 && (c == ',' || text::isSpace(c))) {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

std::string mapType(std::string_view table) {
    const auto colon = table.find(':');
    return colon == std::string_view::npos ? std::string() : text::lower(table.substr(0, colon));
}

std::string mapFile(std::string_view table) {
    const auto colon = table.find(':');
    return colon == std::string_view::npos ? std::string(table)
                                           : std::string(table.substr(colon + 1));
}

bool mapReadFromSource(std::string_view table) {
    const auto t = mapType(table);
    return t == "cidr" || t == "regexp" || t == "pcre";
}

namespace {

// "/pattern/flags rest" -> key "/pattern/flags", value "rest"; a leading
// '!' (negation) stays in the key.
MapEntry splitRegexpLine(const std::string& line) {
    std::size_t i = line[0] == '!' ? 1 : 0;
    if (i >= line.size())
        return {line, {}};
    const char delim = line[i];
    std::size_t j = i + 1;
    while (j < line.size() && line[j] != delim)
        j += line[j] == '\\' ? 2 : 1;
    j = std::min(j + 1, line.size());
    while (j < line.size() && text::isAlpha(line[j]))
        ++j;
    return {line.substr(0, j), trimmed(line.substr(j))};
}

} // namespace

std::vector<MapEntry> parseMapSource(std::string_view type, std::string_view source) {
    const bool regexp = type == "regexp" || type == "pcre";
    std::vector<std::string> lines;
    std::istringstream in{std::string(source)};
    std::string line;
    while (std::getline(in, line)) {
        const auto t = trimmed(line);
        if (t.empty() || t[0] == '#')
            continue;
        if (text::isBlank(line[0]) && !lines.empty())
            lines.back() += " " + t;
        else
            lines.push_back(t);
    }
    std::vector<MapEntry> out;
    for (const auto& l : lines) {
        const std::string first = text::lower(l.substr(0, l.find_first_of(" \t")));
        if (first == "if" || first == "endif")
            continue;
        if (regexp) {
            out.push_back(splitRegexpLine(l));
        } else {
            const auto sp = l.find_first_of(" \t");
            out.push_back({l.substr(0, sp), sp == std::string::npos ? "" : trimmed(l.substr(sp))});
        }
    }
    return out;
}

std::vector<MapEntry> parsePostmapDump(std::string_view dump) {
    std::vector<MapEntry> out;
    std::istringstream in{std::string(dump)};
    std::string line;
    while (std::getline(in, line)) {
        if (trimmed(line).empty())
            continue;
        const auto sep = line.find_first_of(" \t");
        out.push_back(
            {line.substr(0, sep), sep == std::string::npos ? "" : trimmed(line.substr(sep))});
    }
    return out;
}

std::optional<std::vector<MapEntry>> staticMapEntries(std::string_view table) {
    if (mapType(table) != "static")
        return std::nullopt;
    std::string v = trimmed(mapFile(table));
    if (v.size() >= 2 && v.front() == '{' && v.back() == '}')
        v = trimmed(v.substr(1, v.size() - 2));
    return std::vector<MapEntry>{{"(every client)", v}};
}

bool coversEveryClient(std::string_view table, const std::vector<MapEntry>& entries, bool ipv6) {
    const auto type = mapType(table);
    if (type == "static")
        return !entries.empty();
    bool v4 = false, v6 = false;
    for (const auto& e : entries) {
        if (type == "cidr") {
            v4 = v4 || e.key == "0.0.0.0/0";
            v6 = v6 || e.key == "::/0" || e.key == "[::]/0";
        } else if ((type == "regexp" || type == "pcre") && e.key.size() >= 2 && e.key[0] != '!') {
            const char d = e.key[0];
            const auto end = e.key.find(d, 1);
            const std::string p = end == std::string::npos ? "" : e.key.substr(1, end - 1);
            for (const char* any : {"", ".", ".*", ".+", "^", "^.*", "^.*$", "^.+$"})
                if (end != std::string::npos && p == any)
                    return true;
        }
    }
    return v4 && (v6 || !ipv6);
}

} // namespace rfc8314::doctor
