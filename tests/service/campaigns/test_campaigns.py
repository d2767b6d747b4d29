"""/api/campaigns: validation, the life cycle, statistics, receipts, confirmation mode,
variables, recipients and their CSV, and another company's campaigns being a 404."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from sanic import Sanic

from bot.sandbox import SandboxChannel
from service.audiences.models import Segment
from service.campaigns import actions
from service.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientStatus,
)
from service.campaigns.render import contact_variables, render
from service.campaigns.runner import CampaignRunner
from service.contacts.models import Contact
from service.users.models import Role
from tests.factories import FakeClock, PublishedEvents, Tenant, log_in, unique
from tests.helpers.campaigns import (
    campaign_body,
    create_campaign,
    make_contacts,
    make_list,
    run_until_done,
    runner_for,
    sandbox_connection,
    stop_leftover_campaigns,  # noqa: F401  (an autouse fixture)
    without_receipts,
)

# Validation -------------------------------------------------------------------------------


async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 1))
    good = campaign_body(connection_id, list_id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"variants": []}, "variants"),
        ({"variants": ["a"] * 6}, "variants"),
        ({"variants": ["ok", "   "]}, "variants.1"),
        ({"variants": ["x" * 4097]}, "variants.0"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "America"}, "timezone"),
        ({"min_delay": 10, "max_delay": 5}, "max_delay"),
        ({"min_delay": -1}, "min_delay"),
        ({"hourly_cap": 0}, "hourly_cap"),
        ({"window_start": "09:00", "window_end": "09:00"}, "window_end"),
        ({"window_start": "09:00"}, "window_end"),
        ({"window_start": "25:00", "window_end": "10:00"}, "window_start"),
        ({"window_weekdays": [7]}, "window_weekdays.0"),
        ({"scheduled_at": "2030-01-01T10:00:00"}, "scheduled_at"),
        ({"segment_id": 1}, "body"),
        ({"contact_list_id": None}, "body"),
        ({"connection_id": 2**31 - 1}, "connection_id"),
        ({"contact_list_id": 2**31 - 1}, "contact_list_id"),
    ]
    for change, field in cases:
        response = await client.post(
            "/api/campaigns", json={**good, **change}, headers=tenant.headers
        )
        assert response.status_code == 422, (change, response.text)
        fields = response.json()["error"]["fields"]
        assert field in fields, (change, fields)
    created = await client.post("/api/campaigns", json=good, headers=tenant.headers)
    assert created.status_code == 201, created.text
    patched = await client.patch(
        f"/api/campaigns/{created.json()['id']}",
        json={"min_delay": 100},
        headers=tenant.headers,
    )
    assert patched.status_code == 422
    assert "max_delay" in patched.json()["error"]["fields"]


async def test_agents_may_not_manage_campaigns(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.member(Role.agent)
    response = await client.get("/api/campaigns", headers=agent.headers)
    assert response.status_code == 403
    supervisor = await tenant.member(Role.supervisor)
    response = await client.get("/api/campaigns", headers=supervisor.headers)
    assert response.status_code == 200


async def test_another_companys_campaign_is_a_404(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 2))
    campaign = await create_campaign(client, tenant, campaign_body(connection_id, list_id))
    cid = campaign["id"]
    for method, path in [
        ("GET", f"/api/campaigns/{cid}"),
        ("PATCH", f"/api/campaigns/{cid}"),
        ("DELETE", f"/api/campaigns/{cid}"),
        ("POST", f"/api/campaigns/{cid}/pause"),
        ("POST", f"/api/campaigns/{cid}/cancel"),
        ("GET", f"/api/campaigns/{cid}/recipients"),
        ("GET", f"/api/campaigns/{cid}/recipients.csv"),
    ]:
        response = await client.request(method, path, json={}, headers=other_tenant.headers)
        assert response.status_code == 404, (method, path, response.text)
    # Nor may a campaign of the other company use this company's list or connection.
    other_connection = await sandbox_connection(client, other_tenant)
    response = await client.post(
        "/api/campaigns",
        json=campaign_body(other_connection, list_id),
        headers=other_tenant.headers,
    )
    assert response.status_code == 422
    assert "contact_list_id" in response.json()["error"]["fields"]
    listed = await client.get("/api/campaigns", headers=other_tenant.headers)
    assert listed.json()["items"] == []
    assert (await Campaign.get(id=cid)).status is CampaignStatus.running


# Life cycle -------------------------------------------------------------------------------


async def test_start_materialises_and_skips_who_cannot_receive(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    good = await make_contacts(tenant, 3)
    opted = await Contact.create(
        company_id=tenant.company.id, number="+5511900000001", name="Saiu", opted_out=True
    )
    group = await Contact.create(
        company_id=tenant.company.id, number="1203634@g.us", name="Grupo", is_group=True
    )
    bad = await Contact.create(company_id=tenant.company.id, number="12345", name="Ruim")
    list_id = await make_list(tenant, [*good, opted, group, bad])
    campaign = await create_campaign(client, tenant, campaign_body(connection_id, list_id))
    assert campaign["status"] == "running"
    stats = campaign["stats"]
    assert stats["total"] == 6
    assert stats["counts"]["queued"] == 3
    assert stats["counts"]["skipped"] == 3
    skipped = await client.get(
        f"/api/campaigns/{campaign['id']}/recipients?status=skipped", headers=tenant.headers
    )
    reasons = {item["number"]: item["reason"] for item in skipped.json()["items"]}
    assert reasons == {
        "+5511900000001": "opted out",
        "1203634@g.us": "a group",
        "12345": "invalid number",
    }
    again = await client.post(f"/api/campaigns/{campaign['id']}/start", headers=tenant.headers)
    assert again.status_code == 409


async def test_pause_resume_cancel(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    list_id = await make_list(tenant, await make_contacts(tenant, 5))
    campaign = await create_campaign(client, tenant, campaign_body(connection_id, list_id))
    cid, url = campaign["id"], f"/api/campaigns/{campaign['id']}"
    runner = runner_for(app, clock)
    assert await runner.tick() == 1

    paused = await client.post(f"{url}/pause", headers=tenant.headers)
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    for _ in range(3):
        clock.advance(timedelta(seconds=5))
        assert await runner.tick() == 0
    assert (await client.post(f"{url}/pause", headers=tenant.headers)).status_code == 409
    # A paused campaign takes a new pace, not a new text.
    renamed = await client.patch(url, json={"name": "Nova", "max_delay": 2}, headers=tenant.headers)
    assert renamed.status_code == 200
    assert renamed.json()["max_delay"] == 2
    frozen = await client.patch(url, json={"variants": ["outro"]}, headers=tenant.headers)
    assert frozen.status_code == 409
    assert "variants" in frozen.json()["error"]["fields"]

    resumed = await client.post(f"{url}/resume", headers=tenant.headers)
    assert resumed.json()["status"] == "running"
    clock.advance(timedelta(seconds=5))
    assert await runner.tick() == 1
    assert (await client.delete(url, headers=tenant.headers)).status_code == 409

    cancelled = await client.post(f"{url}/cancel", headers=tenant.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["stats"]["counts"]["sent"] == 2
    assert cancelled.json()["stats"]["counts"]["skipped"] == 3
    clock.advance(timedelta(seconds=5))
    assert await runner.tick() == 0
    channel = await app.ctx.channels.sandbox(connection_id)
    assert sum(len(sent) for sent in channel.sent.values()) == 2
    assert (await client.post(f"{url}/resume", headers=tenant.headers)).status_code == 409
    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert not await CampaignRecipient.filter(campaign_id=cid).exists()


async def test_scheduled_campaign_waits_for_its_time(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 2))
    at = clock() + timedelta(hours=2)
    body = campaign_body(connection_id, list_id, scheduled_at=at.isoformat())
    campaign = await create_campaign(client, tenant, body)
    assert campaign["status"] == "scheduled"
    assert campaign["stats"]["counts"]["queued"] == 2  # frozen at the start already
    runner = runner_for(app, clock)
    assert await runner.tick() == 0
    clock.advance(timedelta(hours=2, seconds=1))
    assert await runner.tick() == 1
    assert (await Campaign.get(id=campaign["id"])).status is CampaignStatus.running


async def test_finishes_and_publishes_progress(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    contacts = await make_contacts(tenant, 3)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    published: list[dict[str, Any]] = []
    broker = app.ctx.broker

    class Recording:
        async def publish(self, event: dict[str, Any]) -> None:
            await self.publish_many([event])

        async def publish_many(self, events: Sequence[dict[str, Any]]) -> None:
            published.extend(events)
            await broker.publish_many(events)

    runner = CampaignRunner(
        channels=app.ctx.channels,
        broker=Recording(),  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(2),
    )
    await run_until_done(runner, clock, campaign["id"])
    row = await Campaign.get(id=campaign["id"])
    assert row.status is CampaignStatus.finished
    assert row.finished_at is not None
    progress = [e for e in published if e["data"]["id"] == campaign["id"]]
    assert progress
    assert all(e["type"] == "campaign.progress" for e in progress)
    assert progress[-1]["data"]["status"] == "finished"
    assert progress[-1]["data"]["counts"]["sent"] == 3
    assert progress[-1]["audience"] == {
        "company_id": tenant.company.id,
        "roles": ["admin", "supervisor"],
    }


# Rendering, receipts, confirmation --------------------------------------------------------


def test_render_fills_contact_variables() -> None:
    values = contact_variables(
        name=" Maria  da Silva ", number="+5511999990000", custom_fields={"cidade": "Recife"}
    )
    text = "Oi {{first_name}} ({{ name }}, {{number}}) de {{custom.cidade}}/{{cidade}}{{nada}}!"
    assert render(text, values) == ("Oi Maria (Maria  da Silva, +5511999990000) de Recife/Recife!")


async def test_unknown_variables_are_refused_when_saved(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 1, custom_fields={"plano": "A"}))
    body = campaign_body(connection_id, list_id, variants=["Oi {{first_name}}", "{{cidade}}!"])
    refused = await client.post("/api/campaigns", json=body, headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["message"].startswith("Variável desconhecida: {{cidade}}")
    assert list(error["fields"]) == ["variants.1"]
    # A custom field some contact has, bare or as custom.key, and the greeting are known.
    body["variants"] = ["{{greeting}}, {{first_name}}: {{plano}} {{custom.qualquer}}"]
    created = await client.post("/api/campaigns", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    changed = await client.patch(
        f"/api/campaigns/{created.json()['id']}",
        json={"confirmation_text": "Posso enviar, {{queue}}?"},
        headers=tenant.headers,
    )
    assert changed.status_code == 422, changed.text
    assert list(changed.json()["error"]["fields"]) == ["confirmation_text"]


async def test_variants_and_variables_reach_the_contacts(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 40, custom_fields={"plano": "Ouro"})
    body = campaign_body(
        connection_id,
        await make_list(tenant, contacts),
        variants=["A {{first_name}} {{custom.plano}}", "B {{name}} {{plano}}"],
    )
    campaign = await create_campaign(client, tenant, body)
    await run_until_done(runner_for(app, clock, seed=7), clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    texts = {c.number: [m.text for m in channel.sent[c.number]] for c in contacts}
    firsts = set()
    for contact in contacts:
        [text] = texts[contact.number]
        first = contact.name.split()[0]
        assert text in (f"A {first} Ouro", f"B {contact.name} Ouro"), text
        firsts.add(text[0])
    assert firsts == {"A", "B"}  # both variants used
    rows = await CampaignRecipient.filter(campaign_id=campaign["id"])
    assert {row.variant for row in rows} == {0, 1}
    assert all(row.body and row.channel_message_id for row in rows)


async def test_receipts_update_the_statistics(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    contacts = await make_contacts(tenant, 4)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    await run_until_done(runner_for(app, clock), clock, campaign["id"])
    rows = await CampaignRecipient.filter(campaign_id=campaign["id"]).order_by("id")
    ids = [row.channel_message_id for row in rows]
    at = clock()

    async def receipt(message_id: str | None, status: str, connection: int = connection_id) -> bool:
        assert message_id is not None
        return await actions.apply_receipt(
            connection_id=connection, channel_message_id=message_id, status=status, at=at
        )

    assert await receipt(ids[0], "delivered")
    assert await receipt(ids[1], "delivered")
    assert await receipt(ids[1], "read")
    assert await receipt(ids[2], "read")  # read without the delivered receipt
    assert await receipt(ids[1], "delivered")  # late: never backwards
    assert not await receipt("unknown-id", "read")
    assert not await receipt(ids[3], "read", connection=connection_id + 10_000)

    response = await client.get(f"/api/campaigns/{campaign['id']}", headers=tenant.headers)
    stats = response.json()["stats"]
    assert stats["counts"]["sent"] == 1
    assert stats["counts"]["delivered"] == 1
    assert stats["counts"]["read"] == 2
    assert stats["sent"] == 4
    assert stats["delivered_rate"] == 0.75
    assert stats["read_rate"] == 0.5
    third = await CampaignRecipient.get(id=rows[2].id)
    assert third.delivered_at is not None
    assert third.read_at is not None


async def test_confirmation_mode_sends_after_the_reply(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    contacts = await make_contacts(tenant, 2)
    body = campaign_body(
        connection_id,
        await make_list(tenant, contacts),
        confirmation_text="{{first_name}}, posso enviar a oferta? Responda SIM.",
        variants=["A oferta, {{first_name}}!"],
    )
    campaign = await create_campaign(client, tenant, body)
    runner = runner_for(app, clock)
    await run_until_done(runner, clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    first, second = contacts
    assert [m.text for m in channel.sent[first.number]] == [
        "Cliente, posso enviar a oferta? Responda SIM."
    ]
    rows = await CampaignRecipient.filter(campaign_id=campaign["id"])
    assert {row.status for row in rows} == {RecipientStatus.confirming}
    # The campaign finished asking; the reply brings it back for that contact.
    assert await actions.confirm_reply(connection_id=connection_id, contact_id=first.id)
    assert not await actions.confirm_reply(connection_id=connection_id, contact_id=first.id)
    assert not await actions.confirm_reply(
        connection_id=connection_id + 10_000, contact_id=second.id
    )
    clock.advance(timedelta(seconds=2))
    await run_until_done(runner, clock, campaign["id"])
    assert [m.text for m in channel.sent[first.number]][1:] == ["A oferta, Cliente!"]
    assert len(channel.sent[second.number]) == 1
    statuses = {
        row.contact_id: row.status  # type: ignore[attr-defined]
        for row in await CampaignRecipient.filter(campaign_id=campaign["id"])
    }
    assert statuses == {first.id: RecipientStatus.sent, second.id: RecipientStatus.confirming}


async def test_recipients_pages_and_csv(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    contacts = await make_contacts(tenant, 5)
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, await make_list(tenant, contacts))
    )
    runner = runner_for(app, clock)
    await runner.tick()
    url = f"/api/campaigns/{campaign['id']}/recipients"
    page = await client.get(f"{url}?limit=2", headers=tenant.headers)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 2
    assert page.json()["next_cursor"]
    rest = await client.get(
        f"{url}?limit=10&cursor={page.json()['next_cursor']}", headers=tenant.headers
    )
    assert len(rest.json()["items"]) == 3
    sent = await client.get(f"{url}?status=sent", headers=tenant.headers)
    assert [item["number"] for item in sent.json()["items"]] == [contacts[0].number]
    assert (await client.get(f"{url}?status=nope", headers=tenant.headers)).status_code == 422
    exported = await client.get(f"{url}.csv", headers=tenant.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["number"] for row in rows] == [c.number for c in contacts]
    assert [row["status"] for row in rows] == ["sent", "queued", "queued", "queued", "queued"]


async def test_segment_campaign_freezes_the_segment(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 3)
    await Contact.filter(id=contacts[0].id).update(opted_out=True)
    segment = await Segment.create(company_id=tenant.company.id, name=unique("seg"), filters={})
    body = campaign_body(connection_id, 0, segment_id=segment.id)
    del body["contact_list_id"]
    campaign = await create_campaign(client, tenant, body)
    assert campaign["segment_id"] == segment.id
    assert campaign["stats"]["counts"]["queued"] == 2
    # Contacts added after the start are not part of it.
    await make_contacts(tenant, 1)
    await run_until_done(runner_for(app, clock), clock, campaign["id"])
    assert await CampaignRecipient.filter(campaign_id=campaign["id"]).count() == 2


async def test_media_upload(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 1))
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, list_id), start=False
    )
    url = f"/api/campaigns/{campaign['id']}/media"
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    response = await client.post(
        url, files={"file": ("oferta.png", png, "image/png")}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["media"] == {"name": "oferta.png", "mime": "image/png"}
    removed = await client.delete(url, headers=tenant.headers)
    assert removed.json()["media"] is None
    no_file = await client.post(url, json={}, headers=tenant.headers)
    assert no_file.status_code == 400


async def test_a_scheduled_campaign_takes_a_new_audience_a_finished_one_nothing(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 4)
    first_list, second_list = (
        await make_list(tenant, contacts[:3]),
        await make_list(tenant, contacts[3:]),
    )
    at = (clock() + timedelta(hours=1)).isoformat()
    campaign = await create_campaign(
        client, tenant, campaign_body(connection_id, first_list, scheduled_at=at)
    )
    url = f"/api/campaigns/{campaign['id']}"
    assert campaign["stats"]["total"] == 3
    moved = await client.patch(url, json={"contact_list_id": second_list}, headers=tenant.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["stats"]["total"] == 1
    started = await client.patch(url, json={"scheduled_at": None}, headers=tenant.headers)
    assert started.json()["scheduled_at"] is None
    await run_until_done(runner_for(app, clock), clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    assert [c.number for c in contacts if channel.sent.get(c.number)] == [contacts[3].number]
    finished = await client.patch(url, json={"name": "Outro"}, headers=tenant.headers)
    assert finished.status_code == 409
    assert (await client.post(f"{url}/cancel", headers=tenant.headers)).status_code == 409


async def test_a_connection_with_campaigns_is_not_deleted_under_them(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    list_id = await make_list(tenant, await make_contacts(tenant, 1))
    await create_campaign(client, tenant, campaign_body(connection_id, list_id), start=False)
    response = await client.delete(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert response.status_code == 409, response.text
    assert "campaigns" in response.json()["error"]["message"]
    still = await client.get(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert still.status_code == 200


async def test_the_customers_answer_to_the_question_confirms_without_the_bot(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    contacts = await make_contacts(tenant, 1)
    body = campaign_body(
        connection_id,
        await make_list(tenant, contacts),
        confirmation_text="Posso enviar a oferta? Responda SIM.",
        variants=["A oferta!"],
    )
    campaign = await create_campaign(client, tenant, body)
    runner = runner_for(app, clock)
    await run_until_done(runner, clock, campaign["id"])
    channel: SandboxChannel = await app.ctx.channels.sandbox(connection_id)
    number = contacts[0].number
    assert [m.text for m in channel.sent[number]] == ["Posso enviar a oferta? Responda SIM."]

    answered = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": number, "text": "SIM"},
        headers=tenant.headers,
    )
    assert answered.status_code < 300, answered.text
    # The bot kept quiet; the answer is kept on a ticket; the campaign sends its message.
    assert [m.text for m in channel.sent[number]] == ["Posso enviar a oferta? Responda SIM."]
    tickets = await client.get(f"/api/tickets?contact_id={contacts[0].id}", headers=tenant.headers)
    [ticket] = tickets.json()["items"]
    history = await client.get(f"/api/tickets/{ticket['id']}/messages", headers=tenant.headers)
    assert [m["body"] for m in history.json()["items"]] == ["SIM"]
    clock.advance(timedelta(seconds=2))
    await run_until_done(runner, clock, campaign["id"])
    assert [m.text for m in channel.sent[number]][1:] == ["A oferta!"]
    # The customer's next message is the bot's as usual.
    again = await client.post(
        f"/api/sandbox/{connection_id}/inbound",
        json={"from": number, "text": "oi"},
        headers=tenant.headers,
    )
    assert again.status_code < 300, again.text
    assert len(channel.sent[number]) > 2


async def test_the_opt_out_keyword_records_why_and_tells_the_inbox(
    app: Sanic[Any, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    published_events: PublishedEvents,
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    number = "+5511955554444"
    for text in ("oi", "SAIR"):
        response = await client.post(
            f"/api/sandbox/{connection_id}/inbound",
            json={"from": number, "text": text},
            headers=tenant.headers,
        )
        assert response.status_code < 300, response.text
    contact = await Contact.get(company_id=tenant.company.id, number=number)
    assert contact.opted_out
    assert contact.opted_out_reason == 'keyword "SAIR"'
    updates = published_events.of_type("contact.updated")
    assert [e["data"]["opted_out"] for e in updates] == [True]
    assert updates[0]["audience"] == {"company_id": tenant.company.id}


async def test_a_reply_to_a_campaign_opens_a_ticket_that_names_it(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contacts = await make_contacts(tenant, 2)
    body = campaign_body(connection_id, await make_list(tenant, contacts[:1]))
    campaign = await create_campaign(client, tenant, body)
    await run_until_done(runner_for(app, clock), clock, campaign["id"])

    headers = tenant.headers

    async def first_ticket(number: str) -> dict[str, Any]:
        written = await client.post(
            f"/api/sandbox/{connection_id}/inbound",
            json={"from": number, "text": "Quero saber mais"},
            headers=headers,
        )
        assert written.status_code < 300, written.text
        contact = await Contact.get(company_id=tenant.company.id, number=number)
        found = await client.get(f"/api/tickets?contact_id={contact.id}", headers=headers)
        return dict(found.json()["items"][0])  # the newest

    answered = await first_ticket(contacts[0].number)
    assert answered["campaign"] == {"id": campaign["id"], "name": campaign["name"]}
    # Someone the campaign never wrote to starts an ordinary conversation.
    assert (await first_ticket(contacts[1].number))["campaign"] is None
    # A week later, a new conversation no longer counts as the campaign's answer.
    closed = await client.post(
        f"/api/tickets/{answered['id']}/close", json={}, headers=tenant.headers
    )
    assert closed.status_code == 200, closed.text
    clock.advance(timedelta(days=8))
    token = (await log_in(client, tenant.admin.email)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    later = await first_ticket(contacts[0].number)
    assert later["id"] != answered["id"]
    assert later["campaign"] is None
