"""Real WhatsApp messages as the service handles them, end to end through the sandbox API:
groups, messages sent from the business's phone, edits, revokes, media in and out, quoted
replies, read marks and typing."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channel import InboundMessage
from bot.sandbox import SandboxChannel
from flows.texts import DEFAULT_TEXTS
from service.connections.models import Connection
from service.contacts.models import Contact
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import PublishedEvents, Tenant, unique

NUMBER = "+5511988887777"
GROUP = "120363025246125244@g.us"
PT = DEFAULT_TEXTS["pt-BR"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# Helpers -------------------------------------------------------------------------------------


async def _connection(
    client: httpx.AsyncClient, tenant: Tenant, *, groups: bool = False, queues: bool = True
) -> int:
    """A sandbox connection with two queues, so the bot greets and shows a menu."""
    queue_ids = []
    for name in ("Suporte", "Financeiro") if queues else ():
        queue = await client.post("/api/queues", json={"name": name}, headers=tenant.headers)
        assert queue.status_code == 201, queue.text
        queue_ids.append(queue.json()["id"])
    response = await client.post(
        "/api/connections",
        json={"name": unique("sandbox"), "channel": "sandbox", "queue_ids": queue_ids},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    connection_id = int(response.json()["id"])
    if groups:
        await Connection.filter(id=connection_id).update(groups_enabled=True)
    return connection_id


async def _inbound(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, **body: Any
) -> httpx.Response:
    body = {"from": NUMBER, "name": "Maria Silva", **body}
    body.setdefault("text", "")
    return await client.post(
        f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers
    )


async def _write(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, **body: Any
) -> int | None:
    response = await _inbound(client, tenant, connection_id, **body)
    assert response.status_code == 200, response.text
    message_id: int | None = response.json()["message_id"]
    return message_id


async def _received(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, to: str = NUMBER
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": to}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _messages(client: httpx.AsyncClient, headers: Any, ticket_id: int) -> list[Any]:
    """The ticket's messages through the API, oldest first."""
    response = await client.get(f"/api/tickets/{ticket_id}/messages", headers=headers)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


async def _message(client: httpx.AsyncClient, tenant: Tenant, message_id: int) -> dict[str, Any]:
    message = await Message.get(id=message_id)
    items = await _messages(client, tenant.headers, message.ticket_id)  # type: ignore[attr-defined]
    [found] = [m for m in items if m["id"] == message_id]
    return dict(found)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _open_ticket(client: httpx.AsyncClient, tenant: Tenant, connection_id: int) -> int:
    """The customer's ticket, triaged and accepted by the tenant's admin."""
    await _write(client, tenant, connection_id, text="oi")
    await _write(client, tenant, connection_id, text="1")
    ticket = await Ticket.filter(connection_id=connection_id).order_by("-id").first()
    assert ticket is not None
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    return ticket.id


def _sandbox(app: Any, connection_id: int) -> SandboxChannel:
    channel = app.ctx.channels.sessions.channel(connection_id)
    assert isinstance(channel, SandboxChannel)
    return channel


def _media_dir(app: Any) -> Path:
    path: Path = app.ctx.settings.effective_media_dir
    return path


def _files_of(app: Any, company_id: int) -> set[Path]:
    root = _media_dir(app) / str(company_id)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def media_limit(app: Any) -> Iterator[int]:
    """A media size limit small enough to go past in a test."""
    original = app.ctx.settings
    app.ctx.settings = original.model_copy(update={"media_max_bytes": 1024})
    yield 1024
    app.ctx.settings = original


# Groups --------------------------------------------------------------------------------------


