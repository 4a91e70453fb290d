"""The DTD probe of every XML part (toolkit.workbook.source.safety): a byte order mark before
the declaration hides nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from toolkit.workbook.source.limits import DEFAULT_LIMITS
from toolkit.workbook.source.safety import Package, _check_zip, _declares_dtd, _read_entry

DTD = b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'


def package(content: bytes, name: str = "xl/styles.xml", method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr(name, content)
    return buf.getvalue()


def declares(content: bytes, whole: bool = False, method: int = zipfile.ZIP_DEFLATED) -> bool:
    with Package(package(content, method=method)) as zf:
        return _declares_dtd(zf, zf.getinfo("xl/styles.xml"), Path("t.xlsx"), DEFAULT_LIMITS, whole)


WAYS = [(False, zipfile.ZIP_DEFLATED), (True, zipfile.ZIP_DEFLATED), (True, zipfile.ZIP_STORED)]


@pytest.mark.parametrize("whole, method", WAYS)
@pytest.mark.parametrize("head", [b"", b"\xef\xbb\xbf", b'\xef\xbb\xbf<?xml version="1.0"?>\n', b"\xef\xbb\xbf  ",
                                  b"<!--" + b"x" * 5000 + b"-->"])
def test_a_dtd_after_a_utf8_byte_order_mark_is_found(head, whole, method):
    assert declares(head + DTD, whole, method)


@pytest.mark.parametrize("whole, method", WAYS)
@pytest.mark.parametrize("content", [b'\xef\xbb\xbf<?xml version="1.0"?><styleSheet/>', b"<styleSheet/>",
                                     b'<?xml version="1.0" encoding="UTF-8"?>\r\n<styleSheet/>',
                                     b"<!-- a comment first -->" + b"<styleSheet/>"])
def test_a_plain_part_has_none(content, whole, method):
    assert not declares(content, whole, method)


def test_a_part_read_whole_by_the_check_is_inflated_once():
    text = b'<?xml version="1.0"?><worksheet>' + b"<row/>" * 5000 + b"</worksheet>"
    with Package(package(text, "xl/worksheets/sheet1.xml")) as zf:
        _check_zip(zf, Path("t.xlsx"), DEFAULT_LIMITS, lambda name: name.startswith("xl/worksheets/"))
        kept = zf.inflated["xl/worksheets/sheet1.xml"]
        assert kept == text
        assert _read_entry(zf, "xl/worksheets/sheet1.xml", Path("t.xlsx"), DEFAULT_LIMITS) is kept


def test_a_part_whose_crc_is_wrong_is_not_kept_and_still_checked():
    text = DTD + b"<r/>" * 10000
    data = bytearray(package(text, "xl/worksheets/sheet1.xml", zipfile.ZIP_STORED))
    data[data.index(text) + len(text) - 10] ^= 1  # the end no longer matches the CRC
    with Package(bytes(data)) as zf:
        assert _declares_dtd(zf, zf.getinfo("xl/worksheets/sheet1.xml"), Path("t.xlsx"), DEFAULT_LIMITS, True)
        assert zf.inflated == {}


# ---------------------------------------------------------------- the toolkit's own parses

from toolkit.workbook.source.limits import SourceError  # noqa: E402
from toolkit.workbook.source.safety import _parse_xml  # noqa: E402


def parse(data: bytes):
    return _parse_xml(data, Path("t.xlsx"), "docProps/custom.xml")


@pytest.mark.parametrize("data", [
    DTD,
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').encode("utf-16"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').encode("utf-16-le"),
])
def test_a_declaration_is_refused_in_any_encoding(data):
    with pytest.raises(SourceError) as exc:
        parse(data)
    assert "不安全" in str(exc.value)


@pytest.mark.parametrize("data", [b'<x a="&lt;1&amp;"><y>&#x4E2D;&quot;</y><!-- note --></x>',
                                  b'<x a="&lt;1&amp;"><y>&#x4E2D;&quot;</y></x>',
                                  '<x a="&lt;1&amp;"><y>&#x4E2D;&quot;</y></x>'.encode("utf-16")])
def test_plain_documents_read_alike_by_either_parser(data):
    root = parse(data)
    assert (root.tag, root.get("a"), root.find("y").text) == ("x", "<1&", '中"')


@pytest.mark.parametrize("data", [b"<x>&undefined;</x>", b"<x><y></x>", b"<x/>\0"])
def test_a_broken_document_is_damaged(data):
    with pytest.raises(SourceError) as exc:
        parse(data)
    assert "损坏" in str(exc.value)
