"""Media files under MEDIA_DIR: written under a random name, found again without ever
leaving the directory, and described for a download.

Paths kept on messages are relative to MEDIA_DIR (what a channel writes, what an upload
writes), so the directory can move without touching the database."""

from __future__ import annotations

import asyncio
import mimetypes
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from sanic import Request
from sanic.headers import parse_content_header
from sanic.request.form import parse_multipart_form
from sanic.response import HTTPResponse, file

from bot.channel import MediaKind, MediaRef
from service.errors import BadRequest, InvalidFields, PayloadTooLarge, fields_from_validation_error

__all__ = [
    "MEDIA_KINDS",
    "StoredMedia",
    "Upload",
    "clean_filename",
    "clean_mime",
    "content_disposition",
    "kind_for_mime",
    "media_fields",
    "media_file",
    "media_response",
    "parse_upload",
    "remove_media",
    "store_media",
]

MEDIA_KINDS: tuple[MediaKind, ...] = (
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "contact",
)
_FALLBACK_MIME = "application/octet-stream"
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,49}/[a-z0-9][a-z0-9!#$&^_.+-]{0,49}$")
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,10}$")
_MAX_FILENAME = 255
# Shown in the browser rather than saved: kinds a browser renders without running anything.
_INLINE = re.compile(r"^(image/(jpeg|png|gif|webp)|audio/[a-z0-9.+-]+|video/[a-z0-9.+-]+)$")


T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent in a multipart/form-data request, its name and type made safe."""

    data: bytes
    filename: str | None
    mime: str


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A file written under MEDIA_DIR: its path relative to it, and its size in bytes."""

    path: str
    size: int


def media_fields(media: MediaRef | None) -> dict[str, Any]:
    """A channel's or an upload's media as the columns of a stored Message."""
    if media is None:
        return {}
    return {
        "media_type": media.kind,
        "media_path": media.path,
        "media_name": media.filename,
        "media_mime": media.mime_type,
        "media_size": media.size,
        "media_reference": media.reference,
    }


def kind_for_mime(mime: str) -> MediaKind:
    """What WhatsApp sends a file of this type as: image, audio, video, else a document."""
    major = mime.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major  # type: ignore[return-value]
    return "document"


def clean_filename(raw: str | None) -> str | None:
    """The name to keep and show: its last path component without control characters, at
    most 255 characters; None when nothing usable is left."""
    if not raw:
        return None
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return None
    if len(name) > _MAX_FILENAME:
        suffix = PurePosixPath(name).suffix
        keep = suffix if _EXTENSION.match(suffix) else ""
        name = name[: _MAX_FILENAME - len(keep)] + keep
    return name


def clean_mime(raw: str | None, filename: str | None = None) -> str:
    """A well-formed mime type: the given one, else one guessed from the file name, else
    application/octet-stream (parameters such as `; charset=` are dropped)."""
    mime = (raw or "").split(";", 1)[0].strip().lower()
    if mime and mime != _FALLBACK_MIME and _MIME.match(mime):
        return mime
    guessed = mimetypes.guess_type(filename)[0] if filename else None
    return guessed if guessed and _MIME.match(guessed) else _FALLBACK_MIME


