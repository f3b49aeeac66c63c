"""Workbooks as downloads: the xlsx media type and a Chinese file name (RFC 5987, RFC 6266)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response

from app.excel.names import content_disposition
from app.excel.reader import XLSX_MEDIA_TYPE

__all__ = ["content_disposition", "xlsx_response"]


def xlsx_response(
    data: bytes, names: tuple[str, str], headers: Mapping[str, str] | None = None
) -> Response:
    """A workbook download named (Chinese name, ASCII fallback)."""
    head = {**(headers or {}), "Content-Disposition": content_disposition(*names)}
    return Response(data, media_type=XLSX_MEDIA_TYPE, headers=head)
