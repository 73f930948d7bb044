// postfix_maps.hpp — smtpd_milter_maps (Postfix >= 3.2): lookup tables that
// map a client address to the milter list smtpd uses for it instead of
// smtpd_milters ("DISABLE": no milter).  The doctor needs every entry of
// every table a submission service consults, and whether the tables leave
// some client to smtpd_milters.
//
// Promises: pure.  cidr, regexp and pcre tables are read from their source
// files here (postmap cannot list them); every other type is listed by
// `postmap -s` (run.cpp) and parsed here; static: needs no file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rfc8314::doctor {

struct MapEntry {
    std::string key;   // an address, a CIDR block, /regexp/flags
    std::string value; // a milter list, or DISABLE
};

// One table of smtpd_milter_maps as read (or not).
struct MilterMap {
    bool read = false;
    std::string error; // why not read
    std::vector<MapEntry> entries;
};

// The tables of a smtpd_milter_maps value: separated by commas or blanks;
// a `{ ... }` (inline:{ a=b, c=d }, static:{ text }) stays one table.
std::vector<std::string> splitMapList(std::string_view value);
// "cidr" of "cidr:/etc/postfix/m" (lower-case); the file: "/etc/postfix/m".
std::string mapType(std::string_view table);
std::string mapFile(std::string_view table);
// Whether run.cpp reads the table's source file (cidr, regexp, pcre) rather
// than asking `postmap -s`.
bool mapReadFromSource(std::string_view table);

// A cidr, regexp or pcre table's source text: "pattern value" lines, `#`
// comments, continuation lines (leading blank), if/endif lines skipped.
std::vector<MapEntry> parseMapSource(std::string_view type, std::string_view text);
// `postmap -s` output: "key<TAB>value" lines.
std::vector<MapEntry> parsePostmapDump(std::string_view text);
// static:VALUE and static:{ VALUE }: the one answer for every client.
std::optional<std::vector<MapEntry>> staticMapEntries(std::string_view table);

// The table answers for every client address, so smtpd_milters is never
// consulted after it: static:, a cidr 0.0.0.0/0 (and ::/0 when `ipv6`), or
// a regexp/pcre pattern that matches anything.
bool coversEveryClient(std::string_view table, const std::vector<MapEntry>& entries, bool ipv6);

} // namespace rfc8314::doctor
