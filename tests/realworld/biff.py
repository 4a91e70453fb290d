"""BIFF8 (.xls) workbooks taken apart and put together again, for the real-world corpus.

Everything here is written from the specifications ([MS-CFB], [MS-XLS], [MS-OFFCRYPTO]) and
checked against independent readers by the corpus script (olefile through msoffcrypto-tool,
python-calamine): an OLE compound file writer for streams of any size, the records of a
workbook stream, RC4 CryptoAPI encryption and XOR obfuscation of a workbook stream exactly as
Excel writes them, and records placed far from the others (huge declared ranges).
"""

from __future__ import annotations

import hashlib
import random
import struct

FREE, END, FAT_MARK = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
SECTOR = 512

BOF, EOF, FILEPASS, BOUNDSHEET, DIMENSIONS = 0x0809, 0x000A, 0x002F, 0x0085, 0x0200
NUMBER, FORMULA, SHRFMLA, LABEL = 0x0203, 0x0006, 0x04BC, 0x0204
# [MS-XLS] 2.2.10: records never encrypted (BOF, FilePass, UsrExcl, FileLock, InterfaceHdr,
# RRDInfo, RRDHead); BoundSheet8 keeps its first four bytes (lbPlyPos) in the clear
PLAIN_RECORDS = {0x0809, 0x002F, 0x0194, 0x0195, 0x00E1, 0x0196, 0x0138}


# ---------------------------------------------------------------- compound files


