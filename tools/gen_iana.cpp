// gen_iana.cpp — build-time generator: IANA TLS registry CSVs -> C++ tables.
//
//   gen_iana tls-parameters-4.csv tls-parameters-8.csv > iana_tables.cpp
//
// Reads the "TLS Cipher Suites" and "TLS Supported Groups" registries as
// IANA publishes them (RFC 4180 CSV; quoted fields may hold commas, doubled
// quotes and line breaks) and writes the rows that name exactly one code
// point: ranges, "Unassigned" and "Reserved..." rows, and names that are not
// a single token (e.g. "X25519Kyber768Draft00 (OBSOLETE)") are left out.
// The names are copied, never retyped, so the tables cannot drift from the
// registry.  A malformed file stops the build with file:line and the reason.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Row {
    int line = 0; // line where the record starts
    std::vector<std::string> fields;
};

[[noreturn]] void die(const std::string& file, int line, const std::string& why) {
    std::cerr << "gen_iana: " << file << ":" << line << ": " << why << "\n";
    std::exit(1);
}

std::vector<Row> readCsv(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        die(file, 0, "cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();

    std::vector<Row> rows;
    Row row;
    std::string field;
    // closedQuote: a quoted field has ended, so only a separator may follow
    // (RFC 4180 has no text after the closing quote).
    bool quoted = false, fieldStarted = false, closedQuote = false;
    int line = 1;
    int quoteLine = 1; // where the open quoted field began, for the error
    row.line = 1;
    auto endField = [&] {
        row.fields.push_back(field);
        field.clear();
        fieldStarted = false;
        closedQuote = false;
    };
    auto endRow = [&] {
        endField();
        if (!(row.fields.size() == 1 && row.fields[0].empty()))
            rows.push_back(row);
        row = Row{};
        row.line = line;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                    closedQuote = true;
                }
            } else {
                if (c == '\n')
                    ++line;
                field += c;
            }
            continue;
        }
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
            continue; // CRLF, the RFC 4180 line break
        if (closedQuote && c != ',' && c != '\n')
            die(file, line, "text after the closing quote of a field");
        switch (c) {
        case '"':
            if (fieldStarted)
                die(file, line, "quote inside an unquoted field");
            quoted = true;
            fieldStarted = true;
            quoteLine = line;
            break;
        case ',':
            endField();
            break;
        case '\r':
            die(file, line, "bare carriage return outside a quoted field");
        case '\n':
            ++line;
            endRow();
            break;
        default:
            field += c;
            fieldStarted = true;
        }
    }
    if (quoted)
        die(file, quoteLine, "quoted field never closed");
    if (fieldStarted || !row.fields.empty())
        endRow();
    return rows;
}

bool isToken(const std::string& s) {
    if (s.empty())
        return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

bool isHexByte(const std::string& s, unsigned& v) {
    if (s.size() != 4 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    v = 0;
    for (std::size_t i = 2; i < 4; ++i) {
        const char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
        else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
        else return false;
    }
    return true;
}

bool skippedName(const std::string& name) {
    return name.rfind("Unassigned", 0) == 0 || name.rfind("Reserved", 0) == 0;
}

// The header names the columns we read; every record must have as many
// fields as the header, or a stray comma or quote has shifted the columns.
void checkShape(const std::string& file, const std::vector<Row>& rows) {
    if (rows.empty() || rows[0].fields.size() < 2 || rows[0].fields[0] != "Value" ||
        rows[0].fields[1] != "Description")
        die(file, 1, "expected a header row starting with Value,Description");
    const std::size_t width = rows[0].fields.size();
    for (const auto& r : rows)
        if (r.fields.size() != width)
            die(file, r.line,
                std::to_string(r.fields.size()) + " fields, the header has " + std::to_string(width));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: gen_iana tls-parameters-4.csv tls-parameters-8.csv\n";
        return 64;
    }
    const std::string cipherFile = argv[1], groupFile = argv[2];

    std::map<unsigned, std::string> ciphers;
    const auto crow = readCsv(cipherFile);
    checkShape(cipherFile, crow);
    for (std::size_t r = 1; r < crow.size(); ++r) {
        const auto& f = crow[r].fields;
        if (f.size() < 2)
            die(cipherFile, crow[r].line, "fewer than 2 fields");
        const std::string& value = f[0];
        const std::string& name = f[1];
        if (skippedName(name))
            continue;
        const auto comma = value.find(',');
        unsigned hi = 0, lo = 0;
        if (comma == std::string::npos)
            die(cipherFile, crow[r].line, "value '" + value + "' is not \"0xHH,0xHH\"");
        if (!isHexByte(value.substr(0, comma), hi) || !isHexByte(value.substr(comma + 1), lo))
            continue; // a range such as 0xC0,0xB0-FF that is not Unassigned/Reserved: no single code
        if (!isToken(name))
            die(cipherFile, crow[r].line, "name '" + name + "' for a single code point is not a token");
        const unsigned code = hi << 8 | lo;
        if (!ciphers.emplace(code, name).second)
            die(cipherFile, crow[r].line, "code point listed twice");
    }

    std::map<unsigned, std::string> groups;
    const auto grow = readCsv(groupFile);
    checkShape(groupFile, grow);
    for (std::size_t r = 1; r < grow.size(); ++r) {
        const auto& f = grow[r].fields;
        if (f.size() < 2)
            die(groupFile, grow[r].line, "fewer than 2 fields");
        const std::string& value = f[0];
        const std::string& name = f[1];
        if (skippedName(name) || value.find('-') != std::string::npos)
            continue;
        char* end = nullptr;
        const unsigned long code = std::strtoul(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || code > 0xFFFF)
            die(groupFile, grow[r].line, "value '" + value + "' is not a decimal code point");
        if (!isToken(name))
            continue; // e.g. "X25519Kyber768Draft00 (OBSOLETE)": not a registered token name
        if (!groups.emplace(static_cast<unsigned>(code), name).second)
            die(groupFile, grow[r].line, "code point listed twice");
    }
    if (ciphers.size() < 100 || groups.size() < 20) {
        std::cerr << "gen_iana: suspiciously few rows (" << ciphers.size() << " cipher suites, "
                  << groups.size() << " groups)\n";
        return 1;
    }

    std::cout << "// Generated by tools/gen_iana from " << cipherFile << " and " << groupFile
              << ". Do not edit.\n"
              << "#include \"rfc8314/tls_names.hpp\"\n\nnamespace rfc8314::iana {\n\n"
              << "const CipherRow kCipherSuites[] = {\n";
    char buf[32];
    for (const auto& [code, name] : ciphers) {
        std::snprintf(buf, sizeof buf, "0x%04X", code);
        std::cout << "    {" << buf << ", \"" << name << "\"},\n";
    }
    std::cout << "};\nconst std::size_t kCipherSuiteCount = " << ciphers.size() << ";\n\n"
              << "const GroupRow kGroups[] = {\n";
    for (const auto& [code, name] : groups)
        std::cout << "    {" << code << ", \"" << name << "\"},\n";
    std::cout << "};\nconst std::size_t kGroupCount = " << groups.size() << ";\n\n"
              << "} // namespace rfc8314::iana\n";
    return 0;
}
