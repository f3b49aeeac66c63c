"""Bodies of `POST /v1/facts`: a JSON array of facts, or a workbook or CSV file uploaded as
`multipart/form-data` (field `file`) or sent as the body with its own media type.

A JSON body is validated as FastAPI would (the same 422 details); a file is handed over as
bytes with its name (from the multipart part, or a `Content-Disposition` header), since a CSV
file is named after its fact type.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from app.api.deps import exact_json
from app.errors import Invalid
from app.excel.reader import XLSX_MEDIA_TYPE

MAX_BATCH = 50_000
MAX_UPLOAD = 64 * 1024 * 1024  # bytes of a workbook or CSV file
FILE_TYPES = {
    XLSX_MEDIA_TYPE: "upload.xlsx",
    "application/vnd.ms-excel": "upload.xls",
    "application/vnd.oasis.opendocument.spreadsheet": "upload.ods",
    "application/octet-stream": "upload.xlsx",
    "text/csv": "upload.csv",
    "text/tab-separated-values": "upload.tsv",
}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_upload(request: Request) -> tuple[bytes, str] | None:
    """(bytes, file name) of an uploaded workbook or CSV file; None for a JSON body."""
    media = _media_type(request)
    if media == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException as e:  # Starlette's 400 for a body that is not multipart
            if e.status_code != 400:
                raise
            raise _invalid("body", f"not a multipart/form-data body: {e.detail}") from e
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise _invalid("body.file", "a multipart upload needs the workbook as `file`")
            data = await part.read(MAX_UPLOAD + 1)
            return _checked(data), part.filename or "upload.xlsx"
        finally:
            await form.close()
    if media in FILE_TYPES:
        data = await request.body()
        name = _disposition_name(request.headers.get("content-disposition"))
        return _checked(data), name or FILE_TYPES[media]
    return None


def _checked(data: bytes) -> bytes:
    if len(data) > MAX_UPLOAD:
        raise HTTPException(413, f"the file is larger than {MAX_UPLOAD // 2**20} MiB")
    if not data:
        raise _invalid("body", "the file is empty")
    return data


def _disposition_name(header: str | None) -> str | None:
    """The file name a `Content-Disposition` header gives (`filename*` first)."""
    if not header:
        return None
    msg = email.message.Message()
    msg["content-disposition"] = header
    name = msg.get_filename()
    return name.replace("/", "_").replace("\\", "_") if name else None


def _invalid(field: str, message: str) -> Invalid:
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


async def json_body(request: Request, adapter: TypeAdapter[list[Any]]) -> list[Any]:
    """The JSON array of a body, validated by `adapter`, with FastAPI's 422 details."""
    media = _media_type(request)
    if media and media != "application/json" and not media.endswith("+json"):
        message = f"the body must be JSON (Content-Type: application/json), not {media}"
        err = HTTPException(415, message)
        raise err
    body = await request.body()
    if not body:
        raise _invalid("body", "a JSON array of facts is required")
    try:
        raw = exact_json(body)
    except json.JSONDecodeError as e:
        error = {"type": "json_invalid", "loc": ("body", e.pos), "ctx": {"error": e.msg}}
        raise RequestValidationError([error], body=e.doc) from e
    try:
        got: list[Any] = adapter.validate_python(raw)
    except ValidationError as e:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        raise RequestValidationError(errors) from e
    return got


def facts_body(model: type[BaseModel], example: list[dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI request body of `POST /v1/facts`: JSON, or a file of any accepted type."""
    binary = {"schema": {"type": "string", "format": "binary", "minLength": 1}}
    upload = {"type": "object", "properties": {"file": binary["schema"]}, "required": ["file"]}
    items = {"type": "array", "items": model.model_json_schema(), "minItems": 1}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {**items, "maxItems": MAX_BATCH}, "example": example},
            "multipart/form-data": {"schema": upload},
            **{media: binary for media in FILE_TYPES},
        },
    }
