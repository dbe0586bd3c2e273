/*
 * fill — make guest memory look like a busy machine before the rig crashes it.
 *
 *   fill anon MIB [SEED]       allocate MIB MiB of anonymous memory, fill it, then sleep
 *   fill file PATH MIB [SEED]  write a MIB MiB file (on tmpfs: page-cache pages), exit
 *
 * An idle guest is almost all zero or free pages, which makes every dump
 * format and compressor look equally good. Each 4 KiB page here gets one kind
 * of content, chosen by a seeded PRNG so runs are repeatable:
 *   zero 20 %, text 30 %, kernel-pointer-like 25 %, machine code 10 %, random 15 %.
 * Apart from the zero pages, no two pages are identical.
 * Built with gcc -static so the busybox initramfs needs no libc.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { kPage = 4096 };

static uint64_t rng_state;

static uint64_t rnd(void) {
  /* xorshift64*: fast under TCG, good enough for test data */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static const char* const kWords[] = {
    "the",     "kernel",  "page",     "memory",  "device",  "error",   "of",         "and",
    "to",      "in",      "process",  "file",    "system",  "network", "interface",  "link",
    "up",      "down",    "is",       "a",       "for",     "with",    "on",         "request",
    "timeout", "user",    "root",     "service", "started", "stopped", "connection", "from",
    "port",    "packet",  "received", "sent",    "bytes",   "cache",   "buffer",     "read",
    "write",   "open",    "close",    "failed",  "success", "value",   "config",     "option",
    "default", "warning", "info",     "debug",   "session", "client",
};
enum { kNWords = sizeof(kWords) / sizeof(kWords[0]) };

/* Log-file and prose-like text: what page cache of /var/log or /usr/share looks like. */
static void text_page(unsigned char* p) {
  size_t n = 0;
  while (n < kPage) {
    char line[256];
    int len;
    if (rnd() % 2) {
      uint64_t r = rnd();
      len = snprintf(line, sizeof line,
                     "Nov %2u %02u:%02u:%02u host%u daemon[%u]: ", (unsigned)(r % 28 + 1),
                     (unsigned)(r >> 8) % 24, (unsigned)(r >> 16) % 60, (unsigned)(r >> 24) % 60,
                     (unsigned)(r >> 32) % 4, (unsigned)(r >> 40) % 32768);
    } else {
      len = 0;
    }
    unsigned words = 4 + rnd() % 12;
    for (unsigned i = 0; i < words && len < 200; i++)
      len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", kWords[rnd() % kNWords],
                      i + 1 < words ? " " : "\n");
    size_t c = (size_t)len;
    if (c > kPage - n)
      c = kPage - n;
    memcpy(p + n, line, c);
    n += c;
  }
}

/* Slab-like objects: direct-map and kernel-text pointers, small ints, NULLs. */
static void pointer_page(unsigned char* p) {
  uint64_t* q = (uint64_t*)p;
  uint64_t base = 0xffff888000000000ULL + ((rnd() % 0x100000) << 12);
  unsigned stride = 1u << (3 + rnd() % 5); /* object size 8..128 words */
  for (unsigned i = 0; i < kPage / 8; i++) {
    uint64_t r = rnd();
    switch (i % stride == 0 ? 0 : r % 8) {
    case 0:
    case 1:
    case 2:
      q[i] = base + ((r >> 8) % 4096 & ~7ULL);
      break;
    case 3:
      q[i] = 0xffffffff81000000ULL + ((r >> 8) % 0x1000000);
      break;
    case 4:
      q[i] = 0;
      break;
    case 5:
      q[i] = (r >> 8) % 1024;
      break;
    default:
      q[i] = q[i ? i - 1 : 0] + 8;
    }
  }
}

static unsigned char* code;
static size_t code_pages;

static void fill_page(unsigned char* p) {
  unsigned k = (unsigned)(rnd() % 100);
  if (k < 20) {
    memset(p, 0, kPage); /* written, so the page is really allocated */
  } else if (k < 50) {
    text_page(p);
  } else if (k < 75) {
    pointer_page(p);
  } else if (k < 85 && code_pages) {
    /* Start at any byte and stamp the page: code-like statistics, but
     * no two pages identical, so deduplicating writers gain nothing
     * a real machine would not give them. */
    size_t span = (code_pages - 1) * kPage;
    memcpy(p, code + rnd() % span, kPage);
    uint64_t stamp = rnd();
    memcpy(p + (rnd() % (kPage / 8)) * 8, &stamp, 8);
  } else {
    uint64_t* q = (uint64_t*)p;
    for (unsigned i = 0; i < kPage / 8; i++)
      q[i] = rnd();
  }
}

/* Machine code comes from our own executable, which is on every initramfs. */
static void load_code(void) {
  int fd = open("/proc/self/exe", O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < kPage)
    return;
  code_pages = (size_t)st.st_size / kPage;
  code = malloc(code_pages * kPage);
  if (code_pages < 2 || !code ||
      read(fd, code, code_pages * kPage) != (ssize_t)(code_pages * kPage))
    code_pages = 0;
  close(fd);
}

static int usage(void) {
  fprintf(stderr, "usage: fill anon MIB [SEED] | fill file PATH MIB [SEED]\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 3)
    return usage();
  int file = strcmp(argv[1], "file") == 0;
  if (!file && strcmp(argv[1], "anon") != 0)
    return usage();
  if (file && argc < 4)
    return usage();
  size_t mib = strtoull(argv[file ? 3 : 2], NULL, 0);
  const char* seed = argc > (file ? 4 : 3) ? argv[file ? 4 : 3] : "1";
  rng_state = strtoull(seed, NULL, 0) * 0x9E3779B97F4A7C15ULL + 1;
  load_code();

  if (file) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      perror(argv[2]);
      return 1;
    }
    static unsigned char buf[1 << 20];
    for (size_t m = 0; m < mib; m++) {
      for (size_t off = 0; off < sizeof buf; off += kPage)
        fill_page(buf + off);
      if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
        perror("write");
        return 1;
      }
    }
    close(fd);
    return 0;
  }

  size_t len = mib << 20;
  unsigned char* mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (size_t off = 0; off < len; off += kPage)
    fill_page(mem + off);
  printf("fill: %zu MiB anonymous memory filled\n", mib);
  fflush(stdout);
  for (;;)
    pause();
}
