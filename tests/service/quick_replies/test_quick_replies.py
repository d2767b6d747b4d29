"""Quick replies: CRUD, shortcut rules, search, roles, tenant isolation, audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.users.models import Role
from tests.factories import Tenant, unique

URL = "/api/quick-replies"


def _shortcut() -> str:
    return unique("qr").lower()


async def _reply(tenant: Tenant, shortcut: str | None = None, text: str = "Olá!") -> dict[str, Any]:
    body = {"shortcut": shortcut or _shortcut(), "text": text}
    response = await tenant.client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_get_update_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await _reply(tenant, "Bom-Dia_1", "Bom dia! Como posso ajudar?")
    assert created["shortcut"] == "bom-dia_1"
    assert created["text"] == "Bom dia! Como posso ajudar?"

    got = await client.get(f"{URL}/{created['id']}", headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == created

    patched = await client.patch(
        f"{URL}/{created['id']}", json={"text": "Boa tarde!"}, headers=tenant.headers
    )
    assert patched.status_code == 200
    assert patched.json()["text"] == "Boa tarde!"
    assert patched.json()["shortcut"] == "bom-dia_1"

    renamed = await client.patch(
        f"{URL}/{created['id']}", json={"shortcut": "TARDE"}, headers=tenant.headers
    )
    assert renamed.json()["shortcut"] == "tarde"

    assert (
        await client.delete(f"{URL}/{created['id']}", headers=tenant.headers)
    ).status_code == 204
    assert (await client.get(f"{URL}/{created['id']}", headers=tenant.headers)).status_code == 404


async def test_shortcut_unique_per_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await _reply(tenant, "preco")
    duplicate = await client.post(
        URL, json={"shortcut": "PRECO", "text": "x"}, headers=tenant.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["fields"] == {"shortcut": "is already taken"}
    await _reply(other_tenant, "preco")
    second = await _reply(tenant, "prazo")
    clash = await client.patch(
        f"{URL}/{second['id']}", json={"shortcut": "preco"}, headers=tenant.headers
    )
    assert clash.status_code == 409
    same = await client.patch(
        f"{URL}/{first['id']}", json={"shortcut": "preco", "text": "y"}, headers=tenant.headers
    )
    assert same.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shortcut": "", "text": "x"}, "shortcut"),
        ({"shortcut": "a" * 51, "text": "x"}, "shortcut"),
        ({"shortcut": "com espaço", "text": "x"}, "shortcut"),
        ({"shortcut": "/start", "text": "x"}, "shortcut"),
        ({"shortcut": "ok", "text": ""}, "text"),
        ({"shortcut": "ok", "text": "   "}, "text"),
        ({"shortcut": "ok", "text": "x" * 4001}, "text"),
        ({"shortcut": "ok"}, "text"),
        ({"shortcut": "ok", "text": "x", "id": 3}, "id"),
        ({"shortcut": "ok", "text": "nul\u0000"}, "text"),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


async def test_longest_allowed_values(tenant: Tenant) -> None:
    reply = await _reply(tenant, "a" * 50, "x" * 4000)
    assert len(reply["text"]) == 4000


async def test_search_by_shortcut_prefix_and_text(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    boleto = await _reply(tenant, "boleto", "Segue a segunda via do seu boleto.")
    pix = await _reply(tenant, "pix", "Nossa chave PIX é o CNPJ.")
    hello = await _reply(tenant, "oi", "Olá! Em que posso ajudar?")
    await _reply(other_tenant, "boleto-outro", "boleto de outra empresa")

    async def ids(q: str) -> list[int]:
        response = await client.get(URL, params={"q": q}, headers=tenant.headers)
        assert response.status_code == 200
        return [r["id"] for r in response.json()["items"]]

    assert await ids("bol") == [boleto["id"]]
    assert await ids("/bol") == [boleto["id"]]
    assert await ids("BOLETO") == [boleto["id"]]
    assert await ids("chave pix") == [pix["id"]]
    assert await ids("leto") == [boleto["id"]]  # in the text, not the shortcut's start
    assert await ids("ajudar") == [hello["id"]]
    assert await ids("nada-disso") == []
    everything = await ids("")
    assert everything == [boleto["id"], pix["id"], hello["id"]]


async def test_pagination(client: httpx.AsyncClient, tenant: Tenant) -> None:
    made = [(await _reply(tenant))["id"] for _ in range(3)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(URL, params=params, headers=tenant.headers)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    bad = await client.get(URL, params={"cursor": "garbage!"}, headers=tenant.headers)
    assert bad.status_code == 422


async def test_roles(client: httpx.AsyncClient, tenant: Tenant) -> None:
    reply = await _reply(tenant, "roles")
    agent = await tenant.member(Role.agent)
    assert (await client.get(URL, headers=agent.headers)).status_code == 200
    assert (await client.get(f"{URL}/{reply['id']}", headers=agent.headers)).status_code == 200
    forbidden = [
        await client.post(URL, json={"shortcut": "ag", "text": "x"}, headers=agent.headers),
        await client.patch(f"{URL}/{reply['id']}", json={"text": "x"}, headers=agent.headers),
        await client.delete(f"{URL}/{reply['id']}", headers=agent.headers),
    ]
    assert [r.status_code for r in forbidden] == [403, 403, 403]
    unchanged = await client.get(f"{URL}/{reply['id']}", headers=tenant.headers)
    assert unchanged.json() == reply

    supervisor = await tenant.member(Role.supervisor)
    created = await client.post(
        URL, json={"shortcut": "sup", "text": "x"}, headers=supervisor.headers
    )
    assert created.status_code == 201
    patched = await client.patch(
        f"{URL}/{reply['id']}", json={"text": "by supervisor"}, headers=supervisor.headers
    )
    assert patched.status_code == 200
    deleted = await client.delete(f"{URL}/{reply['id']}", headers=supervisor.headers)
    assert deleted.status_code == 204


async def test_another_company_cannot_reach_a_quick_reply(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    reply = await _reply(tenant, "secreto", "texto secreto")
    url = f"{URL}/{reply['id']}"
    assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
    patched = await client.patch(url, json={"text": "pwned"}, headers=other_tenant.headers)
    assert patched.status_code == 404
    assert (
        await client.patch(url, json={"bad": 1}, headers=other_tenant.headers)
    ).status_code == 404
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    listed = await client.get(URL, params={"q": "secreto"}, headers=other_tenant.headers)
    assert listed.json()["items"] == []
    still = await client.get(url, headers=tenant.headers)
    assert still.json() == reply


async def test_changes_are_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    reply = await _reply(tenant, "audit", "antes")
    await client.patch(f"{URL}/{reply['id']}", json={"text": "depois"}, headers=tenant.headers)
    # A PATCH that changes nothing writes no entry.
    await client.patch(f"{URL}/{reply['id']}", json={"text": "depois"}, headers=tenant.headers)
    await client.delete(f"{URL}/{reply['id']}", headers=tenant.headers)
    response = await client.get(
        "/api/audit-log",
        params={"object_type": "quick_reply", "object_id": str(reply["id"])},
        headers=tenant.headers,
    )
    entries = response.json()["items"]
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert all(e["user_id"] == tenant.admin.user.id for e in entries)
    assert entries[1]["before"]["text"] == "antes"
    assert entries[1]["after"]["text"] == "depois"
    assert entries[2]["after"]["shortcut"] == "audit"
    assert entries[0]["before"]["text"] == "depois"


async def test_unknown_variables_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    known = await _reply(tenant, text="{{greeting}}, {{first_name}}! Sou {{agent}}.")
    refused = await client.post(
        URL, json={"shortcut": _shortcut(), "text": "Oi {{primeiro_nome}}"}, headers=tenant.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"].startswith("Variável desconhecida: {{primeiro_nome}}")
    assert "text" in refused.json()["error"]["fields"]
    patched = await client.patch(
        f"{URL}/{known['id']}", json={"text": "{{cidade}}"}, headers=tenant.headers
    )
    assert patched.status_code == 422, patched.text
    assert "{{cidade}}" in patched.json()["error"]["message"]
