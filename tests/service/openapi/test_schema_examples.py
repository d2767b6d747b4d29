"""The examples /docs shows are bodies the API accepts: each one passes its model's validation.

A model's examples (its JSON schema's `examples`) are validated as `parse_body` validates a
request: from JSON, through `model_validate`; a field's own examples through the field's type.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import pkgutil
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

import service
from service.auth.schemas import LoginBody
from service.campaigns.schemas import CampaignCreate
from service.companies.schemas import CompanySettingsUpdate
from service.contacts.schemas import ContactCreate
from service.http import StrictModel
from service.queues.schemas import QueueCreate
from service.quick_replies.schemas import QuickReplyCreate
from service.tickets.schemas import MessageCreate
from service.users.schemas import UserCreate

# The request bodies a first client of the API writes; each shows at least one example.
MAIN_BODIES: tuple[type[BaseModel], ...] = (
    LoginBody,
    MessageCreate,
    ContactCreate,
    QueueCreate,
    CampaignCreate,
    CompanySettingsUpdate,
    QuickReplyCreate,
    UserCreate,
)


def _schema_modules() -> list[str]:
    names = ["flows.spec"]
    for package in pkgutil.iter_modules(service.__path__):
        if package.ispkg and importlib.util.find_spec(f"service.{package.name}.schemas"):
            names.append(f"service.{package.name}.schemas")
    return names


def _models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = []
    for name in _schema_modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == name:
                models.append(value)
    return models


MODELS = _models()


def _model_examples(model: type[BaseModel]) -> list[Any]:
    examples: list[Any] = model.model_json_schema().get("examples", [])
    return examples


def _example_problems(model: type[BaseModel]) -> list[str]:
    """What is wrong with the model's examples and its fields' examples (empty: nothing)."""
    problems: list[str] = []
    for index, example in enumerate(_model_examples(model)):
        try:
            model.model_validate(json.loads(json.dumps(example)))
        except ValidationError as exc:
            problems.append(f"{model.__name__} example {index}: {exc}")
    for name, field in model.model_fields.items():
        adapter: TypeAdapter[Any] = TypeAdapter(field.rebuild_annotation())
        for example in field.examples or []:
            try:
                adapter.validate_python(json.loads(json.dumps(example)))
            except ValidationError as exc:
                problems.append(f"{model.__name__}.{name} example {example!r}: {exc}")
    return problems


def test_the_schema_modules_are_found() -> None:
    # Guards the discovery itself: an empty list would make every test below pass.
    names = {model.__name__ for model in MODELS}
    assert {"ContactCreate", "QueueCreate", "MenuOption", "BusinessHours"} <= names
    assert len(MODELS) > 100


@pytest.mark.parametrize("model", MAIN_BODIES, ids=lambda model: model.__name__)
def test_main_request_bodies_show_an_example(model: type[BaseModel]) -> None:
    assert _model_examples(model), f"{model.__name__} has no example for /docs"


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_example_is_valid(model: type[BaseModel]) -> None:
    assert not _example_problems(model), "\n".join(_example_problems(model))


class _BadExamples(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": ""}, {"name": "ok"}]})

    name: str = Field(min_length=1)
    color: str = Field(default="#000000", pattern=r"^#[0-9a-f]{6}$", examples=["blue"])


def test_an_invalid_example_is_reported() -> None:
    problems = _example_problems(_BadExamples)
    assert len(problems) == 2
    assert problems[0].startswith("_BadExamples example 0:")
    assert problems[1].startswith("_BadExamples.color example 'blue':")
