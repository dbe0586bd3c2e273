/* crashkit's purgatory: the first code that runs after a panic, between the dead kernel and the
 * capture kernel, identity-mapped and without a stack of its own until entry.S gives it one.
 * Its one job beyond entering the kernel: refuse to boot segments that changed since the load
 * (a stray DMA or wild write into the crash region), because a corrupted capture kernel fails
 * in ways nobody can debug afterwards. On a mismatch it says so on the first serial port and
 * halts; the machine then hangs or is reset by its watchdog instead of booting garbage. */
#include <stddef.h>

#include "purgatory_abi.h"
#include "sha256.h"

#pragma GCC visibility push(hidden)

extern struct ck_purgatory_params ck_params; /* in entry.S, patched by the loader */
void purgatory_main(void);

_Static_assert(offsetof(struct ck_purgatory_params, entry_rip) == CK_PARAMS_ENTRY_RIP, "abi");
_Static_assert(offsetof(struct ck_purgatory_params, entry_rsi) == CK_PARAMS_ENTRY_RSI, "abi");
_Static_assert(sizeof(struct ck_purgatory_params) == CK_PARAMS_SIZE, "abi");

/* The compiler may emit calls to these for struct copies even when freestanding. */
void* memset(void* d, int c, size_t n) {
  unsigned char* p = (unsigned char*)d;
  while (n--)
    *p++ = (unsigned char)c;
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  unsigned char* p = (unsigned char*)d;
  const unsigned char* q = (const unsigned char*)s;
  while (n--)
    *p++ = *q++;
  return d;
}

static void outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

/* COM1 as the dying kernel left it programmed; a bounded wait so a missing UART cannot hang us
 * before the halt we are about to do anyway. */
static void serial_puts(const char* s) {
  for (; *s; s++) {
    for (unsigned spin = 0; spin < 100000 && !(inb(0x3f8 + 5) & 0x20); spin++) {
    }
    outb(0x3f8, (uint8_t)*s);
  }
}

static void serial_hex(const uint8_t* p, unsigned n) {
  static const char digits[] = "0123456789abcdef";
  char buf[3] = {0, 0, 0};
  for (unsigned i = 0; i < n; i++) {
    buf[0] = digits[p[i] >> 4];
    buf[1] = digits[p[i] & 15];
    serial_puts(buf);
  }
}

void purgatory_main(void) {
  struct ck_sha256 ctx;
  ck_sha256_init(&ctx);
  uint64_t n = ck_params.nr_regions;
  if (n > CK_PURGATORY_MAX_REGIONS)
    n = CK_PURGATORY_MAX_REGIONS;
  for (uint64_t i = 0; i < n; i++)
    ck_sha256_update(&ctx, (const void*)(uintptr_t)ck_params.regions[i].start,
                     (size_t)ck_params.regions[i].len);
  uint8_t got[32];
  ck_sha256_final(&ctx, got);
  unsigned diff = 0;
  for (unsigned i = 0; i < 32; i++)
    diff |= got[i] ^ ck_params.digest[i];
  if (!diff)
    return;
  serial_puts("\r\ncrashkit purgatory: the capture kernel's memory changed since it was loaded "
              "(SHA-256 mismatch); not booting it. Halting.\r\n  expected ");
  serial_hex(ck_params.digest, 32);
  serial_puts("\r\n  found    ");
  serial_hex(got, 32);
  serial_puts("\r\n");
  for (;;)
    __asm__ volatile("cli; hlt");
}
