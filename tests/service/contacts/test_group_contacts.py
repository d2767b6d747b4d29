"""A WhatsApp group's contact is named by the group's subject and follows its renames, until a
person names it; driven through the sandbox API as a channel would report them."""

from __future__ import annotations

from typing import Any

import httpx

from service.contacts.models import Contact
from service.tickets.models import Ticket
from tests.factories import PublishedEvents, Tenant, unique

GROUP = "120363025246125244@g.us"


async def _connection(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.post(
        "/api/connections",
        json={"name": unique("sandbox"), "channel": "sandbox", "groups_enabled": True},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _write(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, **body: Any
) -> None:
    body = {"from": "+5511988887777", "name": "Ana", "text": "oi pessoal", "group": GROUP, **body}
    response = await client.post(
        f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["message_id"] is not None


async def _rename(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, subject: str, group: str = GROUP
) -> httpx.Response:
    return await client.post(
        f"/api/sandbox/{connection_id}/group-renamed",
        json={"group": group, "subject": subject},
        headers=tenant.headers,
    )


async def _name(tenant: Tenant) -> str:
    return (await Contact.get(company_id=tenant.company.id, number=GROUP)).name


async def test_a_group_contact_is_named_by_the_group_s_subject(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, group_subject="Clientes VIP")
    await _write(client, tenant, connection_id, text="tudo bem?")  # no subject: kept
    assert await _name(tenant) == "Clientes VIP"
    ticket = await Ticket.get(connection_id=connection_id)
    shown = await client.get(f"/api/tickets/{ticket.id}", headers=tenant.headers)
    assert shown.json()["contact"]["name"] == "Clientes VIP"


async def test_a_group_named_by_its_id_takes_the_subject_once_known(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id)  # the channel could not learn the subject
    assert await _name(tenant) == GROUP
    await _write(client, tenant, connection_id, group_subject="Clientes VIP")  # reconnected
    assert await _name(tenant) == "Clientes VIP"
    published_events.last("contact.updated", number=GROUP, name="Clientes VIP")


async def test_a_rename_follows_the_group_until_a_person_names_the_contact(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, group_subject="Clientes VIP")
    renamed = await _rename(client, tenant, connection_id, "Clientes Ouro")
    assert renamed.status_code == 204, renamed.text
    assert await _name(tenant) == "Clientes Ouro"
    event = published_events.last("contact.updated", number=GROUP)
    assert event["data"]["name"] == "Clientes Ouro"
    assert event["audience"] == {"company_id": tenant.company.id}

    contact = await Contact.get(company_id=tenant.company.id, number=GROUP)
    # An edit that leaves the name alone does not make it the admin's.
    edited = await client.patch(
        f"/api/contacts/{contact.id}",
        json={"name": "Clientes Ouro", "email": "grupo@example.com"},
        headers=tenant.headers,
    )
    assert edited.status_code == 200, edited.text
    await _rename(client, tenant, connection_id, "Clientes Platina")
    assert await _name(tenant) == "Clientes Platina"

    named = await client.patch(
        f"/api/contacts/{contact.id}", json={"name": "Grupo da loja"}, headers=tenant.headers
    )
    assert named.status_code == 200, named.text
    before = len(published_events.of_type("contact.updated"))
    await _rename(client, tenant, connection_id, "Clientes Diamante")
    await _write(client, tenant, connection_id, group_subject="Clientes Diamante")
    assert await _name(tenant) == "Grupo da loja"  # the admin's choice stands
    assert len(published_events.of_type("contact.updated")) == before

    # Cleared by hand: the group's subject names it again.
    cleared = await client.patch(
        f"/api/contacts/{contact.id}", json={"name": ""}, headers=tenant.headers
    )
    assert cleared.status_code == 200, cleared.text
    await _rename(client, tenant, connection_id, "Clientes Rubi")
    assert await _name(tenant) == "Clientes Rubi"


async def test_a_rename_reaches_only_the_connection_s_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    ours = await _connection(client, tenant)
    theirs = await _connection(client, other_tenant)
    await _write(client, tenant, ours, group_subject="Clientes VIP")
    await _write(client, other_tenant, theirs, group_subject="Fornecedores")
    assert (await _rename(client, tenant, ours, "Clientes Ouro")).status_code == 204
    assert await _name(tenant) == "Clientes Ouro"
    assert await _name(other_tenant) == "Fornecedores"
    # A group without a contact yet: nothing to rename, and no contact made.
    other_group = "120363000000000001@g.us"
    assert (await _rename(client, tenant, ours, "Novo", group=other_group)).status_code == 204
    assert not await Contact.exists(company_id=tenant.company.id, number=other_group)
    # Their connection is not ours to drive.
    assert (await _rename(client, tenant, theirs, "Invasão")).status_code == 404


async def test_a_bad_rename_is_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection_id = await _connection(client, tenant)
    response = await _rename(client, tenant, connection_id, "x", group="5511988887777")
    assert response.status_code == 422
    assert "group" in response.json()["error"]["fields"]
    subject_alone = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": "+5511988887777", "text": "oi", "group_subject": "Clientes"},
        headers=tenant.headers,
    )
    assert subject_alone.status_code == 422