async def test_group_messages_are_dropped_unless_the_connection_enables_groups(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    dropped = await _write(
        client, tenant, connection_id, group=GROUP, name="Ana", text="oi pessoal"
    )
    assert dropped is None
    assert not await Contact.filter(company_id=tenant.company.id, number=GROUP).exists()
    assert not await Ticket.filter(connection_id=connection_id).exists()


async def test_a_group_is_a_contact_with_a_pending_ticket_and_no_bot(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant, groups=True)
    agent = await tenant.member(Role.agent)
    first = await _write(client, tenant, connection_id, group=GROUP, name="Ana", text="oi pessoal")
    second = await _write(
        client,
        tenant,
        connection_id,
        group=GROUP,
        name="",
        **{"from": "+5511977776666"},
        text="atendente",
    )
    assert first is not None
    assert second is not None
    contact = await Contact.get(company_id=tenant.company.id, number=GROUP)
    assert contact.is_group is True
    [ticket] = await Ticket.filter(connection_id=connection_id)
    assert ticket.contact_id == contact.id  # type: ignore[attr-defined]
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id is None  # type: ignore[attr-defined]
    assert ticket.flow_state == {}
    assert ticket.unread_count == 2
    bodies = [m["body"] for m in await _messages(client, tenant.headers, ticket.id)]
    # Without a push name the participant's number says who wrote.
    assert bodies == ["Ana: oi pessoal", "+5511977776666: atendente"]
    assert await _received(client, tenant, connection_id, to=GROUP) == []  # the bot is silent
    listed = await client.get("/api/tickets", params={"status": "pending"}, headers=tenant.headers)
    [seen] = [t for t in listed.json()["items"] if t["id"] == ticket.id]
    assert seen["contact"]["number"] == GROUP
    hidden = await client.get(f"/api/tickets/{ticket.id}", headers=agent.headers)
    assert hidden.status_code == 404  # not of the agent's queues: admins handle groups


async def test_an_agent_answers_a_group_and_an_edit_there_keeps_the_author(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant, groups=True)
    await _write(client, tenant, connection_id, group=GROUP, name="Ana", text="oi", id="g-1")
    ticket = await Ticket.get(connection_id=connection_id)
    reply = await client.post(
        f"/api/tickets/{ticket.id}/messages", json={"text": "Olá grupo"}, headers=tenant.headers
    )
    assert reply.status_code == 201, reply.text
    [sent] = await _received(client, tenant, connection_id, to=GROUP)
    assert sent["text"] == "Olá grupo"
    await _write(client, tenant, connection_id, group=GROUP, name="Ana", text="oi!", edit_of="g-1")
    assert (await Message.get(channel_message_id="g-1")).body == "Ana: oi!"
    # Written in the group from the business's phone: ours, on the group's ticket, no prefix.
    own = await _write(
        client, tenant, connection_id, group=GROUP, from_me=True, name="Loja", text="Até já"
    )
    assert own is not None
    message = await Message.get(id=own)
    assert message.ticket_id == ticket.id  # type: ignore[attr-defined]
    assert message.direction is Direction.outbound
    assert message.body == "Até já"
    assert [m["text"] for m in await _received(client, tenant, connection_id, to=GROUP)] == [
        "Olá grupo",
        "Até já",
    ]


async def test_a_bad_group_id_is_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection_id = await _connection(client, tenant, groups=True)
    for group in ("5511988887777@s.whatsapp.net", "abc@g.us", "1" * 40 + "@g.us"):
        response = await _inbound(client, tenant, connection_id, group=group, text="oi")
        assert response.status_code == 422, (group, response.text)
        assert "group" in response.json()["error"]["fields"]


# Sent from the business's phone -----------------------------------------------------------


async def test_a_message_from_our_phone_is_an_agent_message_already_sent(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi")
    ticket = await Ticket.get(connection_id=connection_id)
    replies_before = len(await _received(client, tenant, connection_id))
    own_id = unique("phone")
    stored = await _write(
        client, tenant, connection_id, from_me=True, name="Loja", text="Já te atendo", id=own_id
    )
    assert stored is not None
    message = await Message.get(id=stored)
    assert message.ticket_id == ticket.id  # type: ignore[attr-defined]
    assert message.direction is Direction.outbound
    assert message.from_bot is False
    assert message.sender_user_id is None  # type: ignore[attr-defined]
    assert message.status is MessageStatus.sent
    assert message.channel_message_id == own_id
    assert message.processed_at is not None
    # The bot did not take it for the customer's answer.
    received = await _received(client, tenant, connection_id)
    assert len(received) == replies_before + 1
    assert received[-1]["text"] == "Já te atendo"
    after = await Ticket.get(id=ticket.id)
    assert after.status is TicketStatus.bot
    assert after.flow_state == ticket.flow_state
    assert after.unread_count == ticket.unread_count
    assert after.last_message == "Já te atendo"
    event = published_events.last("message.created", id=stored)
    assert event["data"]["direction"] == "out"
    assert event["data"]["channel_message_id"] == own_id
    # WhatsApp delivers it again: still one message.
    again = await _inbound(
        client, tenant, connection_id, from_me=True, text="Já te atendo", id=own_id
    )
    assert again.json() == {"message_id": stored, "duplicate": True}
    assert await Message.filter(channel_message_id=own_id).count() == 1


async def test_our_phone_writes_on_the_latest_ticket_or_opens_a_pending_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi")
    ticket = await Ticket.get(connection_id=connection_id)
    closed = await client.post(f"/api/tickets/{ticket.id}/close", headers=tenant.headers)
    assert closed.status_code == 200, closed.text
    on_closed = await _write(client, tenant, connection_id, from_me=True, text="Mais alguma coisa?")
    assert on_closed is not None
    assert (await Message.get(id=on_closed)).ticket_id == ticket.id  # type: ignore[attr-defined]
    assert (await Ticket.get(id=ticket.id)).status is TicketStatus.closed

    stranger = "+5511955554444"
    first = await _write(
        client, tenant, connection_id, from_me=True, name="Loja", text="Olá!", **{"from": stranger}
    )
    assert first is not None
    new_ticket = await Ticket.get(id=(await Message.get(id=first)).ticket_id)  # type: ignore[attr-defined]
    assert new_ticket.status is TicketStatus.pending
    assert new_ticket.queue_id is None  # type: ignore[attr-defined]
    contact = await Contact.get(id=new_ticket.contact_id)  # type: ignore[attr-defined]
    assert contact.number == stranger
    assert contact.name == ""  # "Loja" is our own name, not the customer's
    assert (await _received(client, tenant, connection_id, to=stranger))[0]["text"] == "Olá!"


async def test_our_phone_delivered_twice_at_once_is_one_message(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    own = InboundMessage(
        connection_id=connection_id,
        channel_message_id=unique("twice"),
        sender=NUMBER,
        push_name="Loja",
        text="Bom dia!",
        timestamp=datetime.now(UTC),
        from_me=True,
    )
    pipeline = app.ctx.channels.pipeline
    assert await asyncio.gather(*(pipeline.receive(own) for _ in range(5))) == [None] * 5
    [message] = await Message.filter(channel_message_id=own.channel_message_id)
    assert message.direction is Direction.outbound
    assert await Ticket.filter(connection_id=connection_id).count() == 1


# Edits and revokes ---------------------------------------------------------------------------


async def test_an_edit_changes_the_text_and_tells_the_agents(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    original = await _write(client, tenant, connection_id, text="oi", id="edit-me")
    assert original is not None
    replies = [m["text"] for m in await _received(client, tenant, connection_id)]
    edited = await _write(client, tenant, connection_id, text="olá, bom dia", edit_of="edit-me")
    assert edited == original
    shown = await _message(client, tenant, original)
    assert shown["body"] == "olá, bom dia"
    assert shown["edited_at"] is not None
    assert shown["revoked_at"] is None
    after = [m["text"] for m in await _received(client, tenant, connection_id)]
    assert after == replies  # no flow for an edit
    assert await Message.filter(connection_id=connection_id, direction="in").count() == 1
    event = published_events.last("message.updated", id=original)
    assert event["data"]["body"] == "olá, bom dia"
    assert event["data"]["edited_at"] == shown["edited_at"]


async def test_a_revoke_keeps_the_text_for_supervisors_and_marks_it(
    client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    original = await _write(client, tenant, connection_id, text="meu cpf é 123", id="rev-me")
    assert original is not None
    revoked = await _write(client, tenant, connection_id, revoke_of="rev-me")
    assert revoked == original
    shown = await _message(client, tenant, original)
    assert shown["body"] == "meu cpf é 123"
    assert shown["revoked_at"] is not None
    event = published_events.last("message.updated", id=original)
    assert event["data"]["revoked_at"] == shown["revoked_at"]
    assert event["audience"]["company_id"] == tenant.company.id


async def test_an_edit_or_revoke_of_an_unknown_message_is_dropped(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi", id="known")
    assert await _write(client, tenant, connection_id, text="x", edit_of="nope") is None
    assert await _write(client, tenant, connection_id, revoke_of="nope") is None
    # Another connection's message of the same id is not this connection's.
    other = await _connection(client, other_tenant)
    assert await _write(client, other_tenant, other, text="x", edit_of="known") is None
    message = await Message.get(connection_id=connection_id, channel_message_id="known")
    assert (message.body, message.edited_at, message.revoked_at) == ("oi", None, None)
    both = await _inbound(client, tenant, connection_id, text="x", edit_of="a", revoke_of="b")
    assert both.status_code == 422


# Media in ------------------------------------------------------------------------------------


async def test_an_image_with_a_caption_is_stored_and_downloadable(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, published_events: PublishedEvents
) -> None:
    connection_id = await _connection(client, tenant)
    media = {
        "kind": "image",
        "filename": "foto.png",
        "mime": "image/png",
        "content_base64": _b64(PNG),
    }
    stored = await _write(client, tenant, connection_id, text="olha isso", media=media)
    assert stored is not None
    shown = await _message(client, tenant, stored)
    assert shown["body"] == "olha isso"
    assert shown["media"] == {
        "type": "image",
        "name": "foto.png",
        "mime": "image/png",
        "size": len(PNG),
        "url": f"/api/messages/{stored}/media",
    }
    assert shown["media_type"] == "image"
    message = await Message.get(id=stored)
    assert message.media_path is not None
    assert message.media_path.startswith(f"{tenant.company.id}/")
    assert (_media_dir(app) / message.media_path).read_bytes() == PNG
    download = await client.get(shown["media"]["url"], headers=tenant.headers)
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == 'inline; filename="foto.png"'
    event = published_events.last("message.created", id=stored)
    assert event["data"]["media"] == shown["media"]
    assert event["data"]["channel_message_id"] == shown["channel_message_id"]


async def test_media_without_a_caption_goes_through_the_flow_as_a_miss(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    audio = {"kind": "audio", "mime": "audio/ogg; codecs=opus", "content_base64": _b64(b"OggS..")}
    assert await _write(client, tenant, connection_id, media=audio) is not None
    welcome = [m["text"] for m in await _received(client, tenant, connection_id)]
    assert welcome
    assert "1 - Suporte" in welcome[-1]
    assert await _write(client, tenant, connection_id, media=audio) is not None
    after = [m["text"] for m in await _received(client, tenant, connection_id)]
    assert after[len(welcome)] == PT["not_understood"]  # a miss: asked again
    ticket = await Ticket.get(connection_id=connection_id)
    assert ticket.status is TicketStatus.bot
    assert ticket.last_message == "[audio]"
    [message, *_] = await Message.filter(ticket_id=ticket.id, direction="in")
    assert message.media_mime == "audio/ogg"


async def test_a_reference_only_file_and_a_location_have_no_download(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    big = {"kind": "video", "filename": "grande.mp4", "mime": "video/mp4", "reference": "ref:1"}
    video = await _write(client, tenant, connection_id, text="vídeo", media=big)
    assert video is not None
    shown = await _message(client, tenant, video)
    assert shown["media"] == {
        "type": "video",
        "name": "grande.mp4",
        "mime": "video/mp4",
        "size": None,
        "url": None,
    }
    assert (await Message.get(id=video)).media_reference == "ref:1"
    download = await client.get(f"/api/messages/{video}/media", headers=tenant.headers)
    assert download.status_code == 404
    place = await _write(
        client, tenant, connection_id, text="Rua A, 1 (-23.5, -46.6)", media={"kind": "location"}
    )
    assert place is not None
    located = await _message(client, tenant, place)
    assert located["body"] == "Rua A, 1 (-23.5, -46.6)"
    assert located["media"]["type"] == "location"
    assert located["media"]["url"] is None


async def test_bad_inbound_media_is_refused(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, media_limit: int
) -> None:
    connection_id = await _connection(client, tenant)
    too_big = {"kind": "image", "content_base64": _b64(b"x" * (media_limit + 1))}
    response = await _inbound(client, tenant, connection_id, media=too_big)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    cases = [
        ({"kind": "image", "content_base64": "not base64!"}, "media.content_base64"),
        ({"kind": "hologram", "content_base64": _b64(PNG)}, "media.kind"),
        ({"kind": "image", "content_base64": _b64(PNG), "extra": 1}, "media.extra"),
    ]
    for media, field in cases:
        response = await _inbound(client, tenant, connection_id, media=media)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"], response.text
    nothing = await _inbound(client, tenant, connection_id, text="")
    assert nothing.status_code == 422
    assert _files_of(app, tenant.company.id) == set()
    assert not await Ticket.filter(connection_id=connection_id).exists()


async def test_a_dropped_group_file_is_not_kept(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)  # groups off
    media = {"kind": "image", "mime": "image/png", "content_base64": _b64(PNG)}
    assert await _write(client, tenant, connection_id, group=GROUP, media=media) is None
    assert _files_of(app, tenant.company.id) == set()


# Downloads -----------------------------------------------------------------------------------


async def test_a_download_is_for_those_who_see_the_ticket_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    media = {"kind": "document", "filename": "contrato 2024.pdf", "content_base64": _b64(b"%PDF")}
    stored = await _write(client, tenant, connection_id, text="", media=media)
    assert stored is not None
    url = f"/api/messages/{stored}/media"
    owner = await client.get(url, headers=tenant.headers)
    assert owner.status_code == 200
    assert owner.headers["content-type"] == "application/pdf"
    assert owner.headers["content-disposition"] == 'attachment; filename="contrato 2024.pdf"'
    assert owner.headers["content-security-policy"] == "sandbox"
    agent = await tenant.member(Role.agent)  # in no queue: the bot's ticket is not theirs
    assert (await client.get(url, headers=agent.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    text_only = await _write(client, tenant, connection_id, text="oi")
    missing = await client.get(f"/api/messages/{text_only}/media", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    for message_id in (999_999_999, 2**63):
        response = await client.get(f"/api/messages/{message_id}/media", headers=tenant.headers)
        assert response.status_code == 404


async def test_a_download_never_leaves_the_media_directory(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    connection_id = await _connection(client, tenant)
    media = {"kind": "document", "filename": "a.txt", "content_base64": _b64(b"ok")}
    stored = await _write(client, tenant, connection_id, text="", media=media)
    assert stored is not None
    url = f"/api/messages/{stored}/media"
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    link = _media_dir(app) / str(tenant.company.id) / "link.txt"
    link.symlink_to(secret)
    for path in ("../../../../etc/passwd", str(secret), f"{tenant.company.id}/link.txt", ".", ""):
        await Message.filter(id=stored).update(media_path=path)
        response = await client.get(url, headers=tenant.headers)
        assert response.status_code == 404, (path, response.text)


async def test_a_non_ascii_file_name_is_kept_in_the_download(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    media = {
        "kind": "document",
        "filename": '../relatório "final".pdf',
        "content_base64": _b64(b"%PDF"),
    }
    stored = await _write(client, tenant, connection_id, text="", media=media)
    assert stored is not None
    shown = await _message(client, tenant, stored)
    assert shown["media"]["name"] == 'relatório "final".pdf'
    response = await client.get(shown["media"]["url"], headers=tenant.headers)
    assert response.headers["content-disposition"] == (
        'attachment; filename="relatrio final.pdf"; '
        "filename*=UTF-8''relat%C3%B3rio%20%22final%22.pdf"
    )


# Agent replies: quotes and files --------------------------------------------------------------


async def test_a_reply_quotes_a_message_of_the_ticket(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    question = await _write(client, tenant, connection_id, text="e o boleto?", id="q-1")
    reply = await client.post(
        f"/api/tickets/{ticket_id}/messages",
        json={"text": "Segue o boleto", "reply_to": question},
        headers=tenant.headers,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["quoted_channel_id"] == "q-1"
    sent = (await _received(client, tenant, connection_id))[-1]
    assert sent["text"] == "Segue o boleto"
    assert sent["quoted_channel_id"] == "q-1"
    assert _sandbox(app, connection_id).sent[NUMBER][-1].quoted_id == "q-1"
    # The customer quotes our reply back: the quote is kept on their message.
    ours = sent["channel_message_id"]
    answer = await _write(client, tenant, connection_id, text="obrigada", reply_to=ours)
    assert answer is not None
    assert (await _message(client, tenant, answer))["quoted_channel_id"] == ours


async def test_a_reply_to_what_cannot_be_quoted_is_a_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    note = await client.post(
        f"/api/tickets/{ticket_id}/notes", json={"text": "interno"}, headers=tenant.headers
    )
    other_connection = await _connection(client, tenant, queues=False)
    elsewhere = await _write(client, tenant, other_connection, text="oi")
    unsent = await Message.create(
        company_id=tenant.company.id,
        ticket_id=ticket_id,
        connection_id=connection_id,
        direction=Direction.outbound,
        body="na fila",
        status=MessageStatus.failed,
    )
    revoked = await _write(client, tenant, connection_id, text="apagada", id="gone")
    await _write(client, tenant, connection_id, revoke_of="gone")
    for reply_to in (note.json()["id"], elsewhere, unsent.id, revoked, 999_999_999):
        response = await client.post(
            f"/api/tickets/{ticket_id}/messages",
            json={"text": "x", "reply_to": reply_to},
            headers=tenant.headers,
        )
        assert response.status_code == 422, (reply_to, response.text)
        assert "reply_to" in response.json()["error"]["fields"]
    for bad in (0, -1, "abc", 2**40):
        response = await client.post(
            f"/api/tickets/{ticket_id}/messages",
            json={"text": "x", "reply_to": bad},
            headers=tenant.headers,
        )
        assert response.status_code == 422, (bad, response.text)


@pytest.mark.parametrize(
    ("filename", "mime", "kind"),
    [
        ("foto.jpg", "image/jpeg", "image"),
        ("nota.ogg", "audio/ogg", "audio"),
        ("clipe.mp4", "video/mp4", "video"),
        ("boleto.pdf", "application/pdf", "document"),
    ],
)
async def test_an_agent_sends_a_file_by_its_type(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, filename: str, mime: str, kind: str
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    data = b"file-bytes-" + kind.encode()
    response = await client.post(
        f"/api/tickets/{ticket_id}/media",
        files={"file": (filename, data, mime)},
        data={"caption": "segue"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["body"] == "segue"
    assert body["direction"] == "out"
    assert body["sender_user_id"] == tenant.admin.user.id
    assert body["media"] == {
        "type": kind,
        "name": filename,
        "mime": mime,
        "size": len(data),
        "url": f"/api/messages/{body['id']}/media",
    }
    [sent] = [m for m in _sandbox(app, connection_id).sent[NUMBER] if m.message_id == body["id"]]
    assert sent.text == "segue"
    assert sent.media is not None
    assert sent.media.kind == kind
    assert sent.media.path is not None
    parts = Path(sent.media.path).parts
    assert parts[0] == str(tenant.company.id)
    assert len(parts[1]) == 4
    assert len(parts[2]) == 2
    assert parts[3].endswith(Path(filename).suffix)
    assert (_media_dir(app) / sent.media.path).read_bytes() == data
    received = (await _received(client, tenant, connection_id))[-1]
    assert received["media"]["type"] == kind
    assert received["status"] in ("sent", "delivered")
    download = await client.get(body["media"]["url"], headers=tenant.headers)
    assert download.content == data
    ticket = await Ticket.get(id=ticket_id)
    assert ticket.last_message == "segue"


async def test_a_file_without_caption_quoting_a_message(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    question = await _write(client, tenant, connection_id, text="manda a foto", id="q-foto")
    response = await client.post(
        f"/api/tickets/{ticket_id}/media",
        files={"file": ("x.png", PNG, "image/png")},
        data={"reply_to": str(question)},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["body"] == ""
    assert response.json()["quoted_channel_id"] == "q-foto"
    assert _sandbox(app, connection_id).sent[NUMBER][-1].quoted_id == "q-foto"
    assert (await Ticket.get(id=ticket_id)).last_message == "[image]"


async def test_bad_uploads_are_refused_and_leave_no_file(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, media_limit: int
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    url = f"/api/tickets/{ticket_id}/media"
    before = _files_of(app, tenant.company.id)

    async def upload(**kwargs: Any) -> httpx.Response:
        return await client.post(url, headers=tenant.headers, **kwargs)

    too_big = await upload(files={"file": ("big.bin", b"x" * (media_limit + 1))})
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["error"]["code"] == "payload_too_large"
    for not_multipart in ({"json": {"caption": "oi"}}, {"data": {"caption": "oi"}}):
        refused = await upload(**not_multipart)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "bad_request"
    garbled = await client.post(
        url,
        content=b"--b\r\nnonsense\xff\r\n--b--\r\n",
        headers={**tenant.headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert garbled.status_code in (400, 422), garbled.text
    cases: list[tuple[dict[str, Any], str]] = [
        ({"files": {"caption": (None, "sem arquivo")}}, "file"),
        ({"files": {"file": ("vazio.txt", b"")}}, "file"),
        ({"files": {"file": ("a.txt", b"a"), "other": ("b.txt", b"b")}}, "other"),
        ({"files": {"file": ("a.txt", b"a")}, "data": {"color": "red"}}, "color"),
        ({"files": {"file": ("a.txt", b"a")}, "data": {"reply_to": "abc"}}, "reply_to"),
        ({"files": {"file": ("a.txt", b"a")}, "data": {"reply_to": "999999999"}}, "reply_to"),
        ({"files": {"file": ("a.txt", b"a")}, "data": {"caption": "x" * 4097}}, "caption"),
        ({"files": {"file": (None, "not a file")}}, "file"),
    ]
    for kwargs, field in cases:
        response = await upload(**kwargs)
        assert response.status_code == 422, (kwargs, response.text)
        assert field in response.json()["error"]["fields"], (kwargs, response.text)
    assert _files_of(app, tenant.company.id) == before
    assert await Message.filter(ticket_id=ticket_id, media_type__not_isnull=True).count() == 0


async def test_only_who_may_write_sends_a_file(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi")
    await _write(client, tenant, connection_id, text="1")
    ticket = await Ticket.get(connection_id=connection_id)
    queue_id = ticket.queue_id  # type: ignore[attr-defined]
    agent = await tenant.member(Role.agent)
    joined = await client.patch(
        f"/api/users/{agent.user.id}", json={"queue_ids": [queue_id]}, headers=tenant.headers
    )
    assert joined.status_code == 200, joined.text
    files = {"file": ("a.txt", b"a", "text/plain")}
    url = f"/api/tickets/{ticket.id}/media"
    not_accepted = await client.post(url, files=files, headers=agent.headers)
    assert not_accepted.status_code == 409, not_accepted.text
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=agent.headers)
    assert accepted.status_code == 200
    sent = await client.post(url, files=files, headers=agent.headers)
    assert sent.status_code == 201, sent.text
    closed = await client.post(f"/api/tickets/{ticket.id}/close", headers=agent.headers)
    assert closed.status_code == 200
    after_close = await client.post(url, files=files, headers=tenant.headers)
    assert after_close.status_code == 409
    outsider = await tenant.member(Role.agent)
    assert (await client.post(url, files=files, headers=outsider.headers)).status_code == 404
    assert len(_files_of(app, tenant.company.id)) == 1


# Read marks and typing -----------------------------------------------------------------------


async def _marked(client: httpx.AsyncClient, tenant: Tenant, connection_id: int) -> list[str]:
    response = await client.get(
        f"/api/sandbox/{connection_id}/marked-read", params={"to": NUMBER}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    items: list[str] = response.json()["items"]
    return items


async def test_reading_a_ticket_marks_the_unread_messages_read_on_whatsapp(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi", id="r-1")
    await _write(client, tenant, connection_id, text="1", id="r-2")
    ticket = await Ticket.get(connection_id=connection_id)
    assert await _marked(client, tenant, connection_id) == []
    read = await client.post(f"/api/tickets/{ticket.id}/read", headers=tenant.headers)
    assert read.status_code == 200, read.text
    assert read.json()["unread_count"] == 0
    assert await _marked(client, tenant, connection_id) == ["r-1", "r-2"]
    await client.post(f"/api/tickets/{ticket.id}/read", headers=tenant.headers)
    assert await _marked(client, tenant, connection_id) == ["r-1", "r-2"]  # nothing new
    await _write(client, tenant, connection_id, text="alô?", id="r-3")
    await client.post(f"/api/tickets/{ticket.id}/read", headers=tenant.headers)
    assert await _marked(client, tenant, connection_id) == ["r-1", "r-2", "r-3"]


async def test_a_channel_that_cannot_mark_read_or_show_typing_fails_nothing(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    await _write(client, tenant, connection_id, text="alô?")
    channel = _sandbox(app, connection_id)

    async def broken(*args: Any) -> None:
        raise RuntimeError("WhatsApp said no")

    monkeypatch.setattr(channel, "mark_read", broken)
    monkeypatch.setattr(channel, "set_typing", broken)
    read = await client.post(f"/api/tickets/{ticket_id}/read", headers=tenant.headers)
    assert read.status_code == 200, read.text
    assert (await Ticket.get(id=ticket_id)).unread_count == 0
    typing = await client.post(
        f"/api/tickets/{ticket_id}/typing", json={"typing": True}, headers=tenant.headers
    )
    assert typing.status_code == 204, typing.text


async def test_typing_shows_and_stops_for_whoever_may_write(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    ticket_id = await _open_ticket(client, tenant, connection_id)
    url = f"/api/tickets/{ticket_id}/typing"

    async def shown() -> list[bool]:
        response = await client.get(
            f"/api/sandbox/{connection_id}/typing", params={"to": NUMBER}, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        items: list[bool] = response.json()["items"]
        return items

    assert await shown() == []
    on = await client.post(url, json={"typing": True}, headers=tenant.headers)
    assert on.status_code == 204, on.text
    assert on.content == b""
    off = await client.post(url, json={"typing": False}, headers=tenant.headers)
    assert off.status_code == 204
    assert await shown() == [True, False]
    for bad in ({}, {"typing": "maybe"}, {"typing": True, "extra": 1}):
        response = await client.post(url, json=bad, headers=tenant.headers)
        assert response.status_code == 422, (bad, response.text)
    ticket = await Ticket.get(id=ticket_id)
    agent = await tenant.member(Role.agent)
    await agent.user.queues.add(await ticket.queue)  # type: ignore[misc]
    # The ticket is the admin's: a colleague of the queue does not see it.
    assert (await client.post(url, json={"typing": True}, headers=agent.headers)).status_code == 404
    closed = await client.post(f"/api/tickets/{ticket_id}/close", headers=tenant.headers)
    assert closed.status_code == 200
    after = await client.post(url, json={"typing": True}, headers=tenant.headers)
    assert after.status_code == 409
    assert await shown() == [True, False]


async def test_typing_on_a_pending_ticket_is_for_those_who_accepted_it(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    await _write(client, tenant, connection_id, text="oi")
    await _write(client, tenant, connection_id, text="1")
    ticket = await Ticket.get(connection_id=connection_id)
    agent = await tenant.member(Role.agent)
    await agent.user.queues.add(await ticket.queue)  # type: ignore[misc]
    url = f"/api/tickets/{ticket.id}/typing"
    response = await client.post(url, json={"typing": True}, headers=agent.headers)
    assert response.status_code == 409, response.text


async def test_sandbox_reports_are_per_connection_of_the_company(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant)
    for path in ("marked-read", "typing", "outbound"):
        response = await client.get(
            f"/api/sandbox/{connection_id}/{path}", params={"to": "nope"}, headers=tenant.headers
        )
        assert response.status_code == 422, (path, response.text)
        fresh = await client.get(
            f"/api/sandbox/{connection_id}/{path}", params={"to": GROUP}, headers=tenant.headers
        )
        assert fresh.status_code == 200
        assert fresh.json() == {"items": []}
