"""Company-owned rows are queried in the api and service modules only through the tenancy
helper (service/tenancy.py: `scoped`, `get_owned`, `owned_ids`…), never as `Model.filter(...)`.

The import rules are import-linter contracts (pyproject.toml, run by `make lint`); this rule is
about calls, which an import graph cannot see, so it is read from the source."""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from tortoise.models import Model

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("service/*/api.py", "service/*/service.py")

# The Model classmethods that start a query of the model's whole table.
QUERY_STARTS = frozenset(
    {
        "all",
        "annotate",
        "exclude",
        "exists",
        "filter",
        "first",
        "get",
        "get_or_create",
        "get_or_none",
        "in_bulk",
        "raw",
        "select_for_update",
        "update_or_create",
    }
)

# (file, enclosing function, call) -> why it may stay. An entry that no longer matches fails
# test_every_allowed_exception_still_exists, so a fixed one cannot linger.
_RELATED_BY_ID = (
    "loads the related rows of rows the caller already scoped, by their ids; no company_id in"
    " scope (taking one changes the signature its api.py callers use)"
)
ALLOWED: dict[tuple[str, str, str], str] = {
    ("service/audiences/service.py", "members_out", "Contact.filter"): _RELATED_BY_ID,
    ("service/campaigns/service.py", "recipients_out", "Contact.filter"): _RELATED_BY_ID,
    ("service/scheduled/service.py", "scheduled_outs", "User.filter"): _RELATED_BY_ID,
    ("service/scheduled/service.py", "scheduled_outs", "Message.filter"): _RELATED_BY_ID,
    ("service/tags/service.py", "tags_out", "Tag.filter"): _RELATED_BY_ID,
    ("service/tickets/service.py", "_campaign_refs", "Campaign.filter"): _RELATED_BY_ID,
}


@dataclass(frozen=True)
class Query:
    """A query started on a company-owned model's class, where it is."""

    path: str
    function: str
    call: str  # "Ticket.filter"
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.function, self.call)


def company_owned_models() -> frozenset[str]:
    """The qualified names of the models with a `company` foreign key."""
    owned: set[str] = set()
    for path in sorted(ROOT.glob("service/*/models.py")):
        module = importlib.import_module(f"service.{path.parent.name}.models")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Model)
                and value.__module__ == module.__name__
                and "company" in value._meta.fk_fields
            ):
                owned.add(f"{module.__name__}.{name}")
    return frozenset(owned)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _bindings(tree: ast.Module) -> dict[str, str]:
    """Each name the module's imports bind, with the qualified name it stands for."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is not None:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
    return bound


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str, bound: dict[str, str], owned: frozenset[str]) -> None:
        self.path, self.bound, self.owned = path, bound, owned
        self.functions: list[str] = []
        self.found: list[Query] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in QUERY_STARTS:
            target = _dotted(func.value)
            if target is not None:
                head, _, rest = target.partition(".")
                if head in self.bound:
                    qualified = ".".join(filter(None, (self.bound[head], rest)))
                    if qualified in self.owned:
                        model = qualified.rsplit(".", 1)[1]
                        self.found.append(
                            Query(
                                path=self.path,
                                function=self.functions[-1] if self.functions else "<module>",
                                call=f"{model}.{func.attr}",
                                line=node.lineno,
                            )
                        )
        self.generic_visit(node)


def unscoped_queries(source: str, *, path: str, owned: frozenset[str]) -> list[Query]:
    """The queries in `source` started on an owned model's class instead of the helper."""
    tree = ast.parse(source)
    finder = _Finder(path, _bindings(tree), owned)
    finder.visit(tree)
    return finder.found


def checked_queries() -> list[Query]:
    owned = company_owned_models()
    found: list[Query] = []
    for pattern in CHECKED:
        for path in sorted(ROOT.glob(pattern)):
            relative = path.relative_to(ROOT).as_posix()
            found += unscoped_queries(path.read_text(), path=relative, owned=owned)
    return found


def test_the_company_owned_models_are_found() -> None:
    """The check below looks for these; finding none would make it pass for nothing."""
    owned = company_owned_models()
    for name in (
        "service.tickets.models.Ticket",
        "service.tickets.models.Message",
        "service.contacts.models.Contact",
        "service.users.models.User",
        "service.queues.models.Queue",
        "service.companies.models.Setting",
    ):
        assert name in owned
    # A company is the tenant, not a company's row; a list member belongs through its list.
    assert "service.companies.models.Company" not in owned
    assert "service.audiences.models.ContactListMember" not in owned


def test_the_check_finds_a_query_that_bypasses_the_helper() -> None:
    source = """
from service import tenancy
from service.tickets import models
from service.tickets.models import Ticket as T
import service.contacts.models

async def leaky(company_id):
    await T.filter(company_id=company_id)
    await models.Message.get(id=1)
    await service.contacts.models.Contact.all()

async def scoped_ones(company_id):
    await tenancy.scoped(T, company_id).filter(id=1)
    await tenancy.get_owned(T, company_id, 1)
    await T.create(company_id=company_id)
"""
    owned = company_owned_models()
    found = unscoped_queries(source, path="x.py", owned=owned)
    # Named by the model, whatever the module calls it.
    assert [(q.function, q.call, q.line) for q in found] == [
        ("leaky", "Ticket.filter", 8),
        ("leaky", "Message.get", 9),
        ("leaky", "Contact.all", 10),
    ]


def test_company_rows_are_queried_only_through_the_tenancy_helper() -> None:
    """Every query of a company's rows in an api or service module goes through tenancy."""
    bypasses = [
        f"{q.path}:{q.line} {q.function}: {q.call}(...)"
        for q in checked_queries()
        if q.key not in ALLOWED
    ]
    assert not bypasses, "query through service.tenancy (scoped, get_owned…):\n" + "\n".join(
        bypasses
    )


def test_every_allowed_exception_still_exists() -> None:
    """An exception that was fixed leaves the allow-list, so that it cannot come back unseen."""
    found = {q.key for q in checked_queries()}
    assert not set(ALLOWED) - found, sorted(set(ALLOWED) - found)