def ole_file(streams: dict[str, bytes], *, mini: bool = False) -> bytes:
    """An OLE compound file (version 3, 512-byte sectors) holding ``streams``. A stream shorter
    than 4,096 bytes goes into the mini stream when ``mini`` (as every Office program stores
    it), else it is padded with zeros to that size."""
    small = {n: c for n, c in streams.items() if mini and len(c) < 4096}
    big = [(n, c if mini else c.ljust(4096, b"\0")) for n, c in streams.items() if n not in small]
    ministream, mini_starts, minifat = b"", {}, []
    for name, content in small.items():
        first = len(ministream) // 64
        mini_starts[name] = first
        n = max(1, -(-len(content) // 64))
        minifat += [first + i + 1 for i in range(n - 1)] + [END]
        ministream += content.ljust(n * 64, b"\0")
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    minifat_bytes += struct.pack("<I", FREE) * (-len(minifat) % (SECTOR // 4))
    chains = [("minifat", minifat_bytes), ("ministream", ministream)] + big
    n_dir_sectors = -(-(len(streams) + 1) // 4)
    data_sectors = sum(-(-len(c) // SECTOR) for _, c in chains)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + n_dir_sectors + data_sectors:
        n_fat += 1
    assert n_fat <= 109, "ole_file(): streams too large for a header-only DIFAT"
    fat = [FAT_MARK] * n_fat
    dir_start = len(fat)
    fat += [dir_start + i + 1 for i in range(n_dir_sectors - 1)] + [END]
    starts = {}
    for name, content in chains:
        n = -(-len(content) // SECTOR)
        if not n:
            starts[name] = END
            continue
        first = len(fat)
        starts[name] = first
        fat += [first + i + 1 for i in range(n - 1)] + [END]
    fat += [FREE] * (n_fat * SECTOR // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", FREE, right, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    names = list(streams)
    entries = [entry("Root Entry", 5, 1 if names else FREE, FREE, starts["ministream"], len(ministream))]
    for i, name in enumerate(names, 1):
        right = i + 1 if i < len(names) else FREE
        if name in small:
            entries.append(entry(name, 2, FREE, right, mini_starts[name], len(small[name])))
        else:
            content = dict(big)[name]
            entries.append(entry(name, 2, FREE, right, starts[name], len(content)))
    directory = b"".join(entries).ljust(n_dir_sectors * SECTOR, b"\0")
    n_minifat = -(-len(minifat_bytes) // SECTOR)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096, starts["minifat"], n_minifat, END, 0)
              + struct.pack("<109I", *range(n_fat), *([FREE] * (109 - n_fat))))
    body = b"".join(c + b"\0" * (-len(c) % SECTOR) for _, c in chains)
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + body


def workbook_stream(xls: bytes) -> bytes:
    """The Workbook stream of an .xls file (read with olefile, an independent reader)."""
    import io

    import olefile

    with olefile.OleFileIO(io.BytesIO(xls)) as ole:
        return ole.openstream("Workbook").read()


# ---------------------------------------------------------------- records


def records(stream: bytes) -> list[list]:
    """[[type, body], ...] of a workbook stream."""
    out, pos = [], 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        out.append([kind, stream[pos + 4:pos + 4 + size]])
        pos += 4 + size
    return out


def join(recs: list[list]) -> bytes:
    """The stream of ``recs``, every BoundSheet8 pointing at its sheet's BOF again."""
    offsets, pos, bofs = [], 0, []
    for kind, body in recs:
        offsets.append(pos)
        if kind == BOF:
            bofs.append(pos)
        pos += 4 + len(body)
    sheets = iter(bofs[1:])
    fixed = []
    for kind, body in recs:
        if kind == BOUNDSHEET:
            body = struct.pack("<I", next(sheets)) + body[4:]
        fixed.append([kind, body])
    return b"".join(struct.pack("<HH", k, len(b)) + b for k, b in fixed)


def with_filepass(recs: list[list], filepass: bytes) -> list[list]:
    return [recs[0], [FILEPASS, filepass], *recs[1:]]


def sheet_ranges(recs: list[list]) -> list[tuple[int, int]]:
    """(first, last) record index of each sheet substream (BOF .. EOF) after the globals."""
    out, start = [], None
    for i, (kind, _) in enumerate(recs):
        if kind == BOF:
            start = i
        elif kind == EOF and start is not None:
            out.append((start, i))
            start = None
    return out[1:]


def place_far(recs: list[list], sheet: int, extra: list[list], rows: int, cols: int) -> list[list]:
    """``extra`` records put at the end of sheet number ``sheet`` (0-based, after the globals),
    whose DIMENSIONS is made to declare ``rows`` x ``cols``."""
    first, last = sheet_ranges(recs)[sheet]
    out = [list(r) for r in recs]
    for i in range(first, last):
        if out[i][0] == DIMENSIONS:
            out[i][1] = struct.pack("<IIHHH", 0, rows, 0, cols, 0)
    return out[:last] + extra + out[last:]


def number(row: int, col: int, value: float) -> list:
    return [NUMBER, struct.pack("<HHHd", row, col, 0x0F, value)]


def shared_formula_block(first_row: int, last_row: int, first_col: int, last_col: int) -> list[list]:
    """A FORMULA cell holding a cached number at the top-left of a SHRFMLA range and at its
    bottom-right, both using the shared formula =A1+1 (ptgExp to the first cell)."""
    exp = struct.pack("<BHH", 0x01, first_row, first_col)  # ptgExp
    cached = struct.pack("<d", 1.0)

    def formula(row: int, col: int) -> list:
        return [FORMULA, struct.pack("<HHH", row, col, 0x0F) + cached + struct.pack("<HI", 0x0008, 0)
                + struct.pack("<H", len(exp)) + exp]

    rgce = struct.pack("<BHH", 0x44, 0, 0xC000) + struct.pack("<BH", 0x1E, 1) + b"\x03"  # A1 (relative) + 1
    shared = [SHRFMLA, struct.pack("<HHBBBB", first_row, last_row, first_col, last_col, 0, 2)
              + struct.pack("<H", len(rgce)) + rgce]
    return [formula(first_row, first_col), shared, formula(last_row, last_col)]


# ---------------------------------------------------------------- RC4 CryptoAPI ([MS-OFFCRYPTO] 2.3.5)


def _rc4(key: bytes):
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    except ImportError:  # cryptography < 43
        from cryptography.hazmat.primitives.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher

    return Cipher(ARC4(key), mode=None).encryptor()


def _cryptoapi_key(password: str, salt: bytes, block: int, key_bits: int = 128) -> bytes:
    h0 = hashlib.sha1(salt + password.encode("utf-16-le")).digest()
    h = hashlib.sha1(h0 + struct.pack("<I", block)).digest()
    return h[:5] + b"\0" * 11 if key_bits == 40 else h[: key_bits // 8]


def cryptoapi_filepass(password: str, salt: bytes, verifier: bytes) -> bytes:
    """The FILEPASS body of RC4 CryptoAPI encryption (version 4.2, 128-bit RC4, SHA-1), with the
    Microsoft provider's name as Excel writes it."""
    csp = "Microsoft Enhanced Cryptographic Provider v1.0\0".encode("utf-16-le")
    header = struct.pack("<IIIIIIII", 0x04, 0, 0x6801, 0x8004, 128, 0x01, 0, 0) + csp
    cipher = _rc4(_cryptoapi_key(password, salt, 0))
    encrypted = cipher.update(verifier) + cipher.update(hashlib.sha1(verifier).digest())
    verifier_blob = struct.pack("<I", 16) + salt + encrypted[:16] + struct.pack("<I", 20) + encrypted[16:]
    return struct.pack("<HHH", 1, 4, 2) + struct.pack("<II", 0x04, len(header)) + header + verifier_blob


def encrypt_cryptoapi(recs: list[list], password: str, seed: int = 1) -> bytes:
    """The workbook stream of ``recs`` encrypted with RC4 CryptoAPI, as Excel 2003-2019 do for
    a workbook with an open password (the default 'Office 97-2003' encryption)."""
    rnd = random.Random(seed)
    salt, verifier = rnd.randbytes(16), rnd.randbytes(16)
    plain = join(with_filepass(recs, cryptoapi_filepass(password, salt, verifier)))
    keystream = b"".join(_rc4(_cryptoapi_key(password, salt, block)).update(b"\0" * 1024)
                         for block in range(len(plain) // 1024 + 1))
    return _apply(plain, lambda pos, byte: byte ^ keystream[pos])


def _apply(stream: bytes, change) -> bytes:
    """``stream`` with ``change(position, byte)`` applied to every byte of a record body that is
    encrypted ([MS-XLS] 2.2.10)."""
    out, pos = bytearray(stream), 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if kind not in PLAIN_RECORDS:
            skip = 4 if kind == BOUNDSHEET else 0
            for p in range(body + skip, body + size):
                out[p] = change(p, stream[p])
        pos = body + size
    return bytes(out)


# ---------------------------------------------------------------- XOR obfuscation ([MS-OFFCRYPTO] 2.3.7)


_PAD = [0xBB, 0xFF, 0xFF, 0xBA, 0xFF, 0xFF, 0xB9, 0x80, 0x00, 0xBE, 0x0F, 0x00, 0xBF, 0x0F, 0x00]
_INITIAL = [0xE1F0, 0x1D0F, 0xCC9C, 0x84C0, 0x110C, 0x0E10, 0xF1CE, 0x313E, 0x1872, 0xE139, 0xD40F, 0x84F9,
            0x280C, 0xA96A, 0x4EC3]
_MATRIX = [0xAEFC, 0x4DD9, 0x9BB2, 0x2745, 0x4E8A, 0x9D14, 0x2A09, 0x7B61, 0xF6C2, 0xFDA5, 0xEB6B, 0xC6F7,
           0x9DCF, 0x2BBF, 0x4563, 0x8AC6, 0x05AD, 0x0B5A, 0x16B4, 0x2D68, 0x5AD0, 0x0375, 0x06EA, 0x0DD4,
           0x1BA8, 0x3750, 0x6EA0, 0xDD40, 0xD849, 0xA0B3, 0x5147, 0xA28E, 0x553D, 0xAA7A, 0x44D5, 0x6F45,
           0xDE8A, 0xAD35, 0x4A4B, 0x9496, 0x390D, 0x721A, 0xEB23, 0xC667, 0x9CEF, 0x29FF, 0x53FE, 0xA7FC,
           0x5FD9, 0x47D3, 0x8FA6, 0x0F6D, 0x1EDA, 0x3DB4, 0x7B68, 0xF6D0, 0xB861, 0x60E3, 0xC1C6, 0x93AD,
           0x377B, 0x6EF6, 0xDDEC, 0x45A0, 0x8B40, 0x06A1, 0x0D42, 0x1A84, 0x3508, 0x6A10, 0xAA51, 0x4483,
           0x8906, 0x022D, 0x045A, 0x08B4, 0x1168, 0x76B4, 0xED68, 0xCAF1, 0x85C3, 0x1BA7, 0x374E, 0x6E9C,
           0x3730, 0x6E60, 0xDCC0, 0xA9A1, 0x4363, 0x86C6, 0x1DAD, 0x3331, 0x6662, 0xCCC4, 0x89A9, 0x0373,
           0x06E6, 0x0DCC, 0x1021, 0x2042, 0x4084, 0x8108, 0x1231, 0x2462, 0x48C4]


def _xor_key(password: str) -> int:
    key, element = _INITIAL[len(password) - 1], 0x68
    for ch in (ord(c) for c in reversed(password)):
        for _ in range(7):
            if ch & 0x40:
                key ^= _MATRIX[element]
            ch = (ch << 1) & 0xFF
            element -= 1
    return key


def _xor_verifier(password: str) -> int:
    verifier = 0
    for byte in reversed([len(password), *map(ord, password)]):
        verifier = (((verifier >> 14) & 1) | ((verifier << 1) & 0x7FFF)) ^ byte
    return verifier ^ 0xCE4B


def _ror(n: int, k: int) -> int:
    return ((n >> k) | (n << (8 - k))) & 0xFF


def _xor_array(password: str) -> list[int]:
    key = _xor_key(password)
    high, low = key >> 8, key & 0xFF
    out = [0] * 16
    index = len(password)
    if index % 2 == 1:
        out[index] = _ror(_PAD[0] ^ high, 1)
        index -= 1
        out[index] = _ror(ord(password[-1]) ^ low, 1)
    while index > 0:
        index -= 1
        out[index] = _ror(ord(password[index]) ^ high, 1)
        index -= 1
        out[index] = _ror(ord(password[index]) ^ low, 1)
    index, pad = 15, 15 - len(password)
    while pad > 0:
        out[index] = _ror(_PAD[pad] ^ high, 1)
        index, pad = index - 1, pad - 1
        out[index] = _ror(_PAD[pad] ^ low, 1)
        index, pad = index - 1, pad - 1
    return out


def encrypt_xor(recs: list[list], password: str) -> bytes:
    """The workbook stream of ``recs`` obfuscated with XOR (method 1, Excel's 'weak
    encryption' of BIFF8 files, also what Excel 95 used)."""
    array = _xor_array(password)
    plain = join(with_filepass(recs, struct.pack("<HHH", 0, _xor_key(password), _xor_verifier(password))))
    out, pos = bytearray(plain), 0
    while pos + 4 <= len(plain):
        kind, size = struct.unpack_from("<HH", plain, pos)
        body = pos + 4
        if kind not in PLAIN_RECORDS:
            start = body + 4 if kind == BOUNDSHEET else body
            index = (body + size + (4 if kind == BOUNDSHEET else 0)) % 16
            for p in range(start, body + size):
                out[p] = (((plain[p] << 5) | (plain[p] >> 3)) & 0xFF) ^ array[index]
                index = (index + 1) % 16
        pos = body + size
    return bytes(out)


def decrypted(xls: bytes, password: str) -> bytes:
    """The Workbook stream of ``xls`` decrypted by msoffcrypto-tool (the independent check that
    the encryption above is what readers expect)."""
    import io

    import msoffcrypto

    office = msoffcrypto.OfficeFile(io.BytesIO(xls))
    office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return workbook_stream(out.getvalue())
