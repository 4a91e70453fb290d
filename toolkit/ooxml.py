"""What the toolkit's Office Open XML packages are made of, for the reader and the writers alike:
a zip written from entries whose data is ready (:func:`zip_bytes`, laid out as :mod:`zipfile`
lays it out), and the characters XML 1.0 text cannot hold (:data:`NOT_XML_CHAR`)."""

from __future__ import annotations

import re
import struct
import sys
import time
import zipfile
import zlib
from typing import Iterable, NamedTuple

NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""A character no XML 1.0 text may hold (lxml refuses them; a parser stops at them)."""

_VERSION = 20  # zipfile's "version needed to extract" and "made by"
_CREATE_SYSTEM = 0 if sys.platform == "win32" else 3
_EXTERNAL_ATTR = 0o600 << 16  # zipfile's for an entry written from bytes
_UTF8_NAME = 0x800
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir


class ZipEntry(NamedTuple):
    """One entry as it is to be stored: its name, method (stored or deflated), the CRC-32 and
    size of its content, and its data as stored."""

    name: str
    method: int
    crc: int
    size: int
    data: bytes

    @classmethod
    def deflated(cls, name: str, content: bytes) -> "ZipEntry":
        """``content`` deflated as :mod:`zipfile` deflates it."""
        packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        return cls(name, zipfile.ZIP_DEFLATED, zlib.crc32(content), len(content),
                   packer.compress(content) + packer.flush())


def zip_bytes(entries: Iterable[ZipEntry], date_time: tuple[int, ...] | None = None) -> bytes:
    """A zip of ``entries`` in their order, with :mod:`zipfile`'s headers, attributes and name
    encoding (UTF-8, flagged, for a name that is not ASCII), dated ``date_time`` (year, month,
    day, hour, minute, second; default now)."""
    t = date_time or time.localtime(time.time())[:6]
    dos_time = t[3] << 11 | t[4] << 5 | (t[5] // 2)
    dos_date = (t[0] - 1980) << 9 | t[1] << 5 | t[2]
    out: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for text, method, crc, size, data in entries:
        name, flags = (text.encode("ascii"), 0) if text.isascii() else (text.encode(), _UTF8_NAME)
        out += [_LOCAL.pack(b"PK\x03\x04", _VERSION, 0, flags, method, dos_time, dos_date, crc, len(data), size,
                            len(name), 0), name, data]
        directory += [_CENTRAL.pack(b"PK\x01\x02", _VERSION, _CREATE_SYSTEM, _VERSION, 0, flags, method, dos_time,
                                    dos_date, crc, len(data), size, len(name), 0, 0, 0, 0, _EXTERNAL_ATTR, offset), name]
        offset += 30 + len(name) + len(data)
    central = b"".join(directory)
    n = len(directory) // 2
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(central), offset, 0)
    return b"".join(out) + central + end
