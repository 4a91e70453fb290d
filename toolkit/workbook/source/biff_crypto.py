"""An .xls "encrypted" with Excel's default password, read as the unprotected workbook it is.

When a workbook is protected without an open password (structure protection, "read-only
recommended"), Excel still encrypts the .xls, with the password ``VelvetSweatshop``, and opens
it without asking. Such a file is not one the clerk can "remove the password" from: it is
decrypted here ([MS-OFFCRYPTO] 2.3.5 RC4 CryptoAPI, 2.3.6 RC4, 2.3.7 XOR obfuscation; [MS-XLS]
2.2.10 for which bytes are encrypted) into a copy whose FILEPASS record no reader knows. Any
other password is a real one: :func:`decrypt_default` returns None and the file is
``workbook-encrypted``."""

from __future__ import annotations

import hashlib
import struct

DEFAULT_PASSWORD = "VelvetSweatshop"
_BOF, _FILEPASS, _BOUNDSHEET = 0x0809, 0x002F, 0x0085
_PLAIN = {0x0809, 0x002F, 0x0194, 0x0195, 0x00E1, 0x0196, 0x0138}
_IGNORED = 0x7FFF


def _rc4(key: bytes, n: int) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(n), 0, 0
    for k in range(n):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[k] = s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


def _cryptoapi_keys(password: str, salt: bytes, key_bits: int):
    h0 = hashlib.sha1(salt + password.encode("utf-16-le")).digest()

    def key(block: int) -> bytes:
        h = hashlib.sha1(h0 + struct.pack("<I", block)).digest()
        return h[:5] + b"\0" * 11 if key_bits == 40 else h[: key_bits // 8]
    return key


def _rc4_keys(password: str, salt: bytes):
    h0 = hashlib.md5(password.encode("utf-16-le")).digest()
    h1 = hashlib.md5((h0[:5] + salt) * 16).digest()
    return lambda block: hashlib.md5(h1[:5] + struct.pack("<I", block)).digest()


def _keystream_cipher(filepass: bytes):
    """For an RC4 FILEPASS opened by the default password: the key of each 1,024-byte block."""
    major, minor = struct.unpack_from("<HH", filepass, 2)
    if (major, minor) == (1, 1) and len(filepass) >= 54:
        salt, verifier, verifier_hash = filepass[6:22], filepass[22:38], filepass[38:54]
        key = _rc4_keys(DEFAULT_PASSWORD, salt)
        plain = bytes(a ^ b for a, b in zip(verifier + verifier_hash, _rc4(key(0), 32)))
        return key if hashlib.md5(plain[:16]).digest() == plain[16:] else None
    if major in (2, 3, 4) and minor == 2 and len(filepass) >= 14:
        header_size = struct.unpack_from("<I", filepass, 10)[0]
        header = filepass[14:14 + header_size]
        if len(header) < 32:
            return None
        key_bits = struct.unpack_from("<I", header, 16)[0] or 40
        blob = filepass[14 + header_size:]
        if len(blob) < 60:
            return None
        salt_size = struct.unpack_from("<I", blob, 0)[0]
        salt = blob[4:4 + salt_size]
        rest = blob[4 + salt_size:]
        verifier, hash_size = rest[:16], struct.unpack_from("<I", rest, 16)[0]
        key = _cryptoapi_keys(DEFAULT_PASSWORD, salt, key_bits)
        plain = bytes(a ^ b for a, b in zip(verifier + rest[20:20 + hash_size], _rc4(key(0), 16 + hash_size)))
        return key if hashlib.sha1(plain[:16]).digest()[:hash_size] == plain[16:16 + hash_size] else None
    return None


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


def _ror(n: int, k: int) -> int:
    return ((n >> k) | (n << (8 - k))) & 0xFF


def _xor_array(password: str) -> list[int] | None:
    """The XOR obfuscation array of ``password`` ([MS-OFFCRYPTO] 2.3.7.2, method 1)."""
    key, element = _INITIAL[len(password) - 1], 0x68
    for ch in (ord(c) for c in reversed(password)):
        for _ in range(7):
            if ch & 0x40:
                key ^= _MATRIX[element]
            ch = (ch << 1) & 0xFF
            element -= 1
    high, low = key >> 8, key & 0xFF
    out, index = [0] * 16, len(password)
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


def _xor_verifier(password: str) -> int:
    verifier = 0
    for byte in reversed([len(password), *map(ord, password)]):
        verifier = (((verifier >> 14) & 1) | ((verifier << 1) & 0x7FFF)) ^ byte
    return verifier ^ 0xCE4B


def _decrypted(stream: bytes) -> bytes | None:
    """The workbook stream decrypted with the default password, FILEPASS made unknown; None when
    the default password does not open it."""
    if len(stream) < 4 or struct.unpack_from("<H", stream, 0)[0] != _BOF:
        return None
    pos, filepass = 0, None
    for _ in range(16):
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind == _FILEPASS:
            filepass = stream[pos + 4:pos + 4 + size]
            break
        pos += 4 + size
        if pos + 4 > len(stream):
            return None
    if filepass is None or len(filepass) < 6:
        return None
    method = struct.unpack_from("<H", filepass, 0)[0]
    if method == 0:
        if struct.unpack_from("<H", filepass, 4)[0] != _xor_verifier(DEFAULT_PASSWORD):
            return None
        array = _xor_array(DEFAULT_PASSWORD)
        cipher = None
    elif method == 1:
        cipher = _keystream_cipher(filepass)
        if cipher is None:
            return None
        keystream = b"".join(_rc4(cipher(block), 1024) for block in range(len(stream) // 1024 + 1))
    else:
        return None
    out, at = bytearray(stream), 0
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        body = at + 4
        if kind == _FILEPASS:
            struct.pack_into("<H", out, at, _IGNORED)
            out[body:body + size] = bytes(size)
        elif kind not in _PLAIN:
            start = body + (4 if kind == _BOUNDSHEET else 0)
            if cipher is not None:
                for p in range(start, min(body + size, len(stream))):
                    out[p] = stream[p] ^ keystream[p]
            else:
                index = (body + size + (4 if kind == _BOUNDSHEET else 0)) % 16
                for p in range(start, min(body + size, len(stream))):
                    out[p] = _ror(stream[p] ^ array[index], 5)
                    index = (index + 1) % 16
        at = body + size
    return bytes(out)


def decrypt_default(data: bytes) -> bytes | None:
    """``data`` (an OLE .xls whose workbook stream holds FILEPASS) decrypted when its password
    is Excel's default one, else None."""
    from toolkit.workbook.source.biff import _stream_chunks

    for name in ("Workbook", "Book", "WORKBOOK", "BOOK"):
        chunks = _stream_chunks(data, name)
        if chunks is None:
            continue
        stream = b"".join(data[o:o + n] for o, n in chunks)
        plain = _decrypted(stream)
        if plain is None:
            return None
        out, at = bytearray(data), 0
        for offset, n in chunks:
            out[offset:offset + n] = plain[at:at + n]
            at += n
        return bytes(out)
    return None
