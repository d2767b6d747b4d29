"""The database an analysis reads: one company of Atende's Postgres or embedded SQLite.

Reading uses no ORM objects: SQL runs on the server and its rows become frames. Postgres is
read through asyncpg on a private event loop in a daemon thread, SQLite through the standard
library's `sqlite3`, read-only; both work inside Jupyter, whose own event loop is already
running in the main thread. `Source.run` runs the service's async code (which needs Tortoise)
on that same private loop, initialising Tortoise there the first time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import pandas as pd
from pydantic import ValidationError

from service.companies.schemas import CompanySettings
from service.settings import Settings
from service.sql import bind, sqlite_value

__all__ = ["Source", "connect"]

T = TypeVar("T")
P = ParamSpec("P")

# `:name`, not `::type` (a Postgres cast) nor the minutes of '10:30' in a literal.


class _LoopThread:
    """An event loop of our own, running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, name="atende-analytics-loop", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the private loop and wait for its result."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(
                "called from code that Source.run is running: await the service's code instead"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def _sqlite_value(value: Any) -> Any:
    """A parameter as SQLite compares it (the service's conversion; booleans as 0/1)."""
    if isinstance(value, bool):
        return int(value)
    return sqlite_value(value)


def _postgres_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValueError(f"a naive datetime ({value}) as a query parameter: give a time zone")
    return value


