"""Workbooks as downloads: the xlsx media type and a Chinese file name (RFC 5987, RFC 6266)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import Response

from app.excel.reader import XLSX_MEDIA_TYPE

# RFC 5987 attr-char beyond letters and digits: these need no percent-encoding.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(name: str, fallback: str) -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<name, percent-encoded>`."""
    plain = "".join(ch if 32 < ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in fallback)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


def xlsx_response(
    data: bytes, names: tuple[str, str], headers: Mapping[str, str] | None = None
) -> Response:
    """A workbook download named (Chinese name, ASCII fallback)."""
    head = {**(headers or {}), "Content-Disposition": content_disposition(*names)}
    return Response(data, media_type=XLSX_MEDIA_TYPE, headers=head)
