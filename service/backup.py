"""`atende backup` and `atende restore`: the whole installation in one archive.

An archive (`.tar.gz`) holds `manifest.json` (format, backend, when, how many companies,
tickets, messages, contacts and media files), the database (`pg_dump --format=custom` on
Postgres; SQLite's online backup API on the embedded default, so both are consistent while
the server runs), the files of DATA_DIR (the generated signing key, WhatsApp sessions kept in
SQLite) under `data/`, and the media files under `media/`. Restoring needs an empty database
(or `--force`), refuses an archive of the other backend with a clear message, then applies
the migrations, so an archive of an older version is upgraded, and checks the counts.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.settings import Settings

__all__ = ["BackupError", "Counts", "count_rows", "make_backup", "restore_backup"]

FORMAT = 1
_COUNTED = ("companies", "contacts", "tickets", "messages")
# Never archived from DATA_DIR: the live SQLite files (copied through the backup API
# instead), the lease files of running workers, and archives made into DATA_DIR itself.
_SKIPPED_SUFFIXES = (".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".tar.gz")
_SKIPPED_DIRS = {"leases", "media"}


class BackupError(Exception):
    """What went wrong, for the person at the terminal."""


@dataclass(frozen=True)
class Counts:
    rows: dict[str, int]
    media_files: int

    def as_dict(self) -> dict[str, int]:
        return {**self.rows, "media_files": self.media_files}


def _postgres(settings: Settings) -> bool:
    return bool(settings.database_url)


def _sqlite_path(settings: Settings) -> Path:
    return (settings.data_dir / "atende.sqlite3").resolve()


def _libpq_url(settings: Settings) -> str:
    return settings.effective_database_url.replace("postgres://", "postgresql://", 1)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: {what} needs PostgreSQL's client tools "
            "(Debian: apt install postgresql-client)"
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def count_rows(settings: Settings) -> dict[str, int]:
    """Rows of the tables a restore is checked by; {} when the database has none yet."""
    queries = {table: f"SELECT count(*) FROM {table}" for table in _COUNTED}
    if _postgres(settings):
        out: dict[str, int] = {}
        for table, query in queries.items():
            done = subprocess.run(
                ["psql", "-XAtq", "-d", _libpq_url(settings), "-c", query],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                return {}  # no such table: an empty database
            out[table] = int(done.stdout.strip())
        return out
    path = _sqlite_path(settings)
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            return {t: int(db.execute(q).fetchone()[0]) for t, q in queries.items()}
        except sqlite3.OperationalError:
            return {}


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _data_files(settings: Settings) -> list[Path]:
    root = settings.data_dir
    if not root.exists():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in _SKIPPED_DIRS:
            continue
        if path.name.endswith(_SKIPPED_SUFFIXES) or path.resolve() == _sqlite_path(settings):
            continue
        files.append(path)
    return files


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database that may be in use (the online backup API)."""
    live, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        live.backup(copy)
    finally:
        live.close()
        copy.close()


def make_backup(settings: Settings, output: Path) -> tuple[Path, Counts]:
    """Write the archive (into `output` when it is a directory) and return its path."""
    now = datetime.now(UTC)
    if output.is_dir():
        output = output / f"atende-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    media_root = settings.effective_media_dir
    media = _media_files(media_root)
    with tempfile.TemporaryDirectory(prefix="atende-backup-") as work_dir:
        work = Path(work_dir)
        if _postgres(settings):
            database = work / "database.pgdump"
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 "--file", str(database), _libpq_url(settings)],
                "pg_dump",
            )  # fmt: skip
        else:
            if not _sqlite_path(settings).exists():
                raise BackupError(f"there is no database at {_sqlite_path(settings)}")
            database = work / "database.sqlite3"
            _sqlite_copy(_sqlite_path(settings), database)
        counts = Counts(count_rows(settings), len(media))
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "backend": "postgres" if _postgres(settings) else "sqlite",
            "database": database.name,
            "counts": counts.as_dict(),
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(database, database.name)
            for path in _data_files(settings):
                relative = path.relative_to(settings.data_dir)
                if path.suffix == ".sqlite3":  # WhatsApp sessions, written while we read
                    copy = work / "copy.sqlite3"
                    _sqlite_copy(path, copy)
                    archive.add(copy, f"data/{relative}")
                    copy.unlink()
                else:
                    archive.add(path, f"data/{relative}")
            for path in media:
                archive.add(path, f"media/{path.relative_to(media_root)}")
        partial.replace(output)  # an archive is either whole or absent
    return output, counts


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
    except KeyError:
        raise BackupError("this is not an atende backup (no manifest.json)") from None
    assert member is not None
    manifest: dict[str, Any] = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not known to this version")
    return manifest


def restore_backup(settings: Settings, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Put the archive's database and files in place; returns its manifest. The caller
    applies the migrations and compares the counts."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{source} is not a readable backup: {exc}") from None
    with archive, tempfile.TemporaryDirectory(prefix="atende-restore-") as work_dir:
        manifest = _manifest(archive)
        backend = "postgres" if _postgres(settings) else "sqlite"
        if manifest["backend"] != backend:
            raise BackupError(
                f"this backup is of a {manifest['backend']} installation and this one runs on "
                f"{backend}: set DATABASE_URL accordingly"
            )
        existing = count_rows(settings)
        if existing.get("companies") and not force:
            raise BackupError(
                f"the database already holds {existing['companies']} companies: restore into "
                "an empty database, or pass --force to replace it"
            )
        work = Path(work_dir)
        archive.extractall(work, filter="data")
        database = work / manifest["database"]
        if backend == "postgres":
            _run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "--dbname", _libpq_url(settings), str(database)],
                "pg_restore",
            )  # fmt: skip
        else:
            target = _sqlite_path(settings)
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in target.parent.glob(target.name + "-*"):  # a replaced file's WAL
                stale.unlink()
            shutil.copyfile(database, target)
        for folder, destination in (
            ("data", settings.data_dir),
            ("media", settings.effective_media_dir),
        ):
            if (work / folder).exists():
                shutil.copytree(work / folder, destination, dirs_exist_ok=True)
    return manifest
