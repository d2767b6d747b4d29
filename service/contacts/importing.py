"""The contacts CSV import: read whatever a spreadsheet saved, suggest a mapping, write in batches.

A file is read as a table (encoding, delimiter and header guessed), each column is mapped to
a contact field, rows with the same number are merged into one contact, and the contacts are
written a batch at a time with bulk queries, each batch in its own transaction. Every row
that was not written as it stands gets a line in the report, numbered as the spreadsheet
shows it (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import snapshot
from service.audit.models import AuditLog
from service.auth.tokens import Principal
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.contacts.schemas import (
    CONTACT_COLUMNS,
    MAX_CUSTOM_FIELDS,
    MAX_FIELD_KEY,
    MAX_FIELD_TEXT,
    ImportOptions,
    ImportPreview,
    ImportReportRow,
    ImportResult,
)
from service.errors import Conflict, InvalidFields
from service.http import unstorable_text
from service.sql import insert_rows
from service.tags.actions import create_tag_named
from service.tags.models import Tag
from service.tags.schemas import check_tag_name
from service.tags.service import tags_by_name
from service.tenancy import scoped
from service.users.schemas import Email

__all__ = [
    "CsvTable",
    "Progress",
    "decode_csv",
    "header_mapping",
    "import_table",
    "preview",
    "read_table",
    "suggest_mapping",
]

Progress = Callable[[int, int], Awaitable[None]]

BATCH = 500
# About 15 s of work: well within the request's time limit.
MAX_ROWS = 50_000
PREVIEW_ROWS = 10
IMPORT_REASON = "import"
_MAX_TAGS_PER_ROW = 100
_email_adapter: TypeAdapter[str] = TypeAdapter(Email)
# The export puts a quote before cells a spreadsheet would run as formulas; take it off again.
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")
_TRUE = frozenset({"true", "1", "yes", "y", "sim", "s", "si", "x"})
_FALSE = frozenset({"false", "0", "no", "n", "não", "nao"})
_DELIMITERS = (",", ";", "\t")
# Header names people write, in pt, en and es, without accents and case-folded.
_SYNONYMS: dict[str, frozenset[str]] = {
    target: frozenset(names.split("|"))
    for target, names in {
        "number": "number|numero|phone|phone number|telephone|mobile|cell|cellphone|telefone"
        "|celular|whatsapp|whats|zap|fone|tel|numero de telefone|numero do whatsapp|telefono"
        "|movil|numero de telefono",
        "name": "name|full name|nome|nome completo|nombre|nombre completo|contact|contato"
        "|contacto|cliente|customer",
        "email": "email|e-mail|mail|email address|correo|correo electronico|endereco de email",
        "tags": "tags|tag|etiquetas|etiqueta|labels|label|marcadores",
        "opted_out": "opted_out|opted out|opt-out|opt out|optout",
    }.items()
}


class _RowError(ValueError):
    def __init__(self, reason: str, value: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


@dataclass
class CsvTable:
    """A file as rows of cells; `rows` pairs each data row with its spreadsheet row number."""

    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    rows: list[tuple[int, list[str]]]
    width: int
    broken: list[ImportReportRow] = field(default_factory=list)


@dataclass
class _Entry:
    """What the file says about one number (its rows merged); None leaves a field as it is."""

    row: int
    raw: str
    number: str
    name: str | None = None
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    opted_out: bool | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)

    def absorb(self, other: _Entry) -> None:
        # The later row wins where it says something; tags and custom fields add up.
        self.name = other.name if other.name is not None else self.name
        self.email = other.email if other.email is not None else self.email
        self.opted_out = other.opted_out if other.opted_out is not None else self.opted_out
        self.tags = list(dict.fromkeys([*self.tags, *other.tags]))
        self.custom_fields.update(other.custom_fields)


@dataclass
class _Totals:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    report: list[ImportReportRow] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and the encoding it was read in: UTF-8 (with or without
    a BOM), else Windows-1252 (what Excel saves in pt/es), else Latin-1, which reads anything."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _delimiter(text: str) -> str:
    """The separator most used in the first line outside quotes; a comma when in doubt."""
    first = _first_record(text)
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _first_record(text: str) -> str:
    out: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "\n" and not quoted:
            break
        elif not quoted:
            out.append(ch)
    return "".join(out)


def _unescape(cell: str) -> str:
    return cell[1:] if _ESCAPED_FORMULA.match(cell) else cell


def _clean(cell: str) -> str:
    return _unescape(cell.strip()).strip()


def _records(reader: Any, broken: list[ImportReportRow]) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, cells) of each record; records the parser rejects are reported."""
    row = 0
    while True:
        row += 1
        line = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            broken.append(_failed(row, "", f"not valid CSV ({exc})"))
            if reader.line_num <= line:  # the parser did not move on: nothing more to read
                return
            continue
        yield row, cells


