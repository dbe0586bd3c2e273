/* The contract between crashkit's loader and its purgatory: where the loader patches the
 * parameters into the flat purgatory image. Shared by the freestanding C purgatory and the C++
 * loader, so it is plain C with fixed-width fields and no padding. */
#ifndef CRASHKIT_PURGATORY_ABI_H
#define CRASHKIT_PURGATORY_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* "CKPURG01" little-endian: the loader refuses an image whose parameter block moved. */
#define CK_PURGATORY_MAGIC 0x3130475255504b43ull
/* The parameter block's byte offset in the flat image (entry.S puts it right after the jump). */
#define CK_PURGATORY_PARAMS_OFFSET 16
/* kexec_load takes at most 16 segments, one of which is the purgatory itself. */
#define CK_PURGATORY_MAX_REGIONS 16

#ifndef __ASSEMBLER__
struct ck_sha_region {
  uint64_t start; /* physical address (identity-mapped when purgatory runs) */
  uint64_t len;   /* bytes */
};

struct ck_purgatory_params {
  uint64_t magic;      /* CK_PURGATORY_MAGIC, left as built */
  uint64_t entry_rip;  /* the kernel's 64-bit entry: load address + 0x200 */
  uint64_t entry_rsi;  /* physical address of boot_params (64-bit boot protocol) */
  uint64_t nr_regions; /* used entries of regions[] */
  struct ck_sha_region regions[CK_PURGATORY_MAX_REGIONS];
  uint8_t digest[32]; /* SHA-256 over the regions' bytes, in order */
};
#endif

/* Offsets entry.S uses (checked against offsetof in the C and C++ builds). */
#define CK_PARAMS_ENTRY_RIP 8
#define CK_PARAMS_ENTRY_RSI 16
#define CK_PARAMS_SIZE 320

#endif
