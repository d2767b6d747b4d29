"""Only service/tickets/lifecycle.py changes a ticket's status, queue or agent.

Read from the source: an assignment to `.status`, `.queue_id` or `.user_id` of a ticket, an
ORM `.update(status=…)` on tickets, or SQL that sets those columns, anywhere else fails."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOME = ROOT / "service" / "tickets" / "lifecycle.py"
LIFECYCLE_FIELDS = {"status", "queue_id", "user_id"}
# Objects that have a `status` (or a `user_id`) of their own, not a ticket's.
NOT_TICKETS = re.compile(
    r"message|row|recipient|campaign|connection|scheduled|contact|claim|user|member|session|"
    r"person|job|entry|token|self\b"
)
_SQL_SET = re.compile(
    r"UPDATE\s+\"?tickets\"?\s+SET[^;]*\b(status|queue_id|user_id)\b\s*=", re.IGNORECASE
)


def _sources() -> list[Path]:
    paths = [*sorted((ROOT / "service").rglob("*.py")), *sorted((ROOT / "analytics").rglob("*.py"))]
    # The demo history writes its synthetic past in bulk SQL, as a restore would.
    return [p for p in paths if p != HOME and p.name != "demo_history.py"]


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    where = path.relative_to(root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in LIFECYCLE_FIELDS
                    and not NOT_TICKETS.search(ast.unparse(target.value).lower())
                ):
                    found.append(f"{where}:{node.lineno} assigns {ast.unparse(target)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            of_tickets = "Ticket" in receiver and "TicketEvent" not in receiver
            if node.func.attr == "update" and of_tickets:
                named = {k.arg for k in node.keywords} & LIFECYCLE_FIELDS
                if named:
                    found.append(f"{where}:{node.lineno} updates {sorted(named)} of tickets")
            if node.func.attr == "create" and receiver == "Ticket":
                named = {k.arg for k in node.keywords} & LIFECYCLE_FIELDS
                if named:
                    found.append(f"{where}:{node.lineno} opens a ticket with {sorted(named)}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SQL_SET.search(node.value)
        ):
            found.append(f"{where}:{node.lineno} sets a lifecycle column in SQL")
    return found


def test_only_the_lifecycle_changes_status_queue_or_agent() -> None:
    offences = [offence for path in _sources() for offence in _offences(path)]
    assert offences == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    # Each way of changing a ticket outside the lifecycle is caught (the test can fail).
    sample = tmp_path / "service" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "ticket.status = 'closed'\n"
        "latest.queue_id = 3\n"
        "await Ticket.filter(id=1).update(user_id=None)\n"
        "await Ticket.create(status='open')\n"
        "SQL = 'UPDATE tickets SET status = ? WHERE id = ?'\n"
        "message.status = 'sent'\n"
    )
    found = _offences(sample, root=tmp_path)
    assert len(found) == 5, found
