"""Files the pages offer: workbooks and PDFs with a Chinese file name (RFC 5987, RFC 6266).

A download is a route of the page it belongs to, with the same viewer check as the page."""

from __future__ import annotations

from fastapi import Response

from app.excel.names import content_disposition
from app.excel.reader import XLSX_MEDIA_TYPE


def xlsx(data: bytes, names: tuple[str, str]) -> Response:
    """A workbook named (Chinese name, ASCII fallback)."""
    headers = {"Content-Disposition": content_disposition(*names)}
    return Response(data, media_type=XLSX_MEDIA_TYPE, headers=headers)


def pdf(data: bytes, name: str, fallback: str) -> Response:
    """A PDF named (Chinese name, ASCII fallback), downloaded rather than shown."""
    headers = {"Content-Disposition": content_disposition(name, fallback)}
    return Response(data, media_type="application/pdf", headers=headers)
