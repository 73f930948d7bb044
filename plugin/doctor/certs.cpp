// certs.cpp — certificate files read with OpenSSL (see certs.hpp).
#include "certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace rfc8314::doctor {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

std::optional<std::time_t> asTime(const ASN1_TIME* t) {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
        return std::nullopt;
    return timegm(&tm);
}

std::string subjectOf(X509* x) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

} // namespace

CertFacts readCertificateFile(const std::string& path) {
    CertFacts f;
    f.checkedAt = std::time(nullptr);
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
    if (!file) {
        const int e = errno;
        f.error = std::string("cannot be read: ") + std::strerror(e);
        f.notPermitted = e == EACCES && geteuid() != 0;
        if (f.notPermitted)
            f.error =
                "no permission as uid " + std::to_string(geteuid()) + "; run the doctor as root";
        return f;
    }
    ERR_clear_error();
    // PEM_read_X509 skips the key blocks of a combined key+chain file.
    while (true) {
        std::unique_ptr<X509, X509Free> x(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
        if (!x)
            break;
        const auto nb = asTime(X509_get0_notBefore(x.get()));
        const auto na = asTime(X509_get0_notAfter(x.get()));
        if (!nb || !na) {
            f.error = "a certificate in it has an unreadable validity period";
            return f;
        }
        if (f.count == 0) {
            f.subject = subjectOf(x.get());
            f.notBefore = *nb;
            f.notAfter = *na;
        } else {
            f.notBefore = std::max(f.notBefore, *nb);
            f.notAfter = std::min(f.notAfter, *na);
        }
        ++f.count;
    }
    ERR_clear_error(); // the end of the file is reported as an error too
    if (f.count == 0)
        f.error = "holds no PEM certificate";
    return f;
}

} // namespace rfc8314::doctor
