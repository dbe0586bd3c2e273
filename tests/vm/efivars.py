#!/usr/bin/python3
"""Enroll an X.509 certificate in the UEFI db of an OVMF variable store image.

Usage: efivars.py add-db VARS_IN VARS_OUT CERT.der

Why: Debian's kernel trusts no key of Debian's at build time (its builtin keyring holds only the
build's module key); on real machines shim hands the Debian CA to the kernel, which puts UEFI db
and MOK certificates in its platform keyring. kexec_file_load under lockdown accepts a bzImage
whose PE signature verifies against that keyring (KEXEC_BZIMAGE_VERIFY_SIG; the platform-keyring
fallback is in v5.1 and later). A guest booted through OVMF with the signing certificate in db therefore has the
trust a Secure Boot machine has, without shim or Secure Boot itself.

The store is edk2's authenticated-variable format (VARIABLE_STORE_HEADER after the firmware
volume header); the new variable goes after the last one, in the store's free (0xff) space.
"""
import struct
import sys
import uuid

AUTH_STORE_GUID = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
IMAGE_SECURITY_DATABASE_GUID = uuid.UUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
CERT_X509_GUID = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
OWNER_GUID = uuid.UUID("c7a9b3a2-6f1e-4c8a-9d0b-63726173686b")  # any; "crashk" in the tail
START_ID = 0x55AA
VAR_ADDED = 0x3F
# NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS: the non-Secure-Boot OVMF build keeps
# variables without authentication, and the kernel only reads db through GetVariable.
ATTRS = 0x7
AUTH_VAR_HEADER = struct.Struct("<HBBIQ16sIII16s")  # 60 bytes


def die(msg):
    sys.exit(f"efivars.py: {msg}")


def signature_list(cert):
    data = OWNER_GUID.bytes_le + cert
    return CERT_X509_GUID.bytes_le + struct.pack("<III", 28 + len(data), 0, len(data)) + data


def add_db(src, dst, cert_path):
    img = bytearray(open(src, "rb").read())
    cert = open(cert_path, "rb").read()
    if cert[:1] != b"\x30":
        die(f"{cert_path}: not a DER certificate")
    if img[40:44] != b"_FVH":
        die(f"{src}: no firmware volume header")
    store = struct.unpack_from("<H", img, 48)[0]
    if uuid.UUID(bytes_le=bytes(img[store : store + 16])) != AUTH_STORE_GUID:
        die(f"{src}: not an authenticated variable store")
    end = store + struct.unpack_from("<I", img, store + 16)[0]
    off = store + 28
    while struct.unpack_from("<H", img, off)[0] == START_ID:
        _, state, _, _, _, _, _, name_size, data_size, guid = AUTH_VAR_HEADER.unpack_from(img, off)
        name = img[off + 60 : off + 60 + name_size].decode("utf-16-le")
        if state == VAR_ADDED and name == "db\0" and uuid.UUID(bytes_le=guid) == IMAGE_SECURITY_DATABASE_GUID:
            die(f"{src}: already has a db")
        off = (off + 60 + name_size + data_size + 3) & ~3
    name = "db\0".encode("utf-16-le")
    data = signature_list(cert)
    var = AUTH_VAR_HEADER.pack(START_ID, VAR_ADDED, 0, ATTRS, 0, bytes(16), 0, len(name), len(data),
                               IMAGE_SECURITY_DATABASE_GUID.bytes_le) + name + data
    if off + len(var) > end or any(b != 0xFF for b in img[off : off + len(var)]):
        die(f"{src}: no free space for db at {off:#x}")
    img[off : off + len(var)] = var
    with open(dst, "wb") as f:
        f.write(img)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "add-db":
        die("usage: efivars.py add-db VARS_IN VARS_OUT CERT.der")
    add_db(*sys.argv[2:])
