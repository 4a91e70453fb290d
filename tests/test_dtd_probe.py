"""The DTD probe of every XML part (toolkit.workbook.source.safety): a byte order mark before
the declaration hides nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from toolkit.workbook.source.limits import DEFAULT_LIMITS
from toolkit.workbook.source.safety import _declares_dtd

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