def _looks_like_data(cells: list[str], country: str) -> bool:
    for cell in cells:
        value = _clean(cell)
        if "@" in value and "." in value.rsplit("@", 1)[-1]:
            return True
        if sum(ch.isdigit() for ch in value) >= 8:
            try:
                normalize_number(value, country)
            except ValueError:
                continue
            return True
    return False


def read_table(
    text: str,
    *,
    default_country: str,
    has_header: bool | None = None,
    encoding: str = "utf-8",
    error_field: str = "file",
) -> CsvTable:
    """The file as a table; 422 (under `error_field`) for what cannot be a CSV at all."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidFields({error_field: "is empty"})
    if unstorable_text(text):
        raise InvalidFields({error_field: "is not a CSV file (it holds NUL or invalid characters)"})
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    broken: list[ImportReportRow] = []
    records = list(_records(reader, broken))
    if not records:
        message = broken[0].reason if broken else "has no rows"
        raise InvalidFields({error_field: f"is not a CSV file ({message})"})
    _, first = records[0]
    if has_header is None:
        has_header = not _looks_like_data(first, default_country)
    header = [_clean(cell) for cell in first] if has_header else []
    data = records[1:] if has_header else records
    rows = [(row, cells) for row, cells in data if any(cell.strip() for cell in cells)]
    if len(rows) > MAX_ROWS:
        raise InvalidFields(
            {error_field: f"has more than {MAX_ROWS} rows; split it into smaller files"}
        )
    width = len(header) if has_header else max((len(cells) for _, cells in rows), default=0)
    return CsvTable(encoding, delimiter, has_header, header, rows, width, broken)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def _custom_target(name: str) -> str:
    if not name or len(name) > MAX_FIELD_KEY or name.lower() in CONTACT_COLUMNS:
        return "ignore"
    return f"custom:{name}"


def suggest_mapping(table: CsvTable, default_country: str) -> list[str]:
    """A target per column from its header (pt/en/es names) or, failing that, its values."""
    mapping = ["ignore"] * table.width
    taken: set[str] = set()
    for index, name in enumerate(table.header[: table.width]):
        plain = _plain(name)
        target = next((t for t, names in _SYNONYMS.items() if plain in names), None)
        if target is None or target in taken:
            target = _custom_target(name)
        if target in taken:
            target = "ignore"
        taken.add(target)
        mapping[index] = target
    if "number" not in taken:
        column = _column_of_numbers(table, default_country)
        if column is not None:
            mapping[column] = "number"
    return mapping


def _column_of_numbers(table: CsvTable, country: str) -> int | None:
    sample = [cells for _, cells in table.rows[:50]]
    best: tuple[int, int] | None = None
    for index in range(table.width):
        valid = 0
        for cells in sample:
            if index < len(cells):
                try:
                    normalize_number(_clean(cells[index]), country)
                    valid += 1
                except ValueError:
                    pass
        if valid * 2 > len(sample) and (best is None or valid > best[0]):
            best = (valid, index)
    return best[1] if best else None


def header_mapping(table: CsvTable, error_field: str = "csv") -> list[str]:
    """The mapping of a file sent without one: each column by its exact name (number, name,
    email, tags, opted_out), any other named column a custom field."""
    mapping: list[str] = []
    for name in table.header:
        if not name:
            mapping.append("ignore")
            continue
        if name.lower() in CONTACT_COLUMNS:
            target = name.lower()
        elif len(name) > MAX_FIELD_KEY:
            raise InvalidFields(
                {error_field: f"column {name[:20]!r}... is longer than {MAX_FIELD_KEY} characters"}
            )
        else:
            target = f"custom:{name}"
        if target in mapping:
            raise InvalidFields({error_field: f"column {name!r} appears twice in the header"})
        mapping.append(target)
    if "number" not in mapping:
        raise InvalidFields({error_field: "the header row needs a number column"})
    return mapping


def check_mapping(mapping: list[str], width: int) -> list[str]:
    """A mapping sent by the client: one known target per column, one number column."""
    if len(mapping) != width:
        raise InvalidFields({"mapping": f"must give one target for each of the {width} columns"})
    seen: set[str] = set()
    for index, target in enumerate(mapping):
        if target.startswith("custom:"):
            key = target[7:]
            if not 1 <= len(key) <= MAX_FIELD_KEY or key.strip() != key:
                raise InvalidFields(
                    {f"mapping.{index}": f"a custom field key is 1-{MAX_FIELD_KEY} characters"}
                )
            if key.lower() in CONTACT_COLUMNS:
                raise InvalidFields({f"mapping.{index}": f"{key!r} is a contact field"})
        elif target not in (*CONTACT_COLUMNS, "ignore"):
            raise InvalidFields({f"mapping.{index}": f"{target[:40]!r} is not a contact field"})
        if target != "ignore" and target in seen:
            raise InvalidFields({f"mapping.{index}": f"{target!r} is mapped twice"})
        seen.add(target)
    if "number" not in seen:
        raise InvalidFields({"mapping": "one column must be the number"})
    return mapping


def preview(data: bytes, *, default_country: str, has_header: bool | None) -> ImportPreview:
    """What the import wizard shows before importing: columns, first rows, a mapping."""
    text, encoding = decode_csv(data)
    table = read_table(
        text, default_country=default_country, has_header=has_header, encoding=encoding
    )
    return ImportPreview(
        encoding=table.encoding,
        delimiter=table.delimiter,
        has_header=table.has_header,
        columns=table.header,
        width=table.width,
        rows=[[_clean(c) for c in cells] for _, cells in table.rows[:PREVIEW_ROWS]],
        total=len(table.rows),
        mapping=suggest_mapping(table, default_country),
    )


# --- rows to entries --------------------------------------------------------------------


def _failed(row: int, value: str, reason: str) -> ImportReportRow:
    return ImportReportRow(row=row, value=value[:200], reason=reason, outcome="failed")


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _RowError("opted_out is not true or false", value)


def _entry(row: int, mapping: list[str], cells: list[str], country: str) -> _Entry:
    values: dict[str, str] = {}
    for target, cell in zip(mapping, cells, strict=False):
        if target != "ignore":
            values[target] = _clean(cell)
    raw = values.get("number", "")
    if len(cells) > len(mapping) and any(c.strip() for c in cells[len(mapping) :]):
        raise _RowError("more cells than the header row", raw)
    if not raw:
        raise _RowError("missing number", raw)
    try:
        number = normalize_number(raw, country)
    except ValueError as exc:
        raise _RowError("invalid number", raw) from exc
    entry = _Entry(row=row, raw=raw, number=number)
    if name := values.get("name"):
        if len(name) > 200:
            raise _RowError("name longer than 200 characters", name)
        entry.name = name
    if email := values.get("email"):
        try:
            entry.email = _email_adapter.validate_python(email)
        except ValidationError as exc:
            raise _RowError("invalid email", email) from exc
    if tags := values.get("tags"):
        entry.tags = _tag_names(tags.split(";"), tags)
    if opted_out := values.get("opted_out"):
        entry.opted_out = _boolean(opted_out)
    for target, value in values.items():
        if target.startswith("custom:") and value:
            if len(value) > MAX_FIELD_TEXT:
                raise _RowError(f"{target[7:]} longer than {MAX_FIELD_TEXT} characters", value)
            entry.custom_fields[target[7:]] = value
    if len(entry.custom_fields) > MAX_CUSTOM_FIELDS:
        raise _RowError(f"more than {MAX_CUSTOM_FIELDS} custom fields", raw)
    return entry


def _tag_names(parts: list[str], value: str) -> list[str]:
    names = list(dict.fromkeys(t.strip() for t in parts if t.strip()))
    if len(names) > _MAX_TAGS_PER_ROW:
        raise _RowError(f"more than {_MAX_TAGS_PER_ROW} tags", value)
    try:
        return [check_tag_name(n) for n in names]
    except ValueError as exc:
        raise _RowError(f"a tag name {exc}", value) from exc


def option_tags(text: str) -> list[str]:
    """The tags the import adds to every row, as the form sends them ("a, b; c")."""
    try:
        return _tag_names(re.split(r"[;,]", text), text)
    except _RowError as exc:
        raise InvalidFields({"tags": exc.reason}) from exc


def _entries(
    table: CsvTable, mapping: list[str], country: str
) -> tuple[list[_Entry], list[ImportReportRow]]:
    """One entry per number (later rows merged into the first), and the report so far."""
    report = list(table.broken)
    by_number: dict[str, _Entry] = {}
    for row, cells in table.rows:
        try:
            entry = _entry(row, mapping, cells, country)
        except _RowError as exc:
            report.append(_failed(row, exc.value, exc.reason))
            continue
        first = by_number.get(entry.number)
        if first is None:
            by_number[entry.number] = entry
            continue
        first.absorb(entry)
        report.append(
            ImportReportRow(
                row=row, value=entry.raw, reason=f"duplicate of row {first.row}", outcome="merged"
            )
        )
    return list(by_number.values()), report


# --- writing ----------------------------------------------------------------------------


def _audit(actor: Principal, action: str, contact: Contact, **views: Any) -> AuditLog:
    return AuditLog(
        company_id=actor.company_id,
        user_id=actor.user_id,
        action=action,
        object_type="contact",
        object_id=str(contact.id),
        **views,
    )


def _view(contact: Contact, tag_ids: set[int]) -> dict[str, Any]:
    return snapshot(contact, tag_ids=sorted(tag_ids))


def _changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return any(before.get(k) != after.get(k) for k in after if k != "updated_at")


async def _resolve_tags(actor: Principal, names: list[str]) -> dict[str, Tag]:
    """The company's tags by case-folded name, the missing ones of `names` created."""
    tags = await tags_by_name(company_id=actor.company_id)
    first_spelling: dict[str, str] = {}
    for name in names:
        if name.casefold() not in tags:
            first_spelling.setdefault(name.casefold(), name)
    missing = list(first_spelling.values())
    if missing:
        async with in_transaction():
            for name in missing:
                tags[name.casefold()] = await create_tag_named(actor=actor, name=name)
    return tags


