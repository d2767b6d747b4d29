"""Contacts: phone normalization, CRUD, search, tags, roles, tenant isolation, audit, CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from service.connections.models import Connection
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.tickets.models import Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant, agent_in, make_queue, make_ticket, unique
from tests.helpers.contacts import audit_entries, fresh_number, list_ids, make_contact, make_tag

URL = "/api/contacts"


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+55 11 98765-4321", "BR", "+5511987654321"),
        ("(11) 98765-4321", "BR", "+5511987654321"),
        ("11987654321", "BR", "+5511987654321"),
        ("5511987654321", "BR", "+5511987654321"),
        ("14155552671", "BR", "+14155552671"),  # not Brazilian: read with its country code
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "BR", "+14155552671"),
        ("5511987654321@s.whatsapp.net", "BR", "+5511987654321"),
        ("5511987654321:7@s.whatsapp.net", "BR", "+5511987654321"),
        ("14155552671@s.whatsapp.net", "BR", "+14155552671"),
        ("551187654321@s.whatsapp.net", "BR", "+551187654321"),  # old 8-digit mobile id
        ("  +5511987654321  ", "br", "+5511987654321"),
    ],
)
def test_normalize_number_accepts(raw: str, country: str, expected: str) -> None:
    assert normalize_number(raw, country) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "123",
        "+55 11 1234",
        "+999 1234567890",
        "call 14155552671 now",
        "5511987654321@g.us",
        "group@s.whatsapp.net",
        "1" * 100,
    ],
)
def test_normalize_number_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a valid phone number"):
        normalize_number(raw, "BR")


# --- create and read ----------------------------------------------------------------------


async def test_create_normalizes_and_reads_back(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    tag = await make_tag(tenant, "VIP")
    body = {
        "number": "(11) 97000-0001",
        "name": "Maria Silva",
        "email": "Maria@Example.com",
        "custom_fields": {"cpf": "123", "age": 42, "score": 4.5, "vip": True, "note": None},
        "tag_ids": [tag["id"]],
        "opted_out": True,
        "language": "es",
    }
    response = await client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["number"] == "+5511970000001"
    assert created["email"] == "maria@example.com"
    assert created["custom_fields"] == body["custom_fields"]
    assert [t["name"] for t in created["tags"]] == ["VIP"]
    assert created["opted_out"] is True
    assert created["opted_out_at"] is not None
    assert created["language"] == "es"
    assert created["tickets_count"] == 0

    got = await client.get(f"{URL}/{created['id']}", headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == created


async def test_minimal_contact(tenant: Tenant) -> None:
    contact = await make_contact(tenant, name="")
    assert contact["name"] == ""
    assert contact["email"] is None
    assert contact["custom_fields"] == {}
    assert contact["tags"] == []
    assert contact["opted_out"] is False
    assert contact["opted_out_at"] is None


async def test_tickets_count(client: httpx.AsyncClient, tenant: Tenant) -> None:
    contact = await make_contact(tenant)
    other = await make_contact(tenant)
    connection = await Connection.create(company=tenant.company, name=unique("conn"))
    # One active ticket per contact and connection at most: the earlier one is closed.
    for status in ("closed", "bot"):
        await Ticket.create(
            company=tenant.company, contact_id=contact["id"], connection=connection, status=status
        )
    await Ticket.create(company=tenant.company, contact_id=other["id"], connection=connection)
    got = await client.get(f"{URL}/{contact['id']}", headers=tenant.headers)
    assert got.json()["tickets_count"] == 2
    listed = await client.get(URL, params={"q": contact["name"]}, headers=tenant.headers)
    assert listed.json()["items"][0]["tickets_count"] == 2


async def test_invalid_number_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(URL, json={"number": "12345"}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"number": "is not a valid phone number"}


async def test_duplicate_number_is_409_in_the_same_company_only(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    await make_contact(tenant, number="+55 11 97000-0002")
    again = await client.post(URL, json={"number": "11970000002"}, headers=tenant.headers)
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"number": "is already taken"}
    elsewhere = await make_contact(other_tenant, number="5511970000002")
    assert elsewhere["number"] == "+5511970000002"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "number"),
        ({"number": ""}, "number"),
        ({"number": 5511987654321}, "number"),
        ({"number": "x" * 65}, "number"),
        ({"number": "+5511970000003", "name": "x" * 201}, "name"),
        ({"number": "+5511970000003", "email": "not-an-email"}, "email"),
        ({"number": "+5511970000003", "language": "fr"}, "language"),
        ({"number": "+5511970000003", "tag_ids": "1"}, "tag_ids"),
        ({"number": "+5511970000003", "tag_ids": [0]}, "tag_ids.0"),
        ({"number": "+5511970000003", "tag_ids": list(range(1, 102))}, "tag_ids"),
        ({"number": "+5511970000003", "opted_out": "maybe"}, "opted_out"),
        ({"number": "+5511970000003", "custom_fields": []}, "custom_fields"),
        ({"number": "+5511970000003", "custom_fields": {"a": {"b": 1}}}, "custom_fields.a"),
        ({"number": "+5511970000003", "custom_fields": {"a": [1]}}, "custom_fields.a"),
        ({"number": "+5511970000003", "custom_fields": {"": "x"}}, "custom_fields"),
        ({"number": "+5511970000003", "custom_fields": {"k" * 61: "x"}}, "custom_fields"),
        ({"number": "+5511970000003", "custom_fields": {"k": "x" * 1001}}, "custom_fields"),
        ({"number": "+5511970000003", "custom_fields": {"Email": "x"}}, "custom_fields"),
        (
            {"number": "+5511970000003", "custom_fields": {f"k{i}": i for i in range(51)}},
            "custom_fields",
        ),
        ({"number": "+5511970000003", "name": "nul\u0000byte"}, "name"),
        ({"number": "+5511970000003", "custom_fields": {"k": "a\u0000"}}, "custom_fields"),
        ({"number": "+5511970000003", "company_id": 1}, "company_id"),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert any(key == field or key.startswith(f"{field}.") for key in fields), fields
    listed = await client.get(URL, params={"q": "5511970000003"}, headers=tenant.headers)
    assert listed.json()["items"] == []


async def test_non_finite_floats_are_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = b'{"number": "+5511970000004", "custom_fields": {"x": NaN}}'
    response = await client.post(
        URL, content=body, headers={**tenant.headers, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert any(key.startswith("custom_fields.x") for key in response.json()["error"]["fields"])


async def test_fifty_custom_fields_and_long_values_are_fine(tenant: Tenant) -> None:
    fields = {f"k{i:02d}": "v" * 1000 for i in range(50)}
    contact = await make_contact(tenant, custom_fields=fields)
    assert contact["custom_fields"] == fields


async def test_malformed_json_is_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(URL, content=b"{nope", headers=tenant.headers)
    assert response.status_code == 400


async def test_tag_ids_of_another_company_are_422(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = await make_tag(other_tenant)
    number = fresh_number()
    response = await client.post(
        URL, json={"number": number, "tag_ids": [foreign["id"]]}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert "tag_ids" in response.json()["error"]["fields"]
    assert await list_ids(tenant, q=number) == []
    contact = await make_contact(tenant)
    patched = await client.patch(
        f"{URL}/{contact['id']}", json={"tag_ids": [foreign["id"]]}, headers=tenant.headers
    )
    assert patched.status_code == 422
    replaced = await client.post(
        f"{URL}/{contact['id']}/tags", json={"tag_ids": [foreign["id"]]}, headers=tenant.headers
    )
    assert replaced.status_code == 422
    assert (await client.get(f"{URL}/{contact['id']}", headers=tenant.headers)).json()["tags"] == []


# --- list ---------------------------------------------------------------------------------


async def test_search_filters_and_isolation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    tag = await make_tag(tenant)
    joao = await make_contact(
        tenant, name="João Pereira", number="+5521970001234", email="joao@acme.io"
    )
    ana = await make_contact(
        tenant, name="Ana Souza", number="+5531970005678", tag_ids=[tag["id"]], opted_out=True
    )
    stranger = await make_contact(other_tenant, name="Ana Stranger", number="+5531970005678")

    assert await list_ids(tenant) == [joao["id"], ana["id"]]
    assert await list_ids(tenant, q="pereira") == [joao["id"]]
    assert await list_ids(tenant, q="ANA") == [ana["id"]]
    assert await list_ids(tenant, q="ACME.IO") == [joao["id"]]
    assert await list_ids(tenant, q="(21) 97000-1234") == [joao["id"]]
    assert await list_ids(tenant, q="5678") == [ana["id"]]
    assert await list_ids(tenant, q="nobody") == []
    assert await list_ids(tenant, tag_id=tag["id"]) == [ana["id"]]
    assert await list_ids(tenant, opted_out="true") == [ana["id"]]
    assert await list_ids(tenant, opted_out="false") == [joao["id"]]
    assert await list_ids(tenant, q="ana", opted_out="false") == []
    # The other company sees only its own contact, whatever it searches or filters.
    assert await list_ids(other_tenant) == [stranger["id"]]
    assert await list_ids(other_tenant, q="5678") == [stranger["id"]]
    assert await list_ids(other_tenant, tag_id=tag["id"]) == []
    bad = await client.get(URL, params={"opted_out": "perhaps"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert "opted_out" in bad.json()["error"]["fields"]
    bad_tag = await client.get(URL, params={"tag_id": "x"}, headers=tenant.headers)
    assert bad_tag.status_code == 422


async def test_pagination(client: httpx.AsyncClient, tenant: Tenant) -> None:
    made = [(await make_contact(tenant))["id"] for _ in range(5)]
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        page = (await client.get(URL, params=params, headers=tenant.headers)).json()
        pages += 1
        seen += [c["id"] for c in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == made
    assert pages == 3


# --- update, tags, delete -----------------------------------------------------------------


async def test_update_fields(client: httpx.AsyncClient, tenant: Tenant) -> None:
    tag_a, tag_b = await make_tag(tenant), await make_tag(tenant)
    contact = await make_contact(
        tenant, email="a@b.co", language="en", custom_fields={"x": "1"}, tag_ids=[tag_a["id"]]
    )
    url = f"{URL}/{contact['id']}"
    patched = await client.patch(
        url,
        json={
            "name": "Novo Nome",
            "number": "(11) 97000-0099",
            "custom_fields": {"y": 2},
            "tag_ids": [tag_b["id"]],
        },
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "Novo Nome"
    assert body["number"] == "+5511970000099"
    assert body["custom_fields"] == {"y": 2}
    assert [t["id"] for t in body["tags"]] == [tag_b["id"]]
    # Fields not sent stay; email and language may be cleared with null.
    assert body["email"] == "a@b.co"
    assert body["language"] == "en"
    cleared = await client.patch(
        url, json={"email": None, "language": None}, headers=tenant.headers
    )
    assert cleared.json()["email"] is None
    assert cleared.json()["language"] is None
    assert cleared.json()["name"] == "Novo Nome"
    invalid = await client.patch(url, json={"number": "999"}, headers=tenant.headers)
    assert invalid.status_code == 422
    assert invalid.json()["error"]["fields"] == {"number": "is not a valid phone number"}


async def test_update_to_a_taken_number_is_409(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await make_contact(tenant)
    second = await make_contact(tenant)
    clash = await client.patch(
        f"{URL}/{second['id']}", json={"number": first["number"]}, headers=tenant.headers
    )
    assert clash.status_code == 409
    same = await client.patch(
        f"{URL}/{first['id']}", json={"number": first["number"]}, headers=tenant.headers
    )
    assert same.status_code == 200


async def test_opt_out_records_and_clears_the_time(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    contact = await make_contact(tenant)
    url = f"{URL}/{contact['id']}"
    clock.advance(timedelta(minutes=10))  # access tokens live 15 minutes
    expected = clock()
    out = (await client.patch(url, json={"opted_out": True}, headers=tenant.headers)).json()
    assert out["opted_out"] is True
    recorded = datetime.fromisoformat(out["opted_out_at"])
    assert abs(recorded - expected) < timedelta(minutes=1)  # the injected clock, not real time
    # Saying it again keeps the first moment.
    clock.advance(timedelta(minutes=2))
    again = (await client.patch(url, json={"opted_out": True}, headers=tenant.headers)).json()
    assert again["opted_out_at"] == out["opted_out_at"]
    back = (await client.patch(url, json={"opted_out": False}, headers=tenant.headers)).json()
    assert back["opted_out"] is False
    assert back["opted_out_at"] is None


async def test_replace_tags_route(client: httpx.AsyncClient, tenant: Tenant) -> None:
    tags = [await make_tag(tenant) for _ in range(3)]
    contact = await make_contact(tenant, tag_ids=[tags[0]["id"], tags[1]["id"]])
    agent = await tenant.member(Role.agent)
    replaced = await client.post(
        f"{URL}/{contact['id']}/tags",
        json={"tag_ids": [tags[1]["id"], tags[2]["id"]]},
        headers=agent.headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert sorted(t["id"] for t in replaced.json()["tags"]) == [tags[1]["id"], tags[2]["id"]]
    emptied = await client.post(
        f"{URL}/{contact['id']}/tags", json={"tag_ids": []}, headers=tenant.headers
    )
    assert emptied.json()["tags"] == []
    missing = await client.post(f"{URL}/{contact['id']}/tags", json={}, headers=tenant.headers)
    assert missing.status_code == 422
    entries = await audit_entries(tenant, contact["id"])
    assert entries[0]["after"]["tag_ids"] == []
    assert entries[1]["user_id"] == agent.user.id
    assert entries[1]["before"]["tag_ids"] == sorted([tags[0]["id"], tags[1]["id"]])
    assert entries[1]["after"]["tag_ids"] == sorted([tags[1]["id"], tags[2]["id"]])


async def test_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    contact = await make_contact(tenant)
    url = f"{URL}/{contact['id']}"
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert (await client.get(url, headers=tenant.headers)).status_code == 404
    assert (await client.delete(url, headers=tenant.headers)).status_code == 404


# --- roles --------------------------------------------------------------------------------


async def test_agents_read_and_write_but_do_not_delete(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.member(Role.agent)
    created = await client.post(
        URL, json={"number": fresh_number(), "name": "by agent"}, headers=agent.headers
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    url = f"{URL}/{contact_id}"
    assert (await client.get(URL, headers=agent.headers)).status_code == 200
    assert (await client.get(url, headers=agent.headers)).status_code == 200
    patched = await client.patch(
        url, json={"name": "edited", "custom_fields": {"cep": "01000-000"}}, headers=agent.headers
    )
    assert patched.status_code == 200
    assert (await client.delete(url, headers=agent.headers)).status_code == 403
    assert (await client.get(url, headers=tenant.headers)).json()["name"] == "edited"
    assert (await client.get(f"{URL}/export.csv", headers=agent.headers)).status_code == 403
    imported = await client.post(
        f"{URL}/import", content=b"number\n+5511970000100\n", headers=agent.headers
    )
    assert imported.status_code == 403

    supervisor = await tenant.member(Role.supervisor)
    assert (await client.delete(url, headers=supervisor.headers)).status_code == 204
    entries = await audit_entries(tenant, contact_id)
    assert [(e["action"], e["user_id"]) for e in entries] == [
        ("delete", supervisor.user.id),
        ("update", agent.user.id),
        ("create", agent.user.id),
    ]


async def test_unauthenticated_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={"number": "+5511970000101"})).status_code == 401
    assert (await client.get(f"{URL}/export.csv")).status_code == 401


# --- tenant isolation ---------------------------------------------------------------------


async def test_another_company_cannot_reach_a_contact(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    tag = await make_tag(tenant)
    contact = await make_contact(tenant, tag_ids=[tag["id"]], custom_fields={"a": "b"})
    url = f"{URL}/{contact['id']}"
    other = other_tenant.headers
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.patch(url, json={"name": "pwned"}, headers=other)).status_code == 404
    assert (await client.patch(url, content=b"garbage", headers=other)).status_code == 404
    assert (
        await client.post(f"{url}/tags", json={"tag_ids": []}, headers=other)
    ).status_code == 404
    assert (await client.delete(url, headers=other)).status_code == 404
    assert contact["id"] not in await list_ids(other_tenant)
    export = await client.get(f"{URL}/export.csv", headers=other)
    assert contact["number"] not in export.text
    still = await client.get(url, headers=tenant.headers)
    assert still.json() == contact


# --- audit --------------------------------------------------------------------------------


async def test_changes_are_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    tag = await make_tag(tenant)
    contact = await make_contact(tenant, name="Antes", tag_ids=[tag["id"]])
    url = f"{URL}/{contact['id']}"
    await client.patch(url, json={"name": "Depois"}, headers=tenant.headers)
    await client.patch(url, json={"name": "Depois"}, headers=tenant.headers)  # no change
    await client.delete(url, headers=tenant.headers)
    entries = await audit_entries(tenant, contact["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert all(e["user_id"] == tenant.admin.user.id for e in entries)
    delete, update, create = entries
    assert create["after"]["number"] == contact["number"]
    assert create["after"]["tag_ids"] == [tag["id"]]
    assert update["before"]["name"] == "Antes"
    assert update["after"]["name"] == "Depois"
    assert delete["before"]["name"] == "Depois"


# --- CSV ----------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def totals(result: dict[str, Any]) -> tuple[int, int, list[Any]]:
    return result["created"], result["updated"], result["report"]


async def import_csv(
    tenant: Tenant, text: str | bytes, content_type: str = "text/csv"
) -> httpx.Response:
    content = text.encode() if isinstance(text, str) else text
    return await tenant.client.post(
        f"{URL}/import",
        content=content,
        headers={**tenant.headers, "content-type": content_type},
    )


async def test_export_csv(client: httpx.AsyncClient, tenant: Tenant) -> None:
    vip = await make_tag(tenant, "VIP")
    lead = await make_tag(tenant, "Lead, quente")
    await make_contact(
        tenant,
        name='Maria "Mari" Silva',
        number="+5511970000201",
        email="maria@example.com",
        tag_ids=[vip["id"], lead["id"]],
        custom_fields={"cidade": "São Paulo, SP", "idade": 30, "ativo": True},
    )
    await make_contact(
        tenant,
        name='=HYPERLINK("http://evil")',
        number="+5511970000202",
        opted_out=True,
        custom_fields={"nota": "linha 1\nlinha 2", "formula": "@SUM(A1)", "neg": "-1"},
    )
    response = await client.get(f"{URL}/export.csv", headers=tenant.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert "\r\n" in response.text
    assert response.text.startswith("\ufeff")  # so that Excel reads UTF-8
    rows = read_csv(response.text.removeprefix("\ufeff"))
    header = response.text.removeprefix("\ufeff").split("\r\n", 1)[0]
    assert header == "name,number,email,tags,opted_out,ativo,cidade,formula,idade,neg,nota"
    first, second = rows
    assert first["name"] == 'Maria "Mari" Silva'
    assert first["number"] == "'+5511970000201"  # a leading + would be read as a formula
    assert first["email"] == "maria@example.com"
    assert first["tags"] == "Lead, quente;VIP"
    assert first["opted_out"] == "false"
    assert first["cidade"] == "São Paulo, SP"
    assert first["idade"] == "30"
    assert first["ativo"] == "true"
    assert first["nota"] == ""
    assert second["name"] == '\'=HYPERLINK("http://evil")'
    assert second["formula"] == "'@SUM(A1)"
    assert second["neg"] == "'-1"
    assert second["nota"] == "linha 1\nlinha 2"
    assert second["opted_out"] == "true"
    assert second["email"] == ""


async def test_import_creates_updates_and_reports_bad_rows(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    existing_tag = await make_tag(tenant, "Cliente")
    existing = await make_contact(
        tenant, name="Old", number="+5511970000301", custom_fields={"keep": "me"}
    )
    text = (
        "Number,Name,email,tags,opted_out,cidade\n"
        "(11) 97000-0301,Updated,,cliente;Novo,yes,Rio\n"  # line 2: updates, adds tags
        "+5511970000302,Nova Pessoa,nova@example.com,,,\n"  # line 3: created
        "not a number,Bad,,,,\n"  # line 4
        "+5511970000303,Bad Email,nope,,,\n"  # line 5
        "+5511970000304,Bad Opt,,,maybe,\n"  # line 6
        ",,,,,\n"  # line 7: blank, skipped
        "+5511970000305,Too,many,,,,,\n"  # line 8
        '+5511970000306,"Multi\nLine",,,,\n'  # lines 9-10: created
        ",No Number,,,,\n"  # line 11
        "5511970000302,Second Time,,,,\n"  # line 12: updates line 3's contact
    )
    response = await import_csv(tenant, text)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"], result["merged"], result["failed"]) == (
        2,
        1,
        1,
        5,
    )
    # Rows as a spreadsheet numbers them: the two-line cell of line 9 is one row (row 9).
    assert [(r["row"], r["value"], r["reason"]) for r in result["report"]] == [
        (4, "not a number", "invalid number"),
        (5, "nope", "invalid email"),
        (6, "maybe", "opted_out is not true or false"),
        (8, "many", "invalid email"),  # empty extra cells are no error
        (10, "", "missing number"),
        (11, "5511970000302", "duplicate of row 3"),
    ]

    updated = (await client.get(f"{URL}/{existing['id']}", headers=tenant.headers)).json()
    assert updated["name"] == "Updated"
    assert updated["opted_out"] is True
    assert updated["opted_out_at"] is not None
    assert updated["custom_fields"] == {"keep": "me", "cidade": "Rio"}
    assert sorted(t["name"] for t in updated["tags"]) == ["Cliente", "Novo"]
    assert existing_tag["id"] in [t["id"] for t in updated["tags"]]

    by_number = {
        c["number"]: c
        for c in (await client.get(URL, params={"limit": 200}, headers=tenant.headers)).json()[
            "items"
        ]
    }
    assert by_number["+5511970000302"]["name"] == "Second Time"
    assert by_number["+5511970000302"]["email"] == "nova@example.com"
    assert by_number["+5511970000306"]["name"] == "Multi\nLine"
    assert "+5511970000303" not in by_number

    tags = (await client.get("/api/tags", headers=tenant.headers)).json()["items"]
    assert sorted(t["name"] for t in tags) == ["Cliente", "Novo"]
    entries = await audit_entries(tenant, existing["id"])
    assert entries[0]["action"] == "update"
    assert entries[0]["before"]["name"] == "Old"
    assert entries[0]["after"]["name"] == "Updated"


async def test_import_json_and_semicolons(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        f"{URL}/import",
        json={"csv": '\ufeffnumber;name;tags\n+5511970000401;Ana;"a;b"\n'},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert totals(response.json()) == (1, 0, [])
    contact = (await client.get(URL, params={"q": "970000401"}, headers=tenant.headers)).json()
    assert sorted(t["name"] for t in contact["items"][0]["tags"]) == ["a", "b"]
    bad = await client.post(f"{URL}/import", json={"file": "x"}, headers=tenant.headers)
    assert bad.status_code == 422


async def test_import_matches_tag_names_ignoring_case(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    existing = await make_tag(tenant, "Ação")
    text = "number,tags\n+5511970000451,AÇÃO;ação;Nova;NOVA\n+5511970000452,nova\n"
    result = (await import_csv(tenant, text)).json()
    assert totals(result) == (2, 0, [])
    tags = (await client.get("/api/tags", headers=tenant.headers)).json()["items"]
    assert sorted((t["name"], t["contacts_count"]) for t in tags) == [("Ação", 1), ("Nova", 2)]
    assert existing["id"] in [t["id"] for t in tags]


async def test_importing_the_same_file_twice_changes_nothing(tenant: Tenant) -> None:
    text = "number,name,cidade\n+5511970000501,Repete,Recife\n"
    first = (await import_csv(tenant, text)).json()
    assert totals(first) == (1, 0, [])
    contact_id = (await list_ids(tenant, q="970000501"))[0]
    second = (await import_csv(tenant, text)).json()
    assert totals(second) == (0, 1, [])
    assert [e["action"] for e in await audit_entries(tenant, contact_id)] == ["create"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "is empty"),
        (b"  \n \n", "is empty"),
        (b"name,email\nAna,a@b.co\n", "number column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a CSV file"),
        (b"number\x00,name\n1,2\n", "not a CSV file"),
        (b"number,name,name\n+5511970000601,a,b\n", "twice"),
        (b"number," + b"k" * 61 + b"\n+5511970000601,x\n", "longer than"),
    ],
)
async def test_import_rejects_files_that_are_not_contact_csv(
    tenant: Tenant, body: bytes, message: str
) -> None:
    response = await import_csv(tenant, body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["fields"]["csv"]


async def test_import_over_5_mb_is_413(tenant: Tenant) -> None:
    row = b"+5511970000701,x\n"
    body = b"number,name\n" + row * (5 * 1024 * 1024 // len(row) + 1)
    response = await import_csv(tenant, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await list_ids(tenant, q="970000701") == []


async def test_import_row_limits(client: httpx.AsyncClient, tenant: Tenant) -> None:
    keys = [f"k{i}" for i in range(51)]
    text = (
        "number,name," + ",".join(keys) + "\n"
        "+5511970000801," + "x" * 201 + "," + ",".join("v" for _ in keys) + "\n"
        "+5511970000802,ok," + ",".join("v" for _ in keys) + "\n"
        "+5511970000803,ok," + "y" * 1001 + "\n"
        "+5511970000804,ok,fine\n"
    )
    result = (await import_csv(tenant, text)).json()
    assert [(r["row"], r["reason"]) for r in result["report"]] == [
        (2, "name longer than 200 characters"),
        (3, "more than 50 custom fields"),
        (4, "k0 longer than 1000 characters"),
    ]
    assert result["created"] == 1


async def test_import_bad_tag_names_and_unquoted_mess(tenant: Tenant) -> None:
    text = "number,tags\n+5511970000901," + "t" * 61 + '\n+5511970000902,"unterminated\n'
    result = (await import_csv(tenant, text)).json()
    assert [r["row"] for r in result["report"]] == [2, 3]
    assert result["created"] == 0


async def test_csv_round_trip_into_another_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    vip = await make_tag(tenant, "VIP")
    odd = await make_tag(tenant, "=odd, tag")
    await make_contact(
        tenant,
        name='Maria, a "primeira"',
        number="+5511970001001",
        email="maria@example.com",
        tag_ids=[vip["id"], odd["id"]],
        custom_fields={"cidade": "São Paulo", "obs": "linha 1\nlinha 2", "=f": "=1+1"},
    )
    await make_contact(tenant, name="-João", number="+14155550100", opted_out=True)
    await make_contact(tenant, name="", number="+5511970001002", custom_fields={"cidade": "'@x"})
    exported = await client.get(f"{URL}/export.csv", headers=tenant.headers)
    imported = await import_csv(other_tenant, exported.content)
    assert totals(imported.json()) == (3, 0, [])

    def comparable(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                c["number"],
                c["name"],
                c["email"],
                c["opted_out"],
                sorted(t["name"] for t in c["tags"]),
                c["custom_fields"],
            )
            for c in items
        )

    ours = (await client.get(URL, headers=tenant.headers)).json()["items"]
    theirs = (await client.get(URL, headers=other_tenant.headers)).json()["items"]
    assert comparable(theirs) == comparable(ours)
    again = await client.get(f"{URL}/export.csv", headers=other_tenant.headers)
    assert again.text == exported.text


async def test_a_contacts_past_tickets_newest_first_as_the_caller_may_see_them(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    colleague = await agent_in(tenant, queue)
    contact = await Contact.get(id=(await make_contact(tenant))["id"])
    handled = await make_ticket(
        tenant, contact=contact, queue=queue, status=TicketStatus.closed, user=agent.user
    )
    by_colleague = await make_ticket(
        tenant, contact=contact, queue=queue, status=TicketStatus.closed, user=colleague.user
    )
    waiting = await make_ticket(tenant, contact=contact, queue=queue)
    await make_ticket(tenant, queue=queue)  # someone else's

    async def ticket_ids(headers: dict[str, str], contact_id: Any) -> list[int]:
        response = await client.get(
            "/api/tickets", params={"contact_id": contact_id}, headers=headers
        )
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    newest_first = [waiting.id, by_colleague.id, handled.id]
    assert await ticket_ids(tenant.headers, contact.id) == newest_first
    # An agent sees only what they would see anyway: theirs and their queues' pending ones.
    assert await ticket_ids(agent.headers, contact.id) == [waiting.id, handled.id]
    # Another company learns nothing of this contact's tickets.
    assert await ticket_ids(other_tenant.headers, contact.id) == []
    for bad in ("0", "x", str(2**40)):
        response = await client.get(
            "/api/tickets", params={"contact_id": bad}, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        assert "contact_id" in response.json()["error"]["fields"]
