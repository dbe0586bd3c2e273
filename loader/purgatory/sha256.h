/* SHA-256 (FIPS 180-4) for the purgatory, which runs with no library and no SSE. The loader
 * computes the reference digest with OpenSSL; the unit tests compare this code against it. */
#ifndef CRASHKIT_PURGATORY_SHA256_H
#define CRASHKIT_PURGATORY_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ck_sha256 {
  uint32_t state[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t block[64];
  uint32_t used; /* bytes in block */
};

void ck_sha256_init(struct ck_sha256* s);
void ck_sha256_update(struct ck_sha256* s, const void* data, size_t len);
void ck_sha256_final(struct ck_sha256* s, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif
