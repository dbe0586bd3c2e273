#!/usr/bin/python3
"""Host-side oracle helpers for tests/vm/check-dumps (Debian's python3 only:
python3-libkdumpfile is installed for /usr/bin/python3).

  rigcheck.py mdf-json LOG            makedumpfile --message-level 31 report ->
                                      the shape of crashkit-capture --json, on stdout
  rigcheck.py compare OURS MDF        per-class excluded counts side by side;
                                      exit 1 on any difference
  rigcheck.py sample RAW DUMP LEVEL [COUNT [SEED]]
                                      read random pages of DUMP with libkdumpfile and
                                      compare them with the raw ELF vmcore RAW
"""
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from elfcore import ElfCore  # noqa: E402

PAGE = 4096
CLASSES = ["zero", "cache", "cache_private", "user", "free", "hwpoison", "offline"]
# makedumpfile 1.7.2's report labels, in the order it prints them.
MDF_LABELS = {
    "Pages filled with zero": "zero",
    "Non-private cache pages": "cache",
    "Private cache pages": "cache_private",
    "User process data pages": "user",
    "Free pages": "free",
    "Hwpoison pages": "hwpoison",
    "Offline pages": "offline",
}


def mdf_json(log_path):
    text = open(log_path, encoding="latin-1").read()
    vals = {}
    for m in re.finditer(r"^\s*([A-Za-z -]+?)\s*: (0x[0-9a-f]+)\s*$", text, re.M):
        vals[m.group(1)] = int(m.group(2), 16)
    missing = [l for l in MDF_LABELS if l not in vals]
    if missing or "Remaining pages" not in vals:
        sys.exit(f"rigcheck.py: {log_path}: no exclusion table (missing {missing}); "
                 "was makedumpfile run with --message-level 31?")
    out = {"pages": {
        "total": vals.get("Total pages"),
        "ram": vals.get("Original pages"),
        "excluded": {MDF_LABELS[l]: vals[l] for l in MDF_LABELS},
        "written": vals["Remaining pages"],
    }, "producer": "makedumpfile"}
    json.dump(out, sys.stdout)
    print()
    return 0


def compare(ours_path, mdf_path):
    try:
        ours = json.load(open(ours_path))["pages"]["excluded"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"rigcheck.py: {ours_path}: no pages.excluded in the --json output ({e})")
        return 1
    mdf = json.load(open(mdf_path))["pages"]["excluded"]
    bad = 0
    print(f"    {'class':<14}{'crashkit':>12}{'makedumpfile':>14}")
    for c in CLASSES:
        a, b = ours.get(c), mdf.get(c)
        mark = "" if a == b else "   <-- differs"
        bad += a != b
        print(f"    {c:<14}{str(a):>12}{str(b):>14}{mark}")
    return 1 if bad else 0


def ram_ranges(core):
    """Distinct physical PFN ranges [first, end) backed by the raw core; the
    kernel-text PT_LOAD duplicates part of the direct map, so merge overlaps."""
    spans = sorted((f, f + n) for f, n in core.dumpable_pfns(PAGE))
    merged = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def sample(raw_path, dump_path, level, count=1000, seed=1):
    import kdumpfile
    from kdumpfile.exceptions import NoDataException

    raw = ElfCore(raw_path)
    ranges = ram_ranges(raw)
    total = sum(b - a for a, b in ranges)
    k = kdumpfile.kdumpfile(dump_path)
    try:
        k.attr["addrxlat.ostype"] = "linux"
    except Exception:
        pass  # raw page reads need no translation; only a nicety for the open

    # A filtered ELF dump leaves excluded pages out of p_filesz; readers see
    # them as holes or (inside p_memsz) as zeros, so tell them apart by its headers.
    elf_dump = None
    with open(dump_path, "rb") as f:
        if f.read(4) == b"\x7fELF":
            elf_dump = ElfCore(dump_path)

    rng = random.Random(seed)

    def random_pfn():
        i = rng.randrange(total)
        for a, b in ranges:
            if i < b - a:
                return a + i
            i -= b - a

    # Edge pages first (first/last of every range, PFN 0, the first zero page),
    # where off-by-one and bitmap-boundary bugs live.
    fixed = [0] + [p for a, b in ranges for p in (a, b - 1)]
    for pfn in range(ranges[0][0], min(ranges[0][1], ranges[0][0] + 4096)):
        if raw.read_phys(pfn * PAGE, PAGE) == bytes(PAGE):
            fixed.append(pfn)
            break

    readable = excluded = tries = 0
    errors = []
    seen = set()
    while readable < count and tries < 60 * count and len(errors) < 5:
        pfn = fixed[tries] if tries < len(fixed) else random_pfn()
        tries += 1
        if pfn in seen:
            continue
        seen.add(pfn)
        want = raw.read_phys(pfn * PAGE, PAGE)
        if want is None:
            continue
        try:
            got = bytes(k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE))
        except NoDataException:
            got = None
        except Exception as e:  # noqa: BLE001 - any other reader error is a defect
            errors.append(f"PFN {pfn:#x}: {type(e).__name__}: {e}")
            continue
        if elf_dump is not None and elf_dump.read_phys(pfn * PAGE, PAGE) is None:
            if got not in (None, bytes(PAGE)):
                errors.append(f"PFN {pfn:#x}: outside the ELF dump's file data but read non-zero")
            got = None
        if got is None:
            excluded += 1
            # Dump level 1 excludes only zero pages: anything else missing is lost data.
            if level == 1 and want != bytes(PAGE):
                errors.append(f"PFN {pfn:#x}: excluded at -d 1 but not a zero page")
            continue
        readable += 1
        if got != want:
            off = next(i for i in range(PAGE) if got[i] != want[i])
            errors.append(f"PFN {pfn:#x}: differs from the raw vmcore at byte {off:#x}")
        # Excluded zero pages may still read back as zeros: the kdump format keeps
        # them as one shared zero page, ELF as p_memsz > p_filesz.
    summary = f"{readable} pages equal, {excluded} excluded, {len(seen)} sampled"
    if errors:
        print(summary + "; " + "; ".join(errors))
        return 1
    if readable < min(count, 50):
        print(summary + f"; fewer than {min(count, 50)} readable pages")
        return 1
    print(summary)
    return 0


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "mdf-json":
            return mdf_json(argv[2])
        if len(argv) == 4 and argv[1] == "compare":
            return compare(argv[2], argv[3])
        if 5 <= len(argv) <= 7 and argv[1] == "sample":
            return sample(argv[2], argv[3], int(argv[4]), *map(int, argv[5:]))
    except (OSError, ValueError) as e:
        print(f"rigcheck.py: {e}")
        return 1
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
