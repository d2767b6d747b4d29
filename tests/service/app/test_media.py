"""service.media on its own: safe names and types, where files go, and what is never served."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channel import MediaRef
from service.media import (
    clean_filename,
    clean_mime,
    content_disposition,
    kind_for_mime,
    media_fields,
    media_file,
    remove_media,
    store_media,
)


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("image/png", "image"),
        ("image/svg+xml", "image"),
        ("audio/ogg", "audio"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
        ("text/plain", "document"),
        ("application/octet-stream", "document"),
    ],
)
def test_the_kind_follows_the_mime_type(mime: str, kind: str) -> None:
    assert kind_for_mime(mime) == kind


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("foto.png", "foto.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\nota fiscal.pdf", "nota fiscal.pdf"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("  relatório.pdf  ", "relatório.pdf"),
        ("..", None),
        ("dir/", None),
        ("", None),
        (None, None),
    ],
)
def test_file_names_lose_their_paths_and_control_characters(
    raw: str | None, clean: str | None
) -> None:
    assert clean_filename(raw) == clean


def test_a_long_file_name_is_cut_keeping_its_extension() -> None:
    name = clean_filename("x" * 400 + ".pdf")
    assert name is not None
    assert len(name) == 255
    assert name.endswith("x.pdf")


@pytest.mark.parametrize(
    ("raw", "filename", "mime"),
    [
        ("image/PNG", None, "image/png"),
        ("audio/ogg; codecs=opus", None, "audio/ogg"),
        (None, "boleto.pdf", "application/pdf"),
        ("application/octet-stream", "foto.jpg", "image/jpeg"),
        ("not a type", "foto.png", "image/png"),
        ("text/html\r\nX-Evil: 1", None, "application/octet-stream"),
        (None, None, "application/octet-stream"),
        (None, "sem-extensao", "application/octet-stream"),
    ],
)
def test_mime_types_are_well_formed_or_guessed(
    raw: str | None, filename: str | None, mime: str
) -> None:
    assert clean_mime(raw, filename) == mime


def test_pictures_show_inline_and_everything_else_downloads() -> None:
    assert content_disposition("a.png", "image/png") == 'inline; filename="a.png"'
    assert content_disposition("a.mp4", "video/mp4") == 'inline; filename="a.mp4"'
    # An SVG or an HTML page could run script: saved, not shown.
    assert content_disposition("a.svg", "image/svg+xml").startswith("attachment;")
    assert content_disposition("a.html", "text/html").startswith("attachment;")
    assert content_disposition(None, "application/pdf") == "attachment"
    assert content_disposition("ação.pdf", "application/pdf") == (
        "attachment; filename=\"ao.pdf\"; filename*=UTF-8''a%C3%A7%C3%A3o.pdf"
    )
    assert content_disposition("日本.pdf", "application/pdf").startswith(
        'attachment; filename=".pdf"'
    )
    assert content_disposition("日本", "application/pdf").startswith('attachment; filename="file"')


async def test_store_media_writes_a_new_file_per_company_and_month(tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, tzinfo=UTC)
    first = await store_media(
        media_dir=tmp_path, company_id=7, data=b"abc", mime="image/png", filename="a.PNG", now=now
    )
    second = await store_media(
        media_dir=tmp_path,
        company_id=7,
        data=b"abc",
        mime="application/pdf",
        filename=None,
        now=now,
    )
    odd = await store_media(
        media_dir=tmp_path, company_id=7, data=b"x", mime="x/unknown", filename="a.t@r", now=now
    )
    assert first.path.startswith("7/2026/03/")
    assert first.path.endswith(".png")
    assert second.path.endswith(".pdf")
    assert odd.path.endswith(".bin")
    assert first.path != second.path
    assert first.size == 3
    assert (tmp_path / first.path).read_bytes() == b"abc"
    assert media_file(tmp_path, first.path) == (tmp_path / first.path).resolve()
    remove_media(tmp_path, first.path)
    assert not (tmp_path / first.path).exists()
    remove_media(tmp_path, "../outside")  # nothing outside is ever touched


def test_media_file_stays_inside_the_directory(tmp_path: Path) -> None:
    media_dir = tmp_path / "media"
    (media_dir / "1").mkdir(parents=True)
    (media_dir / "1" / "ok.txt").write_text("ok")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, media_dir / "1" / "link.txt")
    os.symlink(media_dir / "1" / "loop", media_dir / "1" / "loop")
    assert media_file(media_dir, "1/ok.txt") is not None
    assert media_file(media_dir, "1/../1/ok.txt") is not None
    for bad in (
        "../secret.txt",
        str(outside),
        "1/link.txt",
        "1/loop",
        "1",
        ".",
        "",
        None,
        "1/ok.txt\x00.png",
        "1/missing.txt",
    ):
        assert media_file(media_dir, bad) is None, bad


def test_media_fields_are_the_message_columns() -> None:
    assert media_fields(None) == {}
    ref = MediaRef("document", "application/pdf", "a.pdf", path="1/x.pdf", size=3, reference="r")
    assert media_fields(ref) == {
        "media_type": "document",
        "media_path": "1/x.pdf",
        "media_name": "a.pdf",
        "media_mime": "application/pdf",
        "media_size": 3,
        "media_reference": "r",
    }
