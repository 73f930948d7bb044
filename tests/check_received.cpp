// check_received.cpp — test tool: reads one delivered message on standard
// input and checks every Received field that carries an RFC 8314 `tls`
// clause: each physical line <= 998 octets, and the unfolded value parses as
// an RFC 5321 Time-stamp-line (rfc8314::parseTimeStampLine).
// Exit 0 when at least one such field was found and all are valid; 1 when one
// is invalid; 2 when there is none.
#include <iostream>
#include <string>
#include <vector>

#include "rfc8314/rfc5322.hpp"

int main() {
    std::vector<std::string> fields; // raw, with folds kept as "\n"
    std::string line;
    bool tooLong = false;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.size() > 998) {
            std::cout << "line over 998 octets: " << line.substr(0, 80) << "...\n";
            tooLong = true;
        }
        if (line.empty())
            break;
        if ((line[0] == ' ' || line[0] == '\t') && !fields.empty())
            fields.back() += "\r\n" + line;
        else
            fields.push_back(line);
    }
    int found = 0, bad = 0;
    for (const auto& f : fields) {
        if (f.size() < 9 || (f.compare(0, 9, "Received:") != 0 && f.compare(0, 9, "received:") != 0))
            continue;
        std::string value = f.substr(9);
        std::string flat;
        // Unfolded, with each fold's white space seen as a blank.
        for (char c : value)
            if (c != '\r' && c != '\n')
                flat += c == '\t' ? ' ' : c;
        if (flat.find(" tls ") == std::string::npos)
            continue;
        ++found;
        auto r = rfc8314::parseTimeStampLine(value);
        std::cout << (r.ok ? "ok: " : "INVALID: ") << flat;
        if (!r.ok)
            std::cout << "\n  error: " << r.error;
        std::cout << "\n";
        if (!r.ok)
            ++bad;
    }
    if (bad || tooLong)
        return 1;
    return found ? 0 : 2;
}
