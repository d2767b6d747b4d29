"""The contacts CSV wizard's API: preview, import with a mapping and options (report, totals,
live progress), export of a filtered view, merge of two contacts, opt-out with a reason."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta
from typing import Any

import httpx
from sanic import Sanic

from service.audiences.models import ContactList, ContactListMember
from service.campaigns.models import Campaign, CampaignRecipient, ScheduledMessage
from service.connections.models import Connection
from service.contacts.models import Contact
from service.tickets.models import Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant, make_ticket, unique
from tests.helpers.contacts import audit_entries, list_ids, make_contact, make_tag
from tests.helpers.realtime import feed

URL = "/api/contacts"

# A spreadsheet saved as "CSV" by Excel in Portuguese: Windows-1252, semicolons, a blank
# row, an unnamed column, an extra empty cell, bad and repeated numbers.
MESSY = (
    "Nome;Telefone;E-mail;Cidade;Observação;;Extra\r\n"
    "José da Silva;(11) 97100-0001;jose@example.com;São Paulo;cliente antigo;;x\r\n"  # 2
    "Ana;11 97100-0002;;Recife;;;\r\n"  # 3
    ";;;;;;\r\n"  # 4: blank
    "Bad;12345;;;;;\r\n"  # 5
    "NoNumber;;;;;;\r\n"  # 6
    "João;+55 11 97100-0001;;Campinas;;;\r\n"  # 7: same number as row 2
    "Existing Person;5511971000003;;Natal;;;\r\n"  # 8: an existing contact
    "Márcia;(11) 97100-0004;not-an-email;;;;\r\n"  # 9
    "Ôscar;(11)97100-0005;;;;;;\r\n"  # 10: one empty cell too many is fine
).encode("cp1252")


async def upload(
    tenant: Tenant, path: str, data: bytes, headers: dict[str, str] | None = None, **form: Any
) -> httpx.Response:
    fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in form.items()}
    return await tenant.client.post(
        f"{URL}/{path}",
        files={"file": ("contacts.csv", data, "text/csv")},
        data=fields,
        headers=headers or tenant.headers,
    )


async def by_number(tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = await tenant.client.get(URL, params={"limit": 200}, headers=tenant.headers)
    return {c["number"]: c for c in response.json()["items"]}


async def test_preview_detects_encoding_delimiter_header_and_suggests_a_mapping(
    tenant: Tenant,
) -> None:
    response = await upload(tenant, "import/preview", MESSY)
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["encoding"] == "cp1252"
    assert preview["delimiter"] == ";"
    assert preview["has_header"] is True
    assert preview["columns"] == ["Nome", "Telefone", "E-mail", "Cidade", "Observação", "", "Extra"]
    assert preview["width"] == 7
    assert preview["total"] == 8  # the blank row is not counted
    assert preview["rows"][0] == [
        "José da Silva",
        "(11) 97100-0001",
        "jose@example.com",
        "São Paulo",
        "cliente antigo",
        "",
        "x",
    ]
    assert len(preview["rows"]) == 8
    assert preview["mapping"] == [
        "name",
        "number",
        "email",
        "custom:Cidade",
        "custom:Observação",
        "ignore",
        "custom:Extra",
    ]


async def test_preview_of_other_spellings_and_headerless_files(tenant: Tenant) -> None:
    bom = "\ufeffNombre,Celular,Correo,Etiquetas\nLuz,+5511971000101,l@x.co,a;b\n"
    preview = (await upload(tenant, "import/preview", bom.encode())).json()
    assert (preview["encoding"], preview["delimiter"]) == ("utf-8-sig", ",")
    assert preview["mapping"] == ["name", "number", "email", "tags"]
    tabs = "Name\tWhatsApp\tphone\nA\t+5511971000102\t1\n"
    preview = (await upload(tenant, "import/preview", tabs.encode())).json()
    assert preview["delimiter"] == "\t"
    assert preview["mapping"] == ["name", "number", "custom:phone"]  # one number column
    bare = "Ana,+5511971000103\nBia,+5511971000104\n"
    preview = (await upload(tenant, "import/preview", bare.encode())).json()
    assert preview["has_header"] is False
    assert preview["columns"] == []
    assert preview["total"] == 2
    assert preview["mapping"] == ["ignore", "number"]


async def test_import_of_a_messy_file_reports_every_row_and_counts(
    app: Sanic[Any, Any], tenant: Tenant, clock: FakeClock
) -> None:
    vip = await make_tag(tenant, "VIP")
    existing = await make_contact(
        tenant,
        name="Old Name",
        number="+5511971000003",
        tag_ids=[vip["id"]],
        custom_fields={"Cidade": "X", "keep": "me"},
    )
    mapping = ["name", "number", "email", "custom:Cidade", "custom:Observação", "ignore", "ignore"]
    async with feed(app, tenant.admin.token) as socket:
        response = await upload(
            tenant,
            "import",
            MESSY,
            mapping=mapping,
            tags="Importado, Lote 1",
            update_existing="true",
            import_id="imp-1",
        )
        assert response.status_code == 200, response.text
        events = await socket.until("contacts.import.progress", import_id="imp-1", done=4)
    result = response.json()
    assert result["import_id"] == "imp-1"
    assert {k: result[k] for k in ("rows", "created", "updated", "merged", "failed")} == {
        "rows": 8,
        "created": 3,
        "updated": 1,
        "merged": 1,
        "failed": 3,
    }
    assert result["unchanged"] == 0
    assert result["report"] == [
        {"row": 5, "value": "12345", "reason": "invalid number", "outcome": "failed"},
        {"row": 6, "value": "", "reason": "missing number", "outcome": "failed"},
        {
            "row": 7,
            "value": "+55 11 97100-0001",
            "reason": "duplicate of row 2",
            "outcome": "merged",
        },
        {"row": 9, "value": "not-an-email", "reason": "invalid email", "outcome": "failed"},
    ]
    progress = [e["data"] for e in events if e["type"] == "contacts.import.progress"]
    assert progress == [
        {"import_id": "imp-1", "done": 0, "total": 4},
        {"import_id": "imp-1", "done": 4, "total": 4},
    ]

    contacts = await by_number(tenant)
    jose = contacts["+5511971000001"]
    # Rows with one number are one contact: the later row's cells win, the rest stays.
    assert jose["name"] == "João"
    assert jose["email"] == "jose@example.com"
    assert jose["custom_fields"] == {"Cidade": "Campinas", "Observação": "cliente antigo"}
    assert sorted(t["name"] for t in jose["tags"]) == ["Importado", "Lote 1"]
    assert contacts["+5511971000005"]["name"] == "Ôscar"
    assert "+5511971000004" not in contacts
    updated = contacts["+5511971000003"]
    assert updated["id"] == existing["id"]
    assert updated["name"] == "Existing Person"
    assert updated["custom_fields"] == {"Cidade": "Natal", "keep": "me"}
    assert sorted(t["name"] for t in updated["tags"]) == ["Importado", "Lote 1", "VIP"]
    entries = await audit_entries(tenant, existing["id"])
    assert entries[0]["action"] == "update"
    assert entries[0]["before"]["name"] == "Old Name"
    assert entries[0]["after"]["name"] == "Existing Person"
    created = await audit_entries(tenant, jose["id"])
    assert [e["action"] for e in created] == ["create"]

    # Again without updating: the contacts keep their fields, and get the new tag.
    again = await upload(
        tenant, "import", MESSY, mapping=mapping, tags="Lote 2", update_existing="false"
    )
    result = again.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 4)
    contacts = await by_number(tenant)
    assert contacts["+5511971000003"]["name"] == "Existing Person"
    assert "Lote 2" in [t["name"] for t in contacts["+5511971000003"]["tags"]]


async def test_import_without_a_mapping_uses_the_suggestion(tenant: Tenant) -> None:
    text = "\ufeffnombre;teléfono;correo\nLía;+5511971000201;lia@example.com\n"
    response = await upload(tenant, "import", text.encode())
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    lia = (await by_number(tenant))["+5511971000201"]
    assert (lia["name"], lia["email"]) == ("Lía", "lia@example.com")


async def test_opted_out_column_records_the_import_as_reason(tenant: Tenant) -> None:
    text = "number,opted_out\n+5511971000301,sim\n+5511971000302,,extra\n"
    result = (await upload(tenant, "import", text.encode())).json()
    assert result["report"] == [
        {
            "row": 3,
            "value": "+5511971000302",
            "reason": "more cells than the header row",
            "outcome": "failed",
        }
    ]
    contact = (await by_number(tenant))["+5511971000301"]
    assert (contact["opted_out"], contact["opted_out_reason"]) == (True, "import")


async def test_bad_files_and_mappings_are_422(tenant: Tenant) -> None:
    cases: list[tuple[bytes, dict[str, Any], str]] = [
        (b"", {}, "file"),
        (b"\n\n", {}, "file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "file"),
        (b"name,number\na,+5511971000401\n", {"mapping": ["name"]}, "mapping"),
        (b"name,number\na,+5511971000401\n", {"mapping": ["name", "name"]}, "mapping.1"),
        (b"name,number\na,+5511971000401\n", {"mapping": ["name", "ignore"]}, "mapping"),
        (b"name,number\na,+5511971000401\n", {"mapping": ["x", "number"]}, "mapping.0"),
        (b"name,number\na,+5511971000401\n", {"mapping": ["custom:name", "number"]}, "mapping.0"),
        (b"name,number\na,+5511971000401\n", {"mapping": "not json"}, "mapping"),
        (b"name,number\na,+5511971000401\n", {"update_existing": "perhaps"}, "update_existing"),
        (b"name,number\na,+5511971000401\n", {"tags": "x" * 61}, "tags"),
        (b"name\nAna\n", {}, "mapping"),  # nothing that could be the number
    ]
    for data, form, path in cases:
        response = await upload(tenant, "import", data, **form)
        assert response.status_code == 422, (data, form, response.text)
        assert path in response.json()["error"]["fields"], (path, response.text)
    empty = await upload(tenant, "import/preview", b"")
    assert empty.status_code == 422
    not_multipart = await tenant.client.post(
        f"{URL}/import/preview", json={"csv": "x"}, headers=tenant.headers
    )
    assert not_multipart.status_code == 400
    assert await list_ids(tenant, q="971000401") == []


async def test_agents_may_not_import_or_merge(tenant: Tenant) -> None:
    agent = await tenant.member(Role.agent)
    response = await upload(tenant, "import/preview", MESSY, headers=agent.headers)
    assert response.status_code == 403
    a = await make_contact(tenant)
    b = await make_contact(tenant)
    merged = await tenant.client.post(
        f"{URL}/{a['id']}/merge", json={"other_id": b["id"]}, headers=agent.headers
    )
    assert merged.status_code == 403


async def test_ten_thousand_rows(tenant: Tenant) -> None:
    rows = [
        f'Pessoa {i};+55119{72000000 + i:08d};Cidade {i % 7};"lote;g{i % 3}"' for i in range(10_000)
    ]
    data = "\n".join(["nome;telefone;cidade;tags", *rows]).encode()
    started = time.perf_counter()
    response = await upload(tenant, "import", data)
    first = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    result = response.json()
    assert (result["created"], result["failed"], result["report"]) == (10_000, 0, [])
    started = time.perf_counter()
    again = (await upload(tenant, "import", data)).json()
    second = time.perf_counter() - started
    assert (again["created"], again["updated"]) == (0, 10_000)
    print(f"\n10k-row import: {first:.2f}s new, {second:.2f}s all existing")
    count = await Contact.filter(company_id=tenant.company.id).count()
    assert count == 10_000
    tags = (await tenant.client.get("/api/tags", headers=tenant.headers)).json()["items"]
    assert sorted((t["name"], t["contacts_count"]) for t in tags) == [
        ("g0", 3334),
        ("g1", 3333),
        ("g2", 3333),
        ("lote", 10_000),
    ]
    assert first < 60


# --- export -------------------------------------------------------------------------------


def read_export(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_export_follows_the_list_filters(tenant: Tenant, other_tenant: Tenant) -> None:
    vip = await make_tag(tenant, "VIP")
    await make_contact(tenant, name="Ana Ávila", number="+5511971000501", tag_ids=[vip["id"]])
    await make_contact(tenant, name="Bruno", number="+5511971000502", opted_out=True)
    await make_contact(tenant, name="=cmd|' /C calc'!A0", number="+5511971000503")
    await make_contact(other_tenant, name="Ana Outra", number="+5511971000504")
    url = f"{URL}/export.csv"

    async def names(**params: Any) -> list[str]:
        response = await tenant.client.get(url, params=params, headers=tenant.headers)
        return [row["name"] for row in read_export(response)]

    assert await names() == ["Ana Ávila", "Bruno", "'=cmd|' /C calc'!A0"]
    assert await names(q="ana") == ["Ana Ávila"]
    assert await names(tag_id=vip["id"]) == ["Ana Ávila"]
    assert await names(opted_out="true") == ["Bruno"]
    assert await names(opted_out="false", q="971000503") == ["'=cmd|' /C calc'!A0"]
    bad = await tenant.client.get(url, params={"tag_id": "x"}, headers=tenant.headers)
    assert bad.status_code == 422


async def test_export_then_import_gives_the_same_contacts(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await make_contact(
        tenant,
        name="Çédric",
        number="+5511971000601",
        custom_fields={"nota": "=1+1", "cidade": "Belém"},
    )
    exported = await tenant.client.get(f"{URL}/export.csv", headers=tenant.headers)
    result = (await upload(other_tenant, "import", exported.content)).json()
    assert result["created"] == 1, result
    theirs = (await by_number(other_tenant))["+5511971000601"]
    assert theirs["name"] == "Çédric"
    assert theirs["custom_fields"] == {"nota": "=1+1", "cidade": "Belém"}


# --- opt-out --------------------------------------------------------------------------------


async def test_opt_out_with_a_reason_and_by_default_the_agent(
    tenant: Tenant, clock: FakeClock
) -> None:
    contact = await make_contact(tenant)
    url = f"{URL}/{contact['id']}"
    agent = await tenant.member(Role.agent)
    out = await tenant.client.patch(url, json={"opted_out": True}, headers=agent.headers)
    assert out.status_code == 200, out.text
    assert out.json()["opted_out_reason"] == f"agent {agent.user.name}"
    assert out.json()["opted_out_at"] is not None
    reason = await tenant.client.patch(
        url, json={"opted_out": True, "opted_out_reason": "asked by phone"}, headers=agent.headers
    )
    assert reason.json()["opted_out_reason"] == "asked by phone"
    assert reason.json()["opted_out_at"] == out.json()["opted_out_at"]
    back = await tenant.client.patch(url, json={"opted_out": False}, headers=agent.headers)
    assert (back.json()["opted_out_at"], back.json()["opted_out_reason"]) == (None, "")
    long = await tenant.client.patch(
        url, json={"opted_out": True, "opted_out_reason": "x" * 201}, headers=agent.headers
    )
    assert long.status_code == 422


# --- merge ----------------------------------------------------------------------------------


async def test_merge_moves_everything_to_the_kept_contact(tenant: Tenant, clock: FakeClock) -> None:
    vip = await make_tag(tenant, "VIP")
    lead = await make_tag(tenant, "Lead")
    kept_out = await make_contact(
        tenant, name="Maria", tag_ids=[vip["id"]], custom_fields={"cidade": "Rio"}
    )
    other_out = await make_contact(
        tenant,
        name="Maria S.",
        email="maria@example.com",
        tag_ids=[lead["id"], vip["id"]],
        custom_fields={"cidade": "SP", "plano": "ouro"},
    )
    kept = await Contact.get(id=kept_out["id"])
    other = await Contact.get(id=other_out["id"])
    connection = await Connection.create(company=tenant.company, name=unique("conn"))
    second_connection = await Connection.create(company=tenant.company, name=unique("conn"))
    closed = await make_ticket(
        tenant, contact=other, connection=connection, status=TicketStatus.closed
    )
    active = await make_ticket(
        tenant, contact=other, connection=connection, status=TicketStatus.open
    )
    mine = await make_ticket(
        tenant, contact=kept, connection=second_connection, status=TicketStatus.pending
    )
    both = await ContactList.create(company=tenant.company, name=unique("list"))
    only_other = await ContactList.create(company=tenant.company, name=unique("list"))
    await ContactListMember.create(contact_list=both, contact=kept)
    await ContactListMember.create(contact_list=both, contact=other)
    await ContactListMember.create(contact_list=only_other, contact=other)
    campaign = await Campaign.create(
        company=tenant.company, connection=connection, name=unique("camp")
    )
    campaign_both = await Campaign.create(
        company=tenant.company, connection=connection, name=unique("camp")
    )
    await CampaignRecipient.create(campaign=campaign, contact=other)
    await CampaignRecipient.create(campaign=campaign_both, contact=other)
    await CampaignRecipient.create(campaign=campaign_both, contact=kept)
    await ScheduledMessage.create(
        company=tenant.company,
        contact=other,
        connection=connection,
        body="later",
        send_at=clock() + timedelta(days=1),
    )

    response = await tenant.client.post(
        f"{URL}/{kept.id}/merge", json={"other_id": other.id}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["id"] == kept.id
    assert merged["name"] == "Maria"  # the kept one's own fields win
    assert merged["email"] == "maria@example.com"  # an empty one is filled
    assert merged["custom_fields"] == {"cidade": "Rio", "plano": "ouro"}
    assert sorted(t["name"] for t in merged["tags"]) == ["Lead", "VIP"]
    assert merged["tickets_count"] == 3
    assert not await Contact.filter(id=other.id).exists()
    for ticket in (closed, active, mine):
        assert (await Ticket.get(id=ticket.id)).contact_id == kept.id
    memberships = await ContactListMember.filter(contact_id=kept.id).values_list(
        "contact_list_id", flat=True
    )
    assert sorted(memberships) == sorted([both.id, only_other.id])
    recipients = await CampaignRecipient.filter(contact_id=kept.id).values_list(
        "campaign_id", flat=True
    )
    assert sorted(recipients) == sorted([campaign.id, campaign_both.id])
    assert await ScheduledMessage.filter(contact_id=kept.id).count() == 1
    entries = await audit_entries(tenant, other.id)
    assert entries[0]["action"] == "delete"
    assert entries[0]["after"] == {"merged_into": kept.id}
    kept_entries = await audit_entries(tenant, kept.id)
    assert kept_entries[0]["after"]["merged_from"] == other.id


async def test_merge_refuses_two_active_tickets_on_one_connection(tenant: Tenant) -> None:
    connection = await Connection.create(company=tenant.company, name="Vendas")
    a = await make_ticket(tenant, connection=connection, status=TicketStatus.open)
    b = await make_ticket(tenant, connection=connection, status=TicketStatus.pending)
    response = await tenant.client.post(
        f"{URL}/{a.contact_id}/merge", json={"other_id": b.contact_id}, headers=tenant.headers
    )
    assert response.status_code == 409, response.text
    message = response.json()["error"]["message"]
    assert "Vendas" in message
    assert f"#{a.id}, #{b.id}" in message
    assert await Contact.filter(id=b.contact_id).exists()
    # Once one is closed, they merge.
    await Ticket.filter(id=b.id).update(status=TicketStatus.closed)
    response = await tenant.client.post(
        f"{URL}/{a.contact_id}/merge", json={"other_id": b.contact_id}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text


async def test_merge_with_another_companys_contact_or_itself(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    ours = await make_contact(tenant)
    theirs = await make_contact(other_tenant)
    for path_id, other_id in ((ours["id"], theirs["id"]), (theirs["id"], ours["id"])):
        response = await tenant.client.post(
            f"{URL}/{path_id}/merge", json={"other_id": other_id}, headers=tenant.headers
        )
        assert response.status_code == 404, response.text
    itself = await tenant.client.post(
        f"{URL}/{ours['id']}/merge", json={"other_id": ours["id"]}, headers=tenant.headers
    )
    assert itself.status_code == 422
    assert await Contact.filter(id=theirs["id"]).exists()
