"""A Word package as a template: the parts of a report's .docx laid out once, then filled.

A part that never changes is compressed once; a part holding slots (sentinels put in while the
package was built with python-docx) is cut into text and slots and joined with each report's
values. The zip is written here, entry by entry as :mod:`zipfile` writes it.
"""

from __future__ import annotations

import io
import re
import struct
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass
from typing import Mapping

_SLOT = re.compile("\ue000([a-z_]+)\ue001")
# A slot that is a whole run or paragraph: python-docx wrote it as one holding only the sentinel.
_WHOLE_ELEMENTS = ("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "<w:r><w:t>{}</w:t></w:r>")
_CREATE_SYSTEM = 0 if sys.platform == "win32" else 3
_VERSION = 20  # zipfile's default "version needed to extract" and "made by"
_EXTERNAL_ATTR = 0o600 << 16


def sentinel(name: str) -> str:
    """The text that marks slot ``name`` in a part built with python-docx."""
    return f"\ue000{name}\ue001"


@dataclass(frozen=True)
class _Stored:
    """A zip entry: its name, CRC-32, size and deflated bytes."""

    name: bytes
    crc: int
    size: int
    data: bytes


@dataclass(frozen=True)
class _Slotted:
    """A part with slots: ``pieces`` alternates fixed text and slot names (fixed text first)."""

    name: str
    pieces: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> _Stored:
        text = "".join(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(self.pieces))
        return _compressed(self.name, text.encode("utf-8"))


def _compressed(name: str, blob: bytes) -> _Stored:
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile deflates
    return _Stored(name.encode("ascii"), zlib.crc32(blob), len(blob), packer.compress(blob) + packer.flush())


class PackageTemplate:
    """The parts of a .docx saved by python-docx, in their order; parts with sentinels become
    slotted parts (``slots``: the names found), the others are kept compressed."""

    def __init__(self, docx: bytes) -> None:
        self.parts: list[_Stored | _Slotted] = []
        self.slots: set[str] = set()
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            for info in archive.infolist():
                blob = archive.read(info)
                if not (info.filename.endswith(".xml") and b"\xee\x80\x80" in blob):  # U+E000 opens a sentinel
                    self.parts.append(_compressed(info.filename, blob))
                    continue
                text = blob.decode("utf-8")
                for mark in map(sentinel, set(_SLOT.findall(text))):
                    for pattern in _WHOLE_ELEMENTS:
                        text = text.replace(pattern.format(mark), mark)
                pieces = tuple(_SLOT.split(text))
                self.slots.update(pieces[1::2])
                self.parts.append(_Slotted(info.filename, pieces))

    def fill(self, values: Mapping[str, str]) -> bytes:
        """The .docx bytes with every slot filled by ``values`` (XML text, already escaped)."""
        return write_zip([p.fill(values) if isinstance(p, _Slotted) else p for p in self.parts])


def write_zip(parts: list[_Stored]) -> bytes:
    """A zip of deflated entries, laid out as :mod:`zipfile` lays them (the same headers and
    attributes, dated now)."""
    t = time.localtime(time.time())
    dos_time = t[3] << 11 | t[4] << 5 | (t[5] // 2)
    dos_date = (t[0] - 1980) << 9 | t[1] << 5 | t[2]
    out: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for part in parts:
        common = (zipfile.ZIP_DEFLATED, dos_time, dos_date, part.crc, len(part.data), part.size, len(part.name), 0)
        out += [struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", _VERSION, 0, 0, *common), part.name, part.data]
        directory += [struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", _VERSION, _CREATE_SYSTEM, _VERSION, 0, 0,
                                  *common, 0, 0, 0, _EXTERNAL_ATTR, offset), part.name]
        offset += 30 + len(part.name) + len(part.data)
    central = b"".join(directory)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(central), offset, 0)
    return b"".join(out) + central + end
