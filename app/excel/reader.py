"""Workbooks and CSV files as sheets of cell values, whatever wrote them.

Workbooks (xlsx, xlsm, xls, ods; Excel, WPS or LibreOffice) are read with python-calamine.
A CSV file is one sheet named after the file; its text is UTF-8 (with or without a BOM),
UTF-16 with a BOM, or GB18030 (what Excel on Chinese Windows writes), comma- or tab-separated.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from app.errors import Invalid

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Sheet:
    """A sheet's cells by row from A1 (row 1 first); an empty cell is ""."""

    name: str
    rows: list[list[Any]]


def is_workbook_file(path: Path) -> bool:
    """True for a workbook or CSV file (by its name, or its first bytes)."""
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    with path.open("rb") as fh:
        return is_workbook(fh.read(8))


def is_workbook(data: bytes) -> bool:
    """True for the bytes of an xlsx/ods (zip) or xls (OLE) file."""
    return data.startswith(_ZIP) or data.startswith(_OLE)


def read_sheets(data: bytes, filename: str) -> list[Sheet]:
    """Every sheet of a workbook, or the one sheet of a CSV file (named after the file)."""
    if is_workbook(data):
        return _workbook(data, filename)
    return [Sheet(PurePath(filename).stem or "csv", csv_rows(data, filename))]


def _workbook(data: bytes, filename: str) -> list[Sheet]:
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        with wb:
            return [
                Sheet(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in wb.sheet_names
            ]
    except CalamineError as e:
        raise Invalid(f"{filename}: not a workbook that can be read ({e})") from e


def decode_text(data: bytes, filename: str) -> str:
    """CSV bytes as text: a BOM decides, else UTF-8 if it decodes, else GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise Invalid(
            f"{filename}: neither UTF-8 nor GB18030 text (byte {e.start}); save it as CSV UTF-8"
        ) from e


def csv_rows(data: bytes, filename: str) -> list[list[Any]]:
    """The rows of a CSV (or tab-separated) file as text cells."""
    text = decode_text(data, filename)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as e:
        raise Invalid(f"{filename}: not a CSV file ({e})") from e