def _extension(mime: str, filename: str | None) -> str:
    suffix = PurePosixPath(filename).suffix if filename else ""
    if _EXTENSION.match(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(mime) or ""
    return guessed if _EXTENSION.match(guessed) else ".bin"


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:  # a random name: never overwrite anything
        handle.write(data)


async def store_media(
    *,
    media_dir: Path,
    company_id: int,
    data: bytes,
    mime: str,
    filename: str | None,
    now: datetime,
) -> StoredMedia:
    """Write `data` to MEDIA_DIR/<company>/<yyyy>/<mm>/<random>.<ext> and say where."""
    relative = PurePosixPath(
        str(company_id),
        f"{now:%Y}",
        f"{now:%m}",
        secrets.token_urlsafe(18) + _extension(mime, filename),
    )
    await asyncio.to_thread(_write_new, media_dir / relative, data)
    return StoredMedia(path=str(relative), size=len(data))


def media_file(media_dir: Path, relative: str | None) -> Path | None:
    """The file stored at `relative` under `media_dir`; None when there is none, or when the
    path would lead outside the directory (an absolute path, `..`, a symlink out)."""
    if not relative or "\x00" in relative:
        return None
    root = media_dir.resolve()
    try:
        path = (root / relative).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    if not path.is_relative_to(root) or path == root or not path.is_file():
        return None
    return path


def remove_media(media_dir: Path, relative: str) -> None:
    """Delete a file this module stored (an upload whose message was refused after all)."""
    path = media_file(media_dir, relative)
    if path is not None:
        path.unlink(missing_ok=True)


def content_disposition(filename: str | None, mime: str) -> str:
    """`inline` for what a browser shows harmlessly (pictures, sound, video), `attachment`
    for the rest, with the name in ASCII and, when it needs more, in RFC 5987 form."""
    disposition = "inline" if _INLINE.match(mime) else "attachment"
    if not filename:
        return disposition
    ascii_name = "".join(ch for ch in filename if 32 <= ord(ch) < 127 and ch not in '"\\')
    header = f'{disposition}; filename="{ascii_name or "file"}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


async def media_response(path: Path, *, mime: str | None, filename: str | None) -> HTTPResponse:
    """The file as a download: its type, its name, and nothing a browser would run."""
    content_type = clean_mime(mime, filename)
    headers = {
        "Content-Disposition": content_disposition(filename, content_type),
        # Even opened directly, an uploaded file cannot script this origin.
        "Content-Security-Policy": "sandbox",
    }
    return await file(path, mime_type=content_type, headers=headers)


def parse_upload(request: Request, model: type[T], *, max_bytes: int) -> tuple[Upload, T]:
    """A multipart/form-data body: its `file` part and its other fields validated as `model`.

    400 when the body is not multipart or cannot be read; 422 naming the field when the file
    is missing, empty or repeated, or a field is unknown or invalid; 413 past `max_bytes`."""
    content_type, parameters = parse_content_header(request.headers.get("content-type", ""))
    boundary = parameters.get("boundary")
    if content_type != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise BadRequest("The body must be multipart/form-data, with the file in `file`")
    try:
        fields, files = parse_multipart_form(request.body, boundary.encode("utf-8"))  # type: ignore[no-untyped-call]
    except Exception as exc:  # Sanic's parser raises whatever the bytes lead it to
        raise BadRequest("The multipart body cannot be read") from exc
    upload = _the_file(files, fields, max_bytes=max_bytes)
    values: dict[str, str] = {}
    for name, given in fields.items():
        if len(given) != 1:
            raise InvalidFields({name: "must be given once"})
        values[name] = given[0]
    try:
        return upload, model.model_validate(values)
    except ValidationError as exc:
        raise InvalidFields(fields_from_validation_error(exc)) from exc


def _the_file(files: Any, fields: Any, *, max_bytes: int) -> Upload:
    unknown = sorted(name for name in files if name != "file")
    if unknown:
        raise InvalidFields({name: "only `file` may be a file" for name in unknown})
    if "file" in fields:
        raise InvalidFields({"file": "must be a file (a part with a filename)"})
    # Sanic's RequestParameters.get() gives the first value only: read the lists as a dict.
    parts: list[Any] = dict.get(files, "file") or []
    if len(parts) != 1:
        raise InvalidFields({"file": "give exactly one file" if parts else "is required"})
    part = parts[0]
    if len(part.body) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes")
    if not part.body:
        raise InvalidFields({"file": "is empty"})
    filename = clean_filename(part.name)
    return Upload(data=part.body, filename=filename, mime=clean_mime(part.type, filename))
