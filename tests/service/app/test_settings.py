"""The settings object: environment names, embedded defaults, the generated secret key, logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.logs import JsonFormatter
from service.settings import Settings


def test_reads_the_documented_environment_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/atende")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WORKERS", "3")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("DEFAULT_COUNTRY", "pt")
    monkeypatch.setenv("ATENDE_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("SENTRY_DSN", "")  # compose passes unset optionals as empty strings
    settings = Settings()
    assert settings.effective_database_url == "postgres://u:p@db:5432/atende"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.port, settings.workers) == (9000, 3)
    assert settings.log_format.value == "json"
    assert settings.default_country == "PT"
    assert settings.atende_admin_email == "boss@example.com"
    assert settings.sentry_dsn is None
    assert settings.effective_media_dir == tmp_path / "media"
    assert not settings.embedded


def test_embedded_defaults_use_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.embedded
    assert settings.effective_database_url == f"sqlite://{tmp_path.resolve()}/atende.sqlite3"


def test_secret_key_is_generated_once_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Settings(data_dir=tmp_path).signing_key()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).signing_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_bad_values_are_refused_with_the_variable_named() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(secret_key="short")
    with pytest.raises(ValidationError, match="log_level"):
        Settings(log_level="LOUD")


def test_json_logs_are_one_object_a_line_with_context() -> None:
    record = logging.LogRecord("atende.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.company_id = 7
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "hello you"
    assert entry["company_id"] == 7
    assert entry["level"] == "info"
    assert "\n" not in line
