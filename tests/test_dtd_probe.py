"""The DTD probe of every XML part (toolkit.workbook.source.safety): a byte order mark before
the declaration hides nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from toolkit.workbook.source.safety import DEFAULT_LIMITS, _declares_dtd

DTD = b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'


def declares(content: bytes) -> bool:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/styles.xml", content)
    with zipfile.ZipFile(buf) as zf:
        return _declares_dtd(zf, zf.getinfo("xl/styles.xml"), Path("t.xlsx"), DEFAULT_LIMITS)


@pytest.mark.parametrize("head", [b"", b"\xef\xbb\xbf", b'\xef\xbb\xbf<?xml version="1.0"?>\n', b"\xef\xbb\xbf  "])
def test_a_dtd_after_a_utf8_byte_order_mark_is_found(head):
    assert declares(head + DTD)


@pytest.mark.parametrize("content", [b'\xef\xbb\xbf<?xml version="1.0"?><styleSheet/>', b"<styleSheet/>",
                                     b'<?xml version="1.0" encoding="UTF-8"?>\r\n<styleSheet/>'])
def test_a_plain_part_has_none(content):
    assert not declares(content)
