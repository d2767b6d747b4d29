"""Figures, their floors and targets; the printed table and bench-results.json."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Figure", "Results", "Target"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Target:
    """A goal from the issue: `of` the figure's value or of its ratio to the floor."""

    op: Literal["<", "<=", ">="]
    value: float
    of: Literal["value", "ratio"] = "value"

    def text(self, unit: str) -> str:
        if self.of == "ratio":
            return f"ratio {self.op} {self.value:g}"
        return f"{self.op} {self.value:g} {unit}"

    def met_by(self, value: float | None, ratio: float | None) -> bool | None:
        measured = ratio if self.of == "ratio" else value
        if measured is None:
            return None
        return _OPERATORS[self.op](measured, self.value)


@dataclass
class Figure:
    """One measured figure; `ratio` is always value / floor (for a throughput the share of
    the floor reached, for a latency or a count how many times the floor's)."""

    key: str
    label: str
    unit: str
    value: float | None
    floor: float | None = None
    target: Target | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met_by(self.value, self.ratio)

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "label": self.label,
            "value": _rounded(self.value),
            "floor": _rounded(self.floor),
            "ratio": None if ratio is None else round(ratio, 4),
            "unit": self.unit,
            "target": None if self.target is None else self.target.text(self.unit),
            "met": self.met,
            "note": self.note,
            "detail": self.detail,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


@dataclass
class Results:
    """Everything one run measured, in the order it was measured."""

    meta: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def as_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "figures": {f.key: f.as_json() for f in self.figures}}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n")

    def table(self) -> str:
        """The figures as a plain-text table (a figure not measured shows its note)."""
        header = ("figure", "value", "floor", "ratio", "unit", "target", "met")
        rows = [header]
        for f in self.figures:
            met = {True: "yes", False: "NO", None: "-"}[f.met]
            target = f.target.text(f.unit) if f.target else "-"
            value = _cell(f.value) if f.value is not None else "n/a"
            rows.append((f.label, value, _cell(f.floor), _cell(f.ratio), f.unit, target, met))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = []
        for index, row in enumerate(rows):
            cells = [
                cell.ljust(width) if i in (0, 4, 5) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        notes = [f"  {f.label}: {f.note}" for f in self.figures if f.note]
        if notes:
            lines += ["", "notes:", *notes]
        return "\n".join(lines)
