// notices.hpp — one RFC 5322 message per user below the rule, telling the
// user which clients to change before the deadline (rfc8314-report
// --notices), as Fastmail mailed its users before it retired cleartext.
//
// A notice is made from a template (a default English one is built in:
// report/templates/notice.txt) and what the audit trail shows of the user:
// its client addresses and their names, TLS versions, mechanisms, when it
// was last seen, and whether the password crossed in cleartext (then the
// notice advises a change, RFC 8314 section 4.1).
//
// Promises: nothing from the log reaches a header unencoded or a body line
// raw.  Every value from the log is cleaned first (control bytes, DEL, C1
// controls, line and paragraph separators and bidirectional controls
// shown as \xHH or \uHHHH, bytes that are not UTF-8 as U+FFFD); header
// values that are not short printable ASCII are RFC 2047 encoded words,
// folded; the body is UTF-8 in quoted-printable, so no line exceeds 76
// octets and no line is "." or starts with "From ".  To is the user when
// it is an RFC 5321 mailbox, else user@DOMAIN when that is one; a user
// with neither gets no notice (the caller lists it), never a guessed
// address.  Template errors (unknown placeholder, unbalanced block) are
// found before any notice is made, with the template's line.
#pragma once

#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate.hpp"

namespace rfc8314::report {

// The built-in English template (report/templates/notice.txt, compiled in).
std::string_view defaultNoticeTemplate() noexcept;

// A parsed template.  Syntax: the first line is "Subject: TEXT", then an
// empty line, then the body.  {name} is a placeholder, {{ a literal '{'.
// A line that is only "{if COND}", "{for client}" or "{end}" opens or
// closes a block (no nesting): an if block is kept when COND holds, a for
// block is repeated for each client address.
class NoticeTemplate {
public:
    // nullopt with "line N: why" in *error.
    static std::optional<NoticeTemplate> parse(std::string_view text, std::string* error);
    // Whether the template uses {deadline} outside an {if deadline} block
    // (then --deadline is needed).
    bool needsDeadline() const noexcept { return needsDeadline_; }

    struct Piece {
        bool placeholder = false;
        std::string text; // literal text, or the placeholder's name
    };
    struct Line {
        std::vector<Piece> pieces;
    };
    struct Block {
        enum Kind { Plain, If, For } kind = Plain;
        std::string cond; // If: the condition
        std::vector<Line> lines;
    };
    std::vector<Piece> subject;
    std::vector<Block> body;

private:
    bool needsDeadline_ = false;
};

// Placeholders a template may use, and the if-conditions (both in
// rfc8314-report(1)).
const std::vector<std::string_view>& noticePlaceholders();
const std::vector<std::string_view>& noticeClientPlaceholders(); // inside {for client}
const std::vector<std::string_view>& noticeConditions();

struct NoticeOptions {
    std::string from;              // an RFC 5321 mailbox
    std::string domain;            // for users that are no address; may be empty
    std::optional<Day> deadline;
    std::time_t now = 0;           // Date and Message-ID
    int utcOffsetMinutes = 0;
    long pid = 0;                  // Message-ID
};

struct Notice {
    std::uint32_t user = 0;
    std::string to;        // the address
    std::string fileName;  // "0001-alice.eml": a safe name of its own
    std::string message;   // the whole message, LF line ends
};

// The address a notice to `user` goes to, or "" when there is none (also
// for a name holding "=?", which RFC 2047 readers would decode in To).
std::string noticeAddress(std::string_view user, std::string_view domain);

// Text from the log made safe for a mail body or header (see the top).
std::string cleanText(std::string_view raw);
// An unstructured header field "Name: value\n", folded; the value RFC 2047
// encoded when it is not short printable ASCII or could be read as an
// encoded word.  `value` must be clean (cleanText) UTF-8.
std::string headerField(std::string_view name, std::string_view value);
// Quoted-printable body (RFC 2045 section 6.7) of UTF-8 text with LF line ends.
std::string quotedPrintable(std::string_view text);

// Calls `each` for every user below the rule (Aggregator::keepDetail, by
// name) that has an address, `noAddress` for every other one.  The
// aggregator's policy is the rule.
void makeNotices(const Aggregator& a, const NoticeTemplate& t, const NoticeOptions& o,
                 const std::function<void(const Notice&)>& each,
                 const std::function<void(std::uint32_t user)>& noAddress);

} // namespace rfc8314::report
