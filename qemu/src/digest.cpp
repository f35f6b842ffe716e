#include "digest.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr))
        throw HarnessError("sha256 failed");
    std::string hex;
    for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

}  // namespace mmguard
