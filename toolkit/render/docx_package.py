"""A Word package as a template: the parts of a report's .docx laid out once, then filled.

A part that never changes is compressed once; a part holding slots (sentinels put in while the
package was built with python-docx) is cut into text and slots and joined with each report's
values. The zip is written as :mod:`zipfile` writes it (:func:`toolkit.ooxml.zip_bytes`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Mapping

from toolkit.ooxml import ZipEntry, zip_bytes

_SLOT = re.compile("\ue000([a-z_]+)\ue001")
# A slot that is a whole run or paragraph: python-docx wrote it as one holding only the sentinel.
_WHOLE_ELEMENTS = ("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "<w:r><w:t>{}</w:t></w:r>")


def sentinel(name: str) -> str:
    """The text that marks slot ``name`` in a part built with python-docx."""
    return f"\ue000{name}\ue001"


@dataclass(frozen=True)
class _Slotted:
    """A part with slots: ``pieces`` alternates fixed text and slot names (fixed text first)."""

    name: str
    pieces: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> ZipEntry:
        text = "".join(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(self.pieces))
        return ZipEntry.deflated(self.name, text.encode("utf-8"))


class PackageTemplate:
    """The parts of a .docx saved by python-docx, in their order; parts with sentinels become
    slotted parts (``slots``: the names found), the others are kept compressed."""

    def __init__(self, docx: bytes) -> None:
        self.parts: list[ZipEntry | _Slotted] = []
        self.slots: set[str] = set()
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            for info in archive.infolist():
                blob = archive.read(info)
                if not (info.filename.endswith(".xml") and b"\xee\x80\x80" in blob):  # U+E000 opens a sentinel
                    self.parts.append(ZipEntry.deflated(info.filename, blob))
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
        return zip_bytes(p.fill(values) if isinstance(p, _Slotted) else p for p in self.parts)
