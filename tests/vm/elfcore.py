#!/usr/bin/python3
"""Minimal ELF64 core reader for the VM rig (host side, stdlib only).

  elfcore.py size FILE     print the length of the ELF core that starts FILE
                           (a raw disk the capture kernel dd'd /proc/vmcore onto)
  elfcore.py check FILE    verify an x86_64 ELF core with a VMCOREINFO note;
                           print a one-line summary

Also imported by check-dumps for reading raw pages by physical address.
"""
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4


class ElfCore:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        ehdr = self.f.read(64)
        if len(ehdr) < 64 or ehdr[:4] != b"\x7fELF":
            raise ValueError(f"{path}: not an ELF file")
        if ehdr[4] != 2 or ehdr[5] != 1:
            raise ValueError(f"{path}: not ELF64 little-endian")
        (self.e_type, self.e_machine, _, _, self.e_phoff, _, _, _, self.e_phentsize,
         self.e_phnum, _, _, _) = struct.unpack_from("<HHIQQQIHHHHHH", ehdr, 16)
        self.f.seek(self.e_phoff)
        raw = self.f.read(self.e_phentsize * self.e_phnum)
        if len(raw) != self.e_phentsize * self.e_phnum:
            raise ValueError(f"{path}: program headers truncated")
        self.phdrs = []
        for i in range(self.e_phnum):
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _ = \
                struct.unpack_from("<IIQQQQQQ", raw, i * self.e_phentsize)
            self.phdrs.append(dict(type=p_type, offset=p_offset, vaddr=p_vaddr,
                                   paddr=p_paddr, filesz=p_filesz, memsz=p_memsz))
        self.loads = [p for p in self.phdrs if p["type"] == PT_LOAD]

    def size(self):
        end = self.e_phoff + self.e_phentsize * self.e_phnum
        for p in self.phdrs:
            end = max(end, p["offset"] + p["filesz"])
        return end

    def notes(self):
        """Yield (name, type, desc) of every note in every PT_NOTE."""
        for p in self.phdrs:
            if p["type"] != PT_NOTE:
                continue
            self.f.seek(p["offset"])
            data = self.f.read(p["filesz"])
            off = 0
            while off + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from("<III", data, off)
                off += 12
                name = data[off:off + namesz].rstrip(b"\0").decode("latin-1")
                off += (namesz + 3) & ~3
                desc = data[off:off + descsz]
                off += (descsz + 3) & ~3
                if namesz == 0 and descsz == 0 and ntype == 0:
                    break
                yield name, ntype, desc

    def vmcoreinfo(self):
        for name, _, desc in self.notes():
            if name == "VMCOREINFO":
                text = desc.rstrip(b"\0").decode("latin-1")
                return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
        return None

    def dumpable_pfns(self, page=4096):
        """Yield (first_pfn, count) of pages backed by file data."""
        for p in self.loads:
            first = (p["paddr"] + page - 1) // page
            last = (p["paddr"] + p["filesz"]) // page
            if last > first:
                yield first, last - first

    def read_phys(self, paddr, length):
        """Bytes at physical address paddr, or None when not in the file."""
        for p in self.loads:
            if p["paddr"] <= paddr and paddr + length <= p["paddr"] + p["filesz"]:
                self.f.seek(p["offset"] + paddr - p["paddr"])
                return self.f.read(length)
        return None


def main(argv):
    if len(argv) != 3 or argv[1] not in ("size", "check"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        core = ElfCore(argv[2])
    except (OSError, ValueError) as e:
        print(f"elfcore.py: {e}", file=sys.stderr)
        return 1
    if argv[1] == "size":
        print(core.size())
        return 0
    problems = []
    if core.e_type != 4:
        problems.append(f"e_type {core.e_type} is not ET_CORE")
    if core.e_machine != 62:
        problems.append(f"e_machine {core.e_machine} is not EM_X86_64")
    info = core.vmcoreinfo()
    if info is None:
        problems.append("no VMCOREINFO note")
    import os
    if os.path.getsize(argv[2]) < core.size():
        problems.append(f"file shorter than its headers say ({core.size()} bytes)")
    if problems:
        print(f"elfcore.py: {argv[2]}: " + "; ".join(problems), file=sys.stderr)
        return 1
    ram = sum(p["memsz"] for p in core.loads)
    print(f"ELF core: {len(core.loads)} PT_LOAD, {ram >> 20} MiB RAM, "
          f"OSRELEASE={info.get('OSRELEASE')}, PAGESIZE={info.get('PAGESIZE')}, "
          f"pgtable_l5_enabled={info.get('NUMBER(pgtable_l5_enabled)', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