class Source:
    """One company's data in one database. Make one with `analytics.connect()`.

    `company_id`, `company_name`, `timezone` (the company's setting), `dialect` ("postgres"
    or "sqlite"); `query()` for raw SQL, `run()` for the service's async code, `close()`.
    """

    def __init__(
        self, *, database_url: str, company: int | str | None = None, settings: Settings
    ) -> None:
        self.database_url = database_url
        self.settings = settings
        self.dialect: Literal["postgres", "sqlite"]
        self._loop: _LoopThread | None = None
        self._pool: Any = None
        self._sqlite: sqlite3.Connection | None = None
        self._tortoise_ready = False
        self._lock = threading.Lock()
        if database_url.startswith("sqlite://"):
            self.dialect = "sqlite"
            path = Path(database_url.removeprefix("sqlite://"))
            if not path.exists():
                raise FileNotFoundError(f"no database at {path}")
            self._sqlite = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
        elif database_url.startswith(("postgres://", "postgresql://")):
            self.dialect = "postgres"
            self._loop = _LoopThread()
            self._pool = self._loop.call(self._open_pool(database_url))
        else:
            raise ValueError(f"not a postgres:// or sqlite:// URL: {database_url!r}")
        try:
            self.company_id, self.company_name = self._find_company(company)
            self._settings = self._company_settings()
        except BaseException:
            self.close()
            raise
        self.timezone: str = self._settings.timezone

    @staticmethod
    async def _open_pool(url: str) -> Any:
        import asyncpg

        return await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=4,
            server_settings={
                "application_name": "atende-analytics",
                "default_transaction_read_only": "on",
            },
        )

    def __repr__(self) -> str:
        return (
            f"<Source {self.dialect} company {self.company_id} {self.company_name!r}"
            f" timezone {self.timezone}>"
        )

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> tuple[list[str], list[Sequence[Any]]]:
        """Column names and rows of `sql`, with `:name` parameters in either dialect. A list
        or tuple parameter becomes a list of values, for `IN (:ids)` (empty: `NULL`)."""
        convert = _sqlite_value if self.dialect == "sqlite" else _postgres_value
        statement, values = bind(sql, params, postgres=self.dialect == "postgres", convert=convert)
        if self._sqlite is not None:
            with self._lock:
                cursor = self._sqlite.execute(statement, values)
                try:
                    columns = [column[0] for column in cursor.description or ()]
                    found: list[Sequence[Any]] = cursor.fetchall()
                finally:
                    cursor.close()
            return columns, found
        assert self._loop is not None
        return self._loop.call(self._fetch(statement, values))

    async def _fetch(self, statement: str, values: list[Any]) -> tuple[list[str], list[Any]]:
        async with self._pool.acquire() as connection:
            prepared = await connection.prepare(statement)
            columns = [attribute.name for attribute in prepared.get_attributes()]
            return columns, await prepared.fetch(*values)

    def query(self, sql: str, **params: Any) -> pd.DataFrame:
        """The rows of `sql` as a frame; `:name` parameters (datetimes must be aware).

        Raw SQL is not scoped for you: filter by `company_id = :company` yourself (the
        parameter `company` is this source's company unless given). Columns named `*_at`
        become `datetime64[ns, UTC]` on both backends; Postgres numerics become floats.
        """
        params.setdefault("company", self.company_id)
        columns, found = self.rows(sql, **params)
        frame = pd.DataFrame.from_records([tuple(row) for row in found], columns=columns)
        for column in frame.columns:
            series = frame[column]
            if str(column).endswith("_at"):
                frame[column] = timestamps(series)
            elif series.dtype == object and any(
                isinstance(value, Decimal) for value in series.dropna().head(50)
            ):
                frame[column] = pd.to_numeric(series.map(_float_or_none), errors="coerce")
        frame.attrs["timezone"] = self.timezone
        frame.attrs["company_id"] = self.company_id
        return frame

    def _find_company(self, company: int | str | None) -> tuple[int, str]:
        if isinstance(company, int):
            _, found = self.rows("SELECT id, name FROM companies WHERE id = :id", id=company)
        elif isinstance(company, str):
            _, found = self.rows(
                "SELECT id, name FROM companies WHERE name = :name ORDER BY id", name=company
            )
        else:
            _, found = self.rows("SELECT id, name FROM companies ORDER BY id LIMIT 1")
        if not found:
            raise LookupError(f"no company {company!r} in this database")
        return int(found[0][0]), str(found[0][1])

    def _company_settings(self) -> CompanySettings:
        """The company's settings as the service reads them (a stale value is ignored)."""
        _, found = self.rows(
            "SELECT key, value FROM settings WHERE company_id = :company",
            company=self.company_id,
        )
        values: dict[str, Any] = {}
        for key, raw in found:
            if key not in CompanySettings.model_fields:
                continue
            stored = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
            if not isinstance(stored, dict) or "value" not in stored:
                continue
            try:
                CompanySettings.model_validate({key: stored["value"]})
            except ValidationError:
                continue
            values[key] = stored["value"]
        return CompanySettings.model_validate(values)

    @property
    def company_settings(self) -> CompanySettings:
        """The company's settings (time zone, business hours…), defaults filled in."""
        return self._settings

    # -- the service's code ------------------------------------------------------------

    def run(self, function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """`await function(*args, **kwargs)` on the private loop, with Tortoise initialised
        there for this database (the first call does it); returns its result. Never call it
        where Tortoise is already initialised in another loop (a test process, the server)."""
        if self._loop is None:
            self._loop = _LoopThread()

        async def call() -> T:
            if not self._tortoise_ready:
                from service.db import init_db

                await init_db(self.settings)
                self._tortoise_ready = True
            return await function(*args, **kwargs)

        return self._loop.call(call())

    def close(self) -> None:
        """Close the connections (and Tortoise's, when `run` opened them)."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._loop is not None:
            loop = self._loop
            self._loop = None

            async def shut() -> None:
                if self._tortoise_ready:
                    from service.db import close_db

                    await close_db()
                    self._tortoise_ready = False
                if self._pool is not None:
                    await self._pool.close()
                    self._pool = None

            loop.call(shut())
            loop.stop()


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def timestamps(values: Any) -> pd.Series:
    """Timestamps as either backend returns them (aware datetimes from Postgres, ISO text from
    SQLite, None for null) as `datetime64[ns, UTC]`, parsed vectorised."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        if series.isna().all():
            return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        series = pd.to_datetime(series, utc=True, format="ISO8601")
    elif getattr(series.dt, "tz", None) is None:
        series = series.dt.tz_localize("UTC")
    return series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def connect(
    database_url: str | None = None,
    company: int | str | None = None,
    *,
    env_file: str | Path | None = ".env",
) -> Source:
    """A `Source` for one company of the configured database.

    `database_url`: "postgres://…" or "sqlite:///path/atende.sqlite3"; by default the
    service's own settings: `DATABASE_URL`, else the SQLite file under `DATA_DIR`, read from
    the environment and from `env_file` when it exists. `company`: an id or a name; by
    default the first company by id (the only one of most installations).
    """
    env = Path(env_file) if env_file is not None else None
    base = Settings(_env_file=env) if env is not None and env.exists() else Settings()
    if database_url is not None:
        if database_url.startswith("postgresql://"):
            database_url = "postgres://" + database_url.removeprefix("postgresql://")
        update: dict[str, Any] = {"database_url": database_url}
        if database_url.startswith("sqlite://"):
            # Tortoise (in `run`) makes sure DATA_DIR exists: the file's own folder.
            update["data_dir"] = Path(database_url.removeprefix("sqlite://")).parent
        base = base.model_copy(update=update)
    return Source(database_url=base.effective_database_url, company=company, settings=base)
