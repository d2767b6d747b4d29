"""/api/settings: defaults, partial updates validated per key, only changed keys stored, audit."""

from __future__ import annotations

from typing import Any

import httpx

from service.companies.models import Setting
from service.companies.schemas import CompanySettings
from service.companies.service import get_company_settings
from service.queues.models import Queue
from service.users.models import Role
from tests.factories import Tenant, unique

DEFAULTS = {
    "language": "pt-BR",
    "timezone": "America/Sao_Paulo",
    "human_keywords": ["atendente", "humano", "agent", "agente"],
    "optout_keywords": ["SAIR", "STOP", "PARAR"],
    "optin_keywords": ["VOLTAR"],
    "csat_enabled": True,
    "csat_timeout_minutes": 60,
    "triage_max_misses": 3,
    "fallback_queue_id": None,
    "out_of_hours_action": "pending",
    "inactivity_close_minutes": None,
    "unqueued_timeout_minutes": None,
    "business_hours": None,
    "bot_texts": {},
    "bot_texts_by_language": {},
}


async def stored(tenant: Tenant) -> dict[str, Any]:
    rows = await Setting.filter(company_id=tenant.company.id)
    return {row.key: row.value["value"] for row in rows}


async def settings_audit(client: httpx.AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log", params={"object_type": "settings"}, headers=tenant.headers
    )
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_role_reads_the_defaults(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for headers in (
        tenant.headers,
        (await tenant.member(Role.agent, is_super=False)).headers,
        (await tenant.member(Role.supervisor, is_super=False)).headers,
    ):
        response = await client.get("/api/settings", headers=headers)
        assert response.status_code == 200
        assert response.json() == DEFAULTS
    assert (await client.get("/api/settings")).status_code == 401
    assert (await get_company_settings(company_id=tenant.company.id)) == CompanySettings()


async def test_patch_writes_only_changed_keys(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    response = await client.patch(
        "/api/settings",
        json={
            "language": "en",
            "timezone": "Europe/Lisbon",
            "csat_enabled": True,  # the default: nothing to store
            "bot_texts": {"greeting": "Hello there"},
            "human_keywords": ["human", "person"],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    expected = {
        **DEFAULTS,
        "language": "en",
        "timezone": "Europe/Lisbon",
        "bot_texts": {"greeting": "Hello there"},
        "bot_texts_by_language": {"en": {"greeting": "Hello there"}},
        "human_keywords": ["human", "person"],
    }
    assert response.json() == expected
    assert (await client.get("/api/settings", headers=tenant.headers)).json() == expected
    # The texts are kept as the company's language's (`bot_texts` names them).
    assert await stored(tenant) == {
        "language": "en",
        "timezone": "Europe/Lisbon",
        "bot_texts_by_language": {"en": {"greeting": "Hello there"}},
        "human_keywords": ["human", "person"],
    }
    settings = await get_company_settings(company_id=tenant.company.id)
    assert settings.language == "en"
    assert settings.triage_max_misses == 3

    # Another partial update keeps the rest.
    again = await client.patch(
        "/api/settings", json={"triage_max_misses": 5}, headers=tenant.headers
    )
    assert again.json() == {**expected, "triage_max_misses": 5}
    # Back to a default value is stored as a change too.
    back = await client.patch("/api/settings", json={"language": "pt-BR"}, headers=tenant.headers)
    assert back.json()["language"] == "pt-BR"
    assert (await stored(tenant))["language"] == "pt-BR"

    # The other company is untouched.
    theirs = await client.get("/api/settings", headers=other_tenant.headers)
    assert theirs.json() == DEFAULTS
    assert await stored(other_tenant) == {}


async def test_invalid_settings_are_422_naming_the_key(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"color": "blue"}, "color"),
        ({"language": "fr"}, "language"),
        ({"language": None}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"human_keywords": "atendente"}, "human_keywords"),
        ({"optout_keywords": [""]}, "optout_keywords.0"),
        ({"optin_keywords": ["x"] * 101}, "optin_keywords"),
        ({"csat_enabled": "maybe"}, "csat_enabled"),
        ({"csat_timeout_minutes": 0}, "csat_timeout_minutes"),
        ({"csat_timeout_minutes": 10081}, "csat_timeout_minutes"),
        ({"triage_max_misses": 11}, "triage_max_misses"),
        ({"triage_max_misses": None}, "triage_max_misses"),
        ({"fallback_queue_id": "one"}, "fallback_queue_id"),
        ({"out_of_hours_action": "drop"}, "out_of_hours_action"),
        ({"inactivity_close_minutes": 4}, "inactivity_close_minutes"),
        ({"business_hours": [1, 2]}, "business_hours"),
        ({"bot_texts": {"k" * 61: "text"}}, "bot_texts"),
        ({"bot_texts": {"greeting": "x" * 2001}}, "bot_texts.greeting"),
        ({"bot_texts": {f"key{n}": "x" for n in range(101)}}, "bot_texts"),
        ({"bot_texts": {"greeting": 5}}, "bot_texts.greeting"),
    ]
    for body, field in cases:
        response = await client.patch("/api/settings", json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        fields = response.json()["error"]["fields"]
        assert any(key.startswith(field) for key in fields), (body, fields)
    assert await stored(tenant) == {}
    assert await settings_audit(client, tenant) == []


async def test_nullable_settings_accept_null(client: httpx.AsyncClient, tenant: Tenant) -> None:
    hours = {"timezone": "America/Sao_Paulo", "days": {"mon": [["08:00", "18:00"]]}}
    set_ = await client.patch(
        "/api/settings",
        json={"inactivity_close_minutes": 30, "business_hours": hours},
        headers=tenant.headers,
    )
    assert set_.status_code == 200
    assert set_.json()["inactivity_close_minutes"] == 30
    assert set_.json()["business_hours"]["days"]["mon"] == [["08:00", "18:00"]]
    cleared = await client.patch(
        "/api/settings",
        json={"inactivity_close_minutes": None, "business_hours": None},
        headers=tenant.headers,
    )
    assert cleared.status_code == 200
    assert cleared.json()["inactivity_close_minutes"] is None
    assert cleared.json()["business_hours"] is None


async def test_fallback_queue_must_be_the_companys(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = await Queue.create(company=other_tenant.company, name=unique("queue"))
    refused = await client.patch(
        "/api/settings", json={"fallback_queue_id": foreign.id}, headers=tenant.headers
    )
    assert refused.status_code == 422
    assert "fallback_queue_id" in refused.json()["error"]["fields"]
    assert await stored(tenant) == {}

    own = await Queue.create(company=tenant.company, name=unique("queue"))
    accepted = await client.patch(
        "/api/settings", json={"fallback_queue_id": own.id}, headers=tenant.headers
    )
    assert accepted.status_code == 200
    assert accepted.json()["fallback_queue_id"] == own.id
    # A queue deleted since is no fallback any more.
    await own.delete()
    assert (await client.get("/api/settings", headers=tenant.headers)).json()[
        "fallback_queue_id"
    ] is None
    cleared = await client.patch(
        "/api/settings", json={"fallback_queue_id": None}, headers=tenant.headers
    )
    assert cleared.status_code == 200
    assert (await stored(tenant))["fallback_queue_id"] is None


async def test_only_admins_change_settings(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for role in (Role.agent, Role.supervisor):
        member = await tenant.member(role, is_super=False)
        response = await client.patch(
            "/api/settings", json={"language": "en"}, headers=member.headers
        )
        assert response.status_code == 403
    assert (await client.patch("/api/settings", json={"language": "en"})).status_code == 401
    assert await stored(tenant) == {}
    token = await client.post("/api/api-tokens", json={"name": "ci"}, headers=tenant.headers)
    api = {"Authorization": f"Bearer {token.json()['token']}"}
    assert (
        await client.patch("/api/settings", json={"language": "es"}, headers=api)
    ).status_code == 200
    assert (await stored(tenant)) == {"language": "es"}


async def test_changes_are_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.patch(
        "/api/settings", json={"csat_enabled": False, "language": "pt-BR"}, headers=tenant.headers
    )
    # The same values again: nothing changes, nothing is logged.
    await client.patch("/api/settings", json={"csat_enabled": False}, headers=tenant.headers)
    entries = await settings_audit(client, tenant)
    assert len(entries) == 1
    assert entries[0]["action"] == "update"
    assert entries[0]["object_id"] == str(tenant.company.id)
    assert entries[0]["before"] == {"csat_enabled": True}
    assert entries[0]["after"] == {"csat_enabled": False}
    assert entries[0]["user_id"] == tenant.admin.user.id


async def test_a_stale_stored_value_falls_back_to_its_default(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await Setting.create(company=tenant.company, key="triage_max_misses", value={"value": 99})
    await Setting.create(company=tenant.company, key="language", value={"value": "es"})
    await Setting.create(company=tenant.company, key="timezone", value=["not", "wrapped"])
    await Setting.create(company=tenant.company, key="retired_setting", value={"value": True})
    settings = await get_company_settings(company_id=tenant.company.id)
    assert settings.triage_max_misses == 3
    assert settings.language == "es"
    assert settings.timezone == "America/Sao_Paulo"
    # Setting the value in effect again replaces the stale row.
    response = await client.patch(
        "/api/settings", json={"triage_max_misses": 3}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert (await Setting.get(company=tenant.company, key="triage_max_misses")).value == {
        "value": 3
    }


async def test_company_business_hours_are_validated_and_kept(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    hours = {
        "timezone": "America/Sao_Paulo",
        "days": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]]},
        "holidays": ["12-25"],
    }
    response = await client.patch(
        "/api/settings", json={"business_hours": hours}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    stored = await get_company_settings(company_id=tenant.company.id)
    assert stored.business_hours is not None
    assert stored.business_hours.days.mon == [["08:00", "12:00"], ["13:00", "18:00"]]
    bad = {**hours, "timezone": "Mars/Olympus"}
    response = await client.patch(
        "/api/settings", json={"business_hours": bad}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert "business_hours.timezone" in response.json()["error"]["fields"]


async def test_bot_texts_with_an_unknown_variable_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    refused = await client.patch(
        "/api/settings",
        json={"bot_texts": {"welcome": "{{greeting}}, {{primeiro_nome}}!"}},
        headers=tenant.headers,
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["message"].startswith("Variável desconhecida: {{primeiro_nome}}")
    assert "{{first_name}}" in error["message"]  # what to use instead
    assert list(error["fields"]) == ["bot_texts.welcome"]
    assert await stored(tenant) == {}
    fine = await client.patch(
        "/api/settings",
        json={"bot_texts": {"welcome": "{{greeting}}, {{first_name}}! {{ protocol }}"}},
        headers=tenant.headers,
    )
    assert fine.status_code == 200, fine.text


async def test_bot_texts_per_language(client: httpx.AsyncClient, tenant: Tenant) -> None:
    async def patch(**body: Any) -> dict[str, Any]:
        response = await client.patch("/api/settings", json=body, headers=tenant.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    both = {"en": {"welcome": "Hi"}, "es": {"welcome": "Hola"}}
    saved = await patch(bot_texts_by_language=both)
    assert saved["bot_texts_by_language"] == both
    assert saved["bot_texts"] == {}  # none in the company's Portuguese
    # `bot_texts` is the company's language's entry, the others kept.
    saved = await patch(bot_texts={"welcome": "Oi"})
    assert saved["bot_texts_by_language"] == {**both, "pt-BR": {"welcome": "Oi"}}
    saved = await patch(language="en")
    assert saved["bot_texts"] == {"welcome": "Hi"}
    # Both at once: `bot_texts` is the language's as it is after the change.
    saved = await patch(language="es", bot_texts={"welcome": "¡Hola!"})
    assert saved["bot_texts_by_language"]["es"] == {"welcome": "¡Hola!"}
    assert saved["bot_texts_by_language"]["en"] == {"welcome": "Hi"}
    assert (await client.get("/api/settings", headers=tenant.headers)).json() == saved
    assert "bot_texts" not in await stored(tenant)

    refused = await client.patch(
        "/api/settings",
        json={"bot_texts_by_language": {"en": {"welcome": "Hi {{nome}}"}}},
        headers=tenant.headers,
    )
    assert refused.status_code == 422, refused.text
    assert list(refused.json()["error"]["fields"]) == ["bot_texts_by_language.en.welcome"]
    unknown = await client.patch(
        "/api/settings", json={"bot_texts_by_language": {"fr": {}}}, headers=tenant.headers
    )
    assert unknown.status_code == 422, unknown.text
    assert (await client.get("/api/settings", headers=tenant.headers)).json() == saved


async def test_a_first_version_bot_texts_row_stays_with_its_language(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # What the first version stored: one set of texts, whatever the language.
    await Setting.create(
        company_id=tenant.company.id, key="bot_texts", value={"value": {"welcome": "Oi"}}
    )
    read = (await client.get("/api/settings", headers=tenant.headers)).json()
    assert read["bot_texts"] == {"welcome": "Oi"}
    assert read["bot_texts_by_language"] == {"pt-BR": {"welcome": "Oi"}}
    # Switching the company to English keeps them Portuguese, and moves them for good.
    switched = await client.patch("/api/settings", json={"language": "en"}, headers=tenant.headers)
    assert switched.status_code == 200, switched.text
    assert switched.json()["bot_texts"] == {}
    assert switched.json()["bot_texts_by_language"] == {"pt-BR": {"welcome": "Oi"}}
    assert await stored(tenant) == {
        "language": "en",
        "bot_texts_by_language": {"pt-BR": {"welcome": "Oi"}},
    }
