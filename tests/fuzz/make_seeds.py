#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (small files, committed). Run from anywhere:
   make_seeds.py MAKE_FIXTURE   (the crashkit-make-fixture binary, for the vmcore seeds)
The vmcore seeds keep a fixture core's headers and notes with each PT_LOAD cut to one page."""
import json, os, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def mini_core(full):
    """ELF header, phdrs and notes of `full`, each PT_LOAD cut to its first page."""
    e = struct.unpack_from("<16sHHIQQQIHHHHHH", full, 0)
    phoff, phnum = e[5], e[10]
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", full, phoff + 56 * i)) for i in range(phnum)]
    note = next(p for p in phdrs if p[0] == 4)
    out = bytearray(full[: phoff + 56 * phnum])
    out += b"\0" * (note[2] - len(out))
    out += full[note[2] : note[2] + note[5]]
    for p in phdrs:
        if p[0] != 1:
            continue
        while len(out) % 4096:
            out.append(0)
        page = full[p[2] : p[2] + 4096]
        p[2], p[5], p[6] = len(out), len(page), len(page)
        out += page
    for i, p in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, phoff + 56 * i, *p)
    return bytes(out)


def vmcore_seeds(make_fixture):
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in (("6.1", ["--ram-mib", "24"]), ("6.12-l5", ["--era", "6.12", "--paging", "5", "--ram-mib", "24"]),
                           ("5.10-flat", ["--era", "5.10", "--flat-mem-section", "--ram-mib", "32"]),
                           ("no-vmcoreinfo", ["--ram-mib", "24", "--no-vmcoreinfo"])):
            path = os.path.join(tmp, "core")
            subprocess.run([make_fixture, "--sparse", *args, path], check=True,
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
            with open(path, "rb") as f:
                full = f.read(64 << 20)
            core = mini_core(full)
            put("vmcore_elf", name, core)
            put("dump_readers", "elf-" + name, b'{"status":"complete"}\0' + core[:8192])


# The synthetic 6.1 lockless ring of tests/capture/test_dmesg.cpp: memory at BASE is physical 0.
BASE = 0xFFFFFFFF82000000
PRB_VAR, RB, CLEAR_SEQ, DESCS, INFOS, DATA = BASE, BASE + 0x100, BASE + 0x200, BASE + 0x1000, BASE + 0x2000, BASE + 0x4000


def vmcoreinfo_6_1():
    keys = """SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(dev_printk_info)=64
OFFSET(dev_printk_info.subsystem)=0
LENGTH(printk_info_subsystem)=16
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_device)=48
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
SIZE(latched_seq)=24
OFFSET(latched_seq.val)=8
"""
    return ("OSRELEASE=6.1.0-26-amd64\nPAGESIZE=4096\nSYMBOL(prb)=%x\nSYMBOL(printk_rb_static)=%x\n"
            "SYMBOL(clear_seq)=%x\n" % (PRB_VAR, RB, CLEAR_SEQ)) + keys + "CRASHTIME=1700000000\n"


def lockless_image(texts, count_bits=4, size_bits=9):
    mem = bytearray(0x8000)
    p64 = lambda va, v: struct.pack_into("<Q", mem, va - BASE, v & (2**64 - 1))
    p32 = lambda va, v: struct.pack_into("<I", mem, va - BASE, v)
    p16 = lambda va, v: struct.pack_into("<H", mem, va - BASE, v)
    first = 0x1230
    p64(PRB_VAR, RB); p32(RB, count_bits); p64(RB + 8, DESCS); p64(RB + 16, INFOS)
    p32(RB + 48, size_bits); p64(RB + 56, DATA)
    lpos, size = 0, 1 << size_bits
    ident = first
    for n, text in enumerate(texts):
        t = text.encode()
        blk = 8 + ((len(t) + 7) & ~7)
        begin, nxt = lpos, lpos + blk
        at = begin & (size - 1)
        if (begin >> size_bits) != (nxt >> size_bits):
            p64(DATA + at, ident)
            nxt = ((nxt >> size_bits) << size_bits) + blk
            at = 0
        p64(DATA + at, ident)
        mem[DATA - BASE + at + 8 : DATA - BASE + at + 8 + len(t)] = t
        desc = DESCS + (ident & ((1 << count_bits) - 1)) * 24
        info = INFOS + (ident & ((1 << count_bits) - 1)) * 88
        p64(desc, (2 << 62) | ident); p64(desc + 8, begin); p64(desc + 16, nxt)
        p64(info, ident - first); p64(info + 8, 1500 * n + 42123456789 * (n % 2)); p16(info + 16, len(t))
        p32(info + 20, 0x80000001)
        lpos = nxt
        p64(RB + 24, ident); p64(RB + 32, first)
        ident += 1
    return bytes(mem)


def plain_image():
    mem = bytearray(0x2000)
    log = b"<6>Linux version 2.6.32\n<0>Kernel panic - not syncing: test\n"
    mem[0x1000 : 0x1000 + len(log)] = log
    struct.pack_into("<Q", mem, 0x0, BASE + 0x1000)  # log_buf pointer
    struct.pack_into("<I", mem, 0x10, 0x1000)  # log_buf_len
    struct.pack_into("<I", mem, 0x20, len(log))  # log_end
    info = "OSRELEASE=2.6.32\nPAGESIZE=4096\nSYMBOL(log_buf)=%x\nSYMBOL(log_buf_len)=%x\nSYMBOL(log_end)=%x\n" % (
        BASE, BASE + 0x10, BASE + 0x20)
    return info.encode() + b"\0" + bytes(mem)


def dmesg_seeds():
    texts = ["Linux version 6.1.0-26-amd64", "Command line: root=/dev/vda1", "", "sysrq: Trigger a crash",
             "Kernel panic - not syncing: sysrq triggered crash"]
    put("dmesg", "lockless-6.1", vmcoreinfo_6_1().encode() + b"\0" + lockless_image(texts))
    put("dmesg", "lockless-wrap", vmcoreinfo_6_1().encode() + b"\0" + lockless_image(texts * 6, 4, 8))
    put("dmesg", "plain-2.6", plain_image())


def flat_seeds():
    hdr = bytearray(4096)
    hdr[0:12] = b"makedumpfile"
    struct.pack_into(">QQ", hdr, 16, 1, 1)
    rec = lambda off, data: struct.pack(">qq", off, len(data)) + data
    end = struct.pack(">qq", -1, -1)
    put("flat_reassemble", "two-records", bytes(hdr) + rec(0, b"KDUMP   " + b"\1" * 56) + rec(8192, b"\2" * 100) + end)
    put("flat_reassemble", "no-end", bytes(hdr) + rec(4096, b"\3" * 64))
    put("flat_reassemble", "empty", bytes(hdr) + end)


def json_seeds():
    report = {"time": 1700000000, "time_utc": "2023-11-14T22:13:20Z", "kernel": "6.1.0-26-amd64",
              "panic": "Kernel panic - not syncing: sysrq triggered crash", "dump_level": 31, "format": "kdump",
              "compression": "zstd", "vmcore_bytes": 1234, "dmesg_bytes": 100, "status": "complete",
              "exit_code": 0, "message": ""}
    put("json_readers", "report", json.dumps(report, indent=2))
    put("json_readers", "report-nulls", '{"kernel":null,"panic":null,"status":"failed","dump_level":"x"}')
    put("json_readers", "manifest", json.dumps({"format": 1, "kernel": "6.1.0-26-amd64", "config_sha256": "ab" * 32,
                                                "files": {"/init": "cd" * 32}, "binaries": {"/usr/sbin/crashkit-capture": "ef" * 32},
                                                "image_sha256": "01" * 32}, indent=2, sort_keys=True))
    put("json_readers", "pending", '{"started":"2026-12-01-101010","boot_id":"abc"}')
    put("json_readers", "last", '{"started":"2026-12-01-101010","saved":true,"opens":true,"dump_dir":"/var/crash/x","detail":"ok"}')
    put("json_readers", "crashkernel", '{"value":"crashkernel=256M","chosen_by":"default"}')
    put("dump_readers", "kdump", json.dumps(report) + "\0KDUMP   " + "\0" * 64)
    put("dump_readers", "flat", '{"status":"incomplete"}\0\1makedumpfile')
    put("dump_readers", "broken-report", '{"kernel": 5}\0\x7fELF\2\1\1')


def text_seeds():
    samples = os.path.join(HERE, "..", "conf", "samples")
    put("conf", "crashkit.conf", "path /var/crash\nkeep_dumps 3\nmin_free 512M\ncore_collector crashkit-capture -l -d 31\n"
        "failure_action shell\nfinal_action reboot\nkdump_pre /usr/local/bin/pre 'a b'\nappend irqpoll nr_cpus=1\n"
        "remove quiet\ncrashkernel 512M-2G:64M,2G-:128M\next4 UUID=0a1b-2c3d\nextra_modules virtio_blk\n")
    put("conf", "raw-target", "raw /dev/vdb\ncapture_kernel /boot/vmlinuz-6.1\nforce_rebuild yes\n")
    for kdump, sysconfig in (("fedora-kdump.conf", "fedora-sysconfig-kdump"), ("legacy-kdump.conf", "custom-sysconfig-kdump"),
                             ("debian-kdump-tools", None)):
        with open(os.path.join(samples, kdump), "rb") as f:
            data = f.read()
        if sysconfig:
            with open(os.path.join(samples, sysconfig), "rb") as f:
                data += b"\0" + f.read()
        put("conf", kdump, data)
    put("crashkernel", "plain", "256M\0quiet crashkernel=128M root=/dev/vda1")
    put("crashkernel", "ranges", "crashkernel=512M-2G:64M,2G-64G:128M,64G-:1G\0BOOT_IMAGE=/vmlinuz ro -- init=/bin/sh")
    put("crashkernel", "high-low", "crashkernel=256M,high crashkernel=72M,low\0crashkernel=1G@16M \"quoted x\" crashkernel=cma,64M")
    put("bootcfg", "grub", '\1GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="crashkernel=128M rhgb"\n')
    put("bootcfg", "grub-quotes", "\2GRUB_CMDLINE_LINUX='root=/dev/vda1 '\"crashkernel=\"'1G' # note\nGRUB_ENABLE_BLSCFG=true\n")
    put("bootcfg", "bls", "\3title Debian\nversion 6.1.0-26-amd64\nlinux /vmlinuz-6.1.0-26-amd64\noptions root=/dev/vda1 crashkernel=256M\noptions quiet\n")
    put("iomem", "pc", """00000000-00000fff : Reserved
00001000-0009fbff : System RAM
000f0000-000fffff : System ROM
00100000-bffdffff : System RAM
  01000000-01e02e3f : Kernel code
  02200000-0296bfff : Kernel data
  2b000000-32ffffff : Crash kernel
bffe0000-bfffffff : Reserved
fee00000-fee00fff : Local APIC
  fee00000-fee00fff : Reserved
100000000-23fffffff : System RAM
  23f000000-23fffffff : Crash kernel
""")
    put("iomem", "hidden", "00000000-00000000 : System RAM\n00000000-00000000 : Crash kernel\n")


def bzimage_seeds():
    setup_sects, payload = 4, 4096
    setup = (setup_sects + 1) * 512
    img = bytearray(setup + 64)
    def p(off, fmt, v):
        struct.pack_into("<" + fmt, img, off, v)
    p(0x1F1, "B", setup_sects); p(0x1F4, "I", (payload + 15) // 16); p(0x1FE, "H", 0xAA55)
    p(0x200, "B", 0xEB); p(0x201, "B", 0x6A); img[0x202:0x206] = b"HdrS"; p(0x206, "H", 0x020F)
    p(0x211, "B", 1); p(0x22C, "I", 0x7FFFFFFF); p(0x230, "I", 0x200000); p(0x234, "B", 1)
    p(0x236, "H", 0x7F); p(0x238, "I", 2047); p(0x258, "Q", 0x1000000); p(0x260, "I", 0x3F98000)
    extra = (payload - 64) << 16  # the rest of the file
    put("bzimage", "2.15", struct.pack("<Q", extra) + bytes(img))
    p(0x206, "H", 0x020C); p(0x236, "H", 0x1)
    put("bzimage", "2.12", struct.pack("<Q", extra) + bytes(img))
    put("bzimage", "truncated", struct.pack("<Q", 0) + bytes(img[:0x264]))


def vmcoreinfo_values_seeds():
    # FuzzedDataProvider input: any bytes are valid; a few different starts.
    put("vmcoreinfo_values", "a", bytes(range(0, 64)))
    put("vmcoreinfo_values", "b", bytes([0xFF, 3, 0x10, 2, 0, 0, 0, 0, 0, 0, 0x40, 1, 7, 0x80]))
    put("vmcoreinfo_values", "c", b"\x01\x02\x03\x04\x05\x06OFFSET(page.flags)=1048576\x00")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    vmcore_seeds(sys.argv[1])
    dmesg_seeds()
    flat_seeds()
    json_seeds()
    text_seeds()
    bzimage_seeds()
    vmcoreinfo_values_seeds()