def _apply(contact: Contact, entry: _Entry, fields: dict[str, Any], now: datetime) -> None:
    if entry.name is not None:
        contact.name = entry.name
    if entry.email is not None:
        contact.email = entry.email
    if entry.opted_out is True and not contact.opted_out:
        contact.opted_out, contact.opted_out_at = True, now
        contact.opted_out_reason = IMPORT_REASON
    elif entry.opted_out is False and contact.opted_out:
        contact.opted_out, contact.opted_out_at, contact.opted_out_reason = False, None, ""
    contact.custom_fields = fields


async def _link_tags(links: set[tuple[int, int]]) -> None:
    # The through table has no model to bulk_create: its rows in one executemany, in the
    # batch's transaction (sorted: the same file writes the same rows in the same order).
    await insert_rows(table="contact_tags", columns=("contacts_id", "tag_id"), rows=sorted(links))


async def _write_batch(
    *,
    actor: Principal,
    batch: list[_Entry],
    known: dict[str, int],
    tags: dict[str, Tag],
    extra_tags: list[Tag],
    update_existing: bool,
    now: datetime,
    totals: _Totals,
) -> None:
    async with in_transaction():
        # By id, not `number IN (...)`: right after a big import the planner's statistics
        # still think the table small and compare every row with every number.
        ids = [known[e.number] for e in batch if e.number in known]
        found = await scoped(Contact, actor.company_id).filter(id__in=ids) if ids else []
        await Contact.fetch_for_list(found, "tags")
        existing = {c.number: c for c in found}
        fresh: list[Contact] = []
        fresh_tags: dict[str, set[int]] = {}
        changed: list[Contact] = []
        audits: list[AuditLog] = []
        links: set[tuple[int, int]] = set()
        for entry in batch:
            wanted = {tags[n.casefold()].id for n in entry.tags} | {t.id for t in extra_tags}
            contact = existing.get(entry.number)
            if contact is None:
                fresh.append(
                    Contact(
                        company_id=actor.company_id,
                        number=entry.number,
                        name=entry.name or "",
                        email=entry.email,
                        custom_fields=entry.custom_fields,
                        opted_out=bool(entry.opted_out),
                        opted_out_at=now if entry.opted_out else None,
                        opted_out_reason=IMPORT_REASON if entry.opted_out else "",
                    )
                )
                fresh_tags[entry.number] = wanted
                continue
            current = {t.id for t in contact.tags}
            before = _view(contact, current)
            if update_existing:
                fields = {**(contact.custom_fields or {}), **entry.custom_fields}
                if len(fields) > MAX_CUSTOM_FIELDS:
                    reason = f"more than {MAX_CUSTOM_FIELDS} custom fields with the contact's own"
                    totals.report.append(_failed(entry.row, entry.raw, reason))
                    continue
                _apply(contact, entry, fields, now)
            added = wanted - current
            links.update((contact.id, tag_id) for tag_id in added)
            after = _view(contact, current | added)
            if update_existing:
                totals.updated += 1
            else:
                totals.unchanged += 1
            if _changed(before, after):
                if _changed({**before, "tag_ids": None}, {**after, "tag_ids": None}):
                    contact.updated_at = now
                    changed.append(contact)
                audits.append(_audit(actor, "update", contact, before=before, after=after))
        if fresh:
            floor = await (
                scoped(Contact, actor.company_id)
                .order_by("-id")
                .first()
                .values_list("id", flat=True)
            )
            await Contact.bulk_create(fresh)
            # bulk_create does not give the ids back: read the new rows after the last id.
            created = [
                c
                for c in await scoped(Contact, actor.company_id).filter(id__gt=floor or 0)
                if c.number in fresh_tags
            ]
            for contact in created:
                known[contact.number] = contact.id
                wanted = fresh_tags[contact.number]
                links.update((contact.id, tag_id) for tag_id in wanted)
                audits.append(_audit(actor, "create", contact, after=_view(contact, wanted)))
            totals.created += len(created)
        if changed:
            await Contact.bulk_update(
                changed,
                fields=[
                    "name",
                    "email",
                    "custom_fields",
                    "opted_out",
                    "opted_out_at",
                    "opted_out_reason",
                    "updated_at",
                ],
            )
        if links:
            await _link_tags(links)
        if audits:
            await AuditLog.bulk_create(audits)


async def import_table(
    *,
    actor: Principal,
    table: CsvTable,
    mapping: list[str],
    options: ImportOptions,
    default_country: str,
    now: datetime,
    progress: Progress | None = None,
    import_id: str | None = None,
) -> ImportResult:
    """Create or update (by normalized number) the contacts of a table read from a file.

    Rows with the same number become one contact; an existing contact gets the file's fields
    when `options.update_existing`, and its tags in any case. Bad rows are reported and
    skipped; the others are written BATCH at a time, `progress(done, total)` after each."""
    import_id = import_id or uuid.uuid4().hex
    entries, report = _entries(table, mapping, default_country)
    names = [n for e in entries for n in e.tags] + options.tags
    tags = await _resolve_tags(actor, names)
    extra = list({tags[n.casefold()].id: tags[n.casefold()] for n in options.tags}.values())
    totals = _Totals(report=report)
    total = len(entries)
    known: dict[str, int] = dict(
        await scoped(Contact, actor.company_id).values_list("number", "id")
    )
    if progress is not None:
        await progress(0, total)
    try:
        for start in range(0, total, BATCH):
            await _write_batch(
                actor=actor,
                batch=entries[start : start + BATCH],
                known=known,
                tags=tags,
                extra_tags=extra,
                update_existing=options.update_existing,
                now=now,
                totals=totals,
            )
            if progress is not None:
                await progress(min(start + BATCH, total), total)
    except IntegrityError as exc:
        raise Conflict("Another change to these contacts happened at the same time; retry") from exc
    merged = sum(1 for r in totals.report if r.outcome == "merged")
    failed = sum(1 for r in totals.report if r.outcome == "failed")
    return ImportResult(
        import_id=import_id,
        rows=len(table.rows) + len(table.broken),
        created=totals.created,
        updated=totals.updated,
        unchanged=totals.unchanged,
        merged=merged,
        failed=failed,
        report=sorted(totals.report, key=lambda r: r.row),
    )
