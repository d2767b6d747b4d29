"""The neonize channel, fed real neonize protobuf events through neonize's own dispatch, and
sending through a fake of its Go library (tests/helpers/neonize.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from neonize.proto import Neonize_pb2 as N
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E2E
from neonize.utils.enum import MediaType

from bot.channel import (
    ChannelUnavailable,
    ConnectionState,
    GroupRenamed,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    SendFailed,
)
from bot.neonize_channel import NeonizeChannel, parse_jid
from tests.helpers.neonize import (
    FakeGo,
    client_factory,
    group_info_event,
    message_event,
)
from tests.helpers.recorder import Recorder

CUSTOMER = "5511987654321"
MEDIA_LIMIT = 1000


async def until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def settle(channel: NeonizeChannel) -> None:
    """Let neonize's scheduled handlers run, then wait for the lanes they fed."""
    for _ in range(5):
        await asyncio.sleep(0)
    await channel.drain()


class Harness:
    def __init__(self, go: FakeGo, channel: NeonizeChannel, events: Recorder) -> None:
        self.go, self.channel, self.events = go, channel, events

    async def receive(self, event: Any) -> list[InboundMessage]:
        before = len(self.events.messages)
        self.go.emit(event)
        await settle(self.channel)
        return self.events.messages[before:]

    async def one(self, message: E2E.Message, **kwargs: Any) -> InboundMessage:
        received = await self.receive(message_event(message, **kwargs))
        assert len(received) == 1, received
        return received[0]


def make_channel(
    go: FakeGo, tmp_path: Path, *, account: str | None = None, pairing_phone: str | None = None
) -> tuple[NeonizeChannel, list[float]]:
    delays: list[float] = []
    parked = asyncio.Event()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= 3:
            await parked.wait()  # stop retrying: the test has seen enough

    channel = NeonizeChannel(
        7,
        store=str(tmp_path / "whatsapp.sqlite3"),
        account=account,
        pairing_phone=pairing_phone,
        media_dir=tmp_path / "media",
        media_max_bytes=MEDIA_LIMIT,
        client_factory=client_factory(go),
        sleep=sleep,
        rng=random.Random(3),
    )
    return channel, delays


@pytest.fixture
async def wa(tmp_path: Path) -> AsyncIterator[Harness]:
    go = FakeGo()
    channel, _ = make_channel(go, tmp_path, account=f"{go.me}:7@s.whatsapp.net")
    events = Recorder()
    await channel.start(events)
    await until(lambda: go.running)
    go.emit(N.Connected(status=True))
    await settle(channel)
    assert channel.state is ConnectionState.connected
    yield Harness(go, channel, events)
    await channel.stop()


# --- inbound: one test per kind of message ------------------------------------------


async def test_conversation_text(wa: Harness) -> None:
    got = await wa.one(E2E.Message(conversation="oi"), message_id="3EB0A1", push_name="Maria")
    assert got.connection_id == 7
    assert got.channel_message_id == "3EB0A1"
    assert got.sender == f"+{CUSTOMER}"
    assert (got.push_name, got.text) == ("Maria", "oi")
    assert got.timestamp.isoformat() == "2026-01-01T00:00:00+00:00"
    assert (got.from_me, got.group, got.media, got.quoted_id) == (False, None, None, None)


async def test_extended_text_with_a_quote(wa: Harness) -> None:
    quoted = E2E.ContextInfo(stanzaID="3EB0QUOTED", participant=f"{CUSTOMER}@s.whatsapp.net")
    message = E2E.Message(
        extendedTextMessage=E2E.ExtendedTextMessage(text="sobre isso", contextInfo=quoted)
    )
    got = await wa.one(message)
    assert (got.text, got.quoted_id) == ("sobre isso", "3EB0QUOTED")


def _media_fields(**extra: Any) -> dict[str, Any]:
    return {
        "URL": "https://mmg.whatsapp.net/d/f/x",
        "directPath": "/v/t62.7118-24/x",
        "mediaKey": b"m" * 32,
        "fileSHA256": b"s" * 32,
        "fileEncSHA256": b"e" * 32,
        **extra,
    }


@pytest.mark.parametrize(
    ("field", "part", "kind", "caption", "filename"),
    [
        (
            "imageMessage",
            E2E.ImageMessage(caption="a foto", mimetype="image/jpeg", **_media_fields()),
            "image",
            "a foto",
            None,
        ),
        (
            "documentMessage",
            E2E.DocumentMessage(
                caption="o boleto",
                mimetype="application/pdf",
                fileName="boleto.pdf",
                **_media_fields(),
            ),
            "document",
            "o boleto",
            "boleto.pdf",
        ),
        (
            "audioMessage",
            E2E.AudioMessage(mimetype="audio/ogg; codecs=opus", PTT=True, **_media_fields()),
            "audio",
            "",
            None,
        ),
        (
            "videoMessage",
            E2E.VideoMessage(caption="vídeo", mimetype="video/mp4", **_media_fields()),
            "video",
            "vídeo",
            None,
        ),
        (
            "stickerMessage",
            E2E.StickerMessage(mimetype="image/webp", **_media_fields()),
            "sticker",
            "",
            None,
        ),
    ],
)
async def test_media_is_downloaded_into_the_media_dir(
    wa: Harness,
    tmp_path: Path,
    field: str,
    part: Any,
    kind: str,
    caption: str,
    filename: str | None,
) -> None:
    content = f"bytes of a {kind}".encode()
    getattr(part, "fileLength")  # noqa: B009 - every media kind has one
    part.fileLength = len(content)
    wa.go.downloads[field] = content
    got = await wa.one(E2E.Message(**{field: part}), message_id="3EB0MEDIA")
    assert got.text == caption
    media = got.media
    assert media is not None
    assert (media.kind, media.filename, media.size, media.reference) == (
        kind,
        filename,
        len(content),
        None,
    )
    assert media.mime_type == part.mimetype
    assert media.path is not None
    assert not Path(media.path).is_absolute()
    assert (tmp_path / "media" / media.path).read_bytes() == content
    assert Path(media.path).parts[:2] == ("whatsapp", "7")


async def test_media_over_the_limit_is_kept_as_a_reference(wa: Harness, tmp_path: Path) -> None:
    part = E2E.VideoMessage(mimetype="video/mp4", fileLength=MEDIA_LIMIT + 1, **_media_fields())
    wa.go.downloads["videoMessage"] = b"x" * (MEDIA_LIMIT + 1)
    got = await wa.one(E2E.Message(videoMessage=part))
    assert wa.go.download_calls == 0
    assert got.media is not None
    assert (got.media.path, got.media.size) == (None, MEDIA_LIMIT + 1)
    assert got.media.reference is not None
    assert '"direct_path":"/v/t62.7118-24/x"' in got.media.reference
    assert not (tmp_path / "media").exists()


async def test_a_failed_download_keeps_the_message_and_a_reference(wa: Harness) -> None:
    part = E2E.ImageMessage(caption="veja", mimetype="image/png", fileLength=10, **_media_fields())
    got = await wa.one(E2E.Message(imageMessage=part))  # the fake has no bytes for it
    assert got.text == "veja"
    assert got.media is not None
    assert got.media.path is None
    assert got.media.reference


async def test_location(wa: Harness) -> None:
    place = E2E.LocationMessage(
        degreesLatitude=-23.5505, degreesLongitude=-46.6333, name="Loja", address="Av. Paulista"
    )
    got = await wa.one(E2E.Message(locationMessage=place))
    assert got.text == "📍 Loja — Av. Paulista\nhttps://maps.google.com/?q=-23.550500,-46.633300"
    assert got.media == MediaRef(kind="location")


async def test_contact_card(wa: Harness) -> None:
    vcard = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:João\n"
        "TEL;type=CELL;waid=5521999998888:+55 21 99999-8888\nEND:VCARD"
    )
    got = await wa.one(
        E2E.Message(contactMessage=E2E.ContactMessage(displayName="João", vcard=vcard))
    )
    assert got.text == "👤 João: +5521999998888"
    assert got.media == MediaRef(kind="contact")


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (
            E2E.Message(
                buttonsResponseMessage=E2E.ButtonsResponseMessage(
                    selectedButtonID="btn-2", selectedDisplayText="Financeiro"
                )
            ),
            "Financeiro",
        ),
        (
            E2E.Message(
                listResponseMessage=E2E.ListResponseMessage(
                    title="Suporte",
                    singleSelectReply=E2E.ListResponseMessage.SingleSelectReply(selectedRowID="1"),
                )
            ),
            "Suporte",
        ),
        (
            E2E.Message(
                templateButtonReplyMessage=E2E.TemplateButtonReplyMessage(
                    selectedID="t-1", selectedDisplayText="Sim"
                )
            ),
            "Sim",
        ),
        (
            E2E.Message(
                interactiveResponseMessage=E2E.InteractiveResponseMessage(
                    nativeFlowResponseMessage=E2E.InteractiveResponseMessage.NativeFlowResponseMessage(
                        name="quick_reply", paramsJSON='{"id": "2", "title": "Vendas"}'
                    )
                )
            ),
            "Vendas",
        ),
    ],
)
async def test_button_and_list_replies_arrive_as_text(
    wa: Harness, message: E2E.Message, text: str
) -> None:
    assert (await wa.one(message)).text == text


async def test_lid_sender_with_its_phone_number_in_the_event(wa: Harness) -> None:
    got = await wa.one(
        E2E.Message(conversation="oi"),
        sender="123456789012345",
        sender_server="lid",
        sender_alt=CUSTOMER,
    )
    assert got.sender == f"+{CUSTOMER}"


async def test_lid_sender_mapped_through_the_store(wa: Harness) -> None:
    wa.go.lid_numbers["99887766"] = "5521988887777"
    got = await wa.one(E2E.Message(conversation="oi"), sender="99887766", sender_server="lid")
    assert got.sender == "+5521988887777"


async def test_lid_sender_without_a_number_is_logged_not_lost_silently(
    wa: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    event = message_event(E2E.Message(conversation="oi"), sender="424242", sender_server="lid")
    with caplog.at_level(logging.WARNING, logger="atende.whatsapp"):
        assert await wa.receive(event) == []
    assert "no phone number for this LID" in caplog.text
    assert "connection 7" in caplog.text


async def test_group_message_names_the_group_and_the_participant(wa: Harness) -> None:
    got = await wa.one(E2E.Message(conversation="bom dia"), group="120363025246125244")
    assert got.group == "120363025246125244@g.us"
    assert got.sender == f"+{CUSTOMER}"


GROUP_USER = "120363025246125244"


async def test_a_group_s_first_message_brings_its_subject_asked_once(wa: Harness) -> None:
    wa.go.group_subjects[GROUP_USER] = "Clientes VIP"
    first = await wa.one(E2E.Message(conversation="bom dia"), group=GROUP_USER)
    second = await wa.one(E2E.Message(conversation="tudo bem?"), group=GROUP_USER)
    assert first.group_subject == "Clientes VIP"
    assert second.group_subject is None  # the service has it: not asked on every message
    assert wa.go.group_info_calls == [GROUP_USER]
    # Reconnected: renames missed meanwhile are caught by asking again.
    wa.go.emit(N.Connected(status=True))
    await settle(wa.channel)
    third = await wa.one(E2E.Message(conversation="voltei"), group=GROUP_USER)
    assert third.group_subject == "Clientes VIP"
    assert wa.go.group_info_calls == [GROUP_USER, GROUP_USER]
    chat = await wa.one(E2E.Message(conversation="oi"))
    assert chat.group_subject is None
    assert wa.go.group_info_calls == [GROUP_USER, GROUP_USER]  # not for a customer's chat


async def test_a_group_without_info_still_delivers_its_message(
    wa: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="atende.whatsapp"):
        got = await wa.one(E2E.Message(conversation="bom dia"), group=GROUP_USER)
    assert (got.group, got.group_subject) == (f"{GROUP_USER}@g.us", None)
    assert "no subject for group" in caplog.text


async def test_a_new_subject_is_reported_as_a_rename_and_other_changes_are_not(
    wa: Harness,
) -> None:
    wa.go.emit(group_info_event(GROUP_USER, topic="Regras: sem spam"))
    wa.go.emit(group_info_event(GROUP_USER, subject="Clientes Ouro"))
    await settle(wa.channel)
    assert wa.events.renames == [GroupRenamed(7, f"{GROUP_USER}@g.us", "Clientes Ouro")]


async def test_a_message_sent_from_the_business_phone(wa: Harness) -> None:
    got = await wa.one(
        E2E.Message(conversation="já te respondo"),
        sender=wa.go.me,
        chat=CUSTOMER,
        from_me=True,
    )
    assert got.from_me is True
    assert got.sender == f"+{CUSTOMER}"


async def test_an_edit_names_the_message_and_brings_the_new_text(wa: Harness) -> None:
    edit = E2E.ProtocolMessage(
        key=MessageKey(ID="3EB0ORIGINAL"),
        type=E2E.ProtocolMessage.MESSAGE_EDIT,
        editedMessage=E2E.Message(conversation="texto corrigido"),
    )
    got = await wa.one(E2E.Message(protocolMessage=edit))
    assert (got.edit_of, got.text, got.revoke_of) == ("3EB0ORIGINAL", "texto corrigido", None)


async def test_a_revoke_names_the_message(wa: Harness) -> None:
    revoke = E2E.ProtocolMessage(key=MessageKey(ID="3EB0GONE"), type=E2E.ProtocolMessage.REVOKE)
    got = await wa.one(E2E.Message(protocolMessage=revoke))
    assert (got.revoke_of, got.text) == ("3EB0GONE", "")


async def test_nothing_to_show_delivers_nothing(wa: Harness) -> None:
    reaction = E2E.Message(reactionMessage=E2E.ReactionMessage(text="👍"))
    keys = E2E.Message(
        protocolMessage=E2E.ProtocolMessage(type=E2E.ProtocolMessage.APP_STATE_SYNC_KEY_SHARE)
    )
    assert await wa.receive(message_event(reaction)) == []
    assert await wa.receive(message_event(keys)) == []


# --- receipts -----------------------------------------------------------------------


def _receipt(kind: int, ids: list[str], *, from_me: bool = False) -> Any:
    source = N.MessageSource(
        Chat=parse_jid(f"{CUSTOMER}@s.whatsapp.net"),
        Sender=parse_jid(f"{CUSTOMER}@s.whatsapp.net"),
        IsFromMe=from_me,
        IsGroup=False,
    )
    return N.Receipt(MessageSource=source, MessageIDs=ids, Timestamp=1767225660000, Type=kind)


async def test_receipts_become_delivered_read_and_played(wa: Harness) -> None:
    wa.go.emit(_receipt(N.Receipt.DELIVERED, ["A", "B"]))
    wa.go.emit(_receipt(N.Receipt.READ, ["A"]))
    wa.go.emit(_receipt(N.Receipt.PLAYED, ["C"]))
    wa.go.emit(_receipt(N.Receipt.READ_SELF, ["D"], from_me=True))
    wa.go.emit(_receipt(N.Receipt.RETRY, ["E"]))
    await settle(wa.channel)
    got = [(r.channel_message_id, r.status) for r in wa.events.receipts]
    assert got == [("A", "delivered"), ("B", "delivered"), ("A", "read"), ("C", "played")]
    assert wa.events.receipts[0].timestamp.isoformat() == "2026-01-01T00:01:00+00:00"


# --- order and failures -------------------------------------------------------------


async def test_one_chat_in_order_other_chats_alongside_and_failures_logged(
    wa: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """neonize runs handlers concurrently and drops their exceptions; the channel doesn't."""
    release = asyncio.Event()
    handled: list[str] = []
    original = wa.events.on_message

    async def slow_then_failing(message: InboundMessage) -> None:
        if message.text == "first":
            await release.wait()
        if message.text == "boom":
            raise RuntimeError("database went away")
        handled.append(message.text)
        await original(message)

    wa.events.on_message = slow_then_failing  # type: ignore[method-assign]
    for text in ("first", "boom", "second"):
        wa.go.emit(message_event(E2E.Message(conversation=text)))
    wa.go.emit(message_event(E2E.Message(conversation="other chat"), sender="5531977776666"))
    await until(lambda: handled == ["other chat"])
    release.set()
    with caplog.at_level(logging.ERROR, logger="atende.whatsapp"):
        await settle(wa.channel)
    assert handled == ["other chat", "first", "second"]
    assert "connection 7: message 3EB0IN" in caplog.text
    assert "failed" in caplog.text
    assert "database went away" in caplog.text


# --- outbound -----------------------------------------------------------------------


def _out(text: str, **kwargs: Any) -> OutboundMessage:
    return OutboundMessage(connection_id=7, to=f"+{CUSTOMER}", text=text, **kwargs)


async def test_text_goes_out_as_a_conversation_to_the_customer(wa: Harness) -> None:
    channel_id = await wa.channel.send(_out("Olá!"))
    assert channel_id.startswith("3EB0OUT")
    (sent,) = wa.go.sent
    assert (sent.to.User, sent.to.Server) == (CUSTOMER, "s.whatsapp.net")
    assert sent.message == E2E.Message(conversation="Olá!")


async def test_a_reply_quotes_the_customer_message(wa: Harness) -> None:
    await wa.channel.send(_out("Sim, está pago.", quoted_id="3EB0Q", quoted_text="Paguei?"))
    message = wa.go.sent[0].message
    extended = message.extendedTextMessage
    assert extended.text == "Sim, está pago."
    assert extended.contextInfo.stanzaID == "3EB0Q"
    assert extended.contextInfo.participant == f"{CUSTOMER}@s.whatsapp.net"
    assert extended.contextInfo.quotedMessage.conversation == "Paguei?"


async def test_to_a_group(wa: Harness) -> None:
    await wa.channel.send(
        OutboundMessage(connection_id=7, to="120363025246125244@g.us", text="Bom dia, grupo")
    )
    assert (wa.go.sent[0].to.User, wa.go.sent[0].to.Server) == ("120363025246125244", "g.us")


@pytest.mark.parametrize(
    ("kind", "mime", "filename", "field", "upload_type"),
    [
        ("image", "image/png", "foto.png", "imageMessage", MediaType.MediaImage),
        ("document", "application/pdf", "boleto.pdf", "documentMessage", MediaType.MediaDocument),
        ("audio", "audio/ogg", "nota.ogg", "audioMessage", MediaType.MediaAudio),
        ("video", "video/mp4", "clip.mp4", "videoMessage", MediaType.MediaVideo),
    ],
)
async def test_media_is_uploaded_then_sent(
    wa: Harness,
    tmp_path: Path,
    kind: str,
    mime: str,
    filename: str,
    field: str,
    upload_type: MediaType,
) -> None:
    stored = tmp_path / "media" / "1" / "2026" / "01" / f"x-{filename}"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"the file")
    media = MediaRef(
        kind=kind,  # type: ignore[arg-type]
        mime_type=mime,
        filename=filename,
        path=str(stored.relative_to(tmp_path / "media")),
        size=8,
    )
    await wa.channel.send(_out("legenda", media=media, quoted_id="3EB0Q"))
    assert wa.go.uploads == [(b"the file", upload_type.value)]
    part = getattr(wa.go.sent[0].message, field)
    assert (part.mimetype, part.fileLength, part.directPath) == (mime, 8, "/v/t62/x")
    assert part.mediaKey == b"k" * 32
    assert part.contextInfo.stanzaID == "3EB0Q"
    if kind in ("image", "video", "document"):
        assert part.caption == "legenda"
    if kind == "document":
        assert part.fileName == filename


async def test_a_missing_media_file_fails_the_message_with_a_reason(wa: Harness) -> None:
    media = MediaRef(kind="image", mime_type="image/png", filename="x.png", path="gone/x.png")
    with pytest.raises(SendFailed, match="media file unreadable"):
        await wa.channel.send(_out("", media=media))


async def test_whatsapp_refusing_a_message_fails_it_with_the_reason(wa: Harness) -> None:
    wa.go.send_error = "server returned error 479"
    with pytest.raises(SendFailed, match="479") as failure:
        await wa.channel.send(_out("oi"))
    assert not isinstance(failure.value, ChannelUnavailable)


async def test_mark_read_and_typing(wa: Harness) -> None:
    await wa.channel.mark_read(f"+{CUSTOMER}", ["3EB0A", "3EB0B"])
    await wa.channel.set_typing(f"+{CUSTOMER}", True)
    await wa.channel.set_typing(f"+{CUSTOMER}", False)
    ((ids, chat, receipt),) = wa.go.marked_read
    assert (ids, chat.User, receipt) == (["3EB0A", "3EB0B"], CUSTOMER, b"read")
    assert [state for _, state in wa.go.presences] == [0, 1]  # composing, then paused


async def test_disconnected_sends_wait(wa: Harness) -> None:
    wa.go.emit(N.Disconnected(status=True))
    await settle(wa.channel)
    assert wa.channel.state is ConnectionState.disconnected
    with pytest.raises(ChannelUnavailable):
        await wa.channel.send(_out("oi"))
    wa.go.emit(N.Connected(status=True))
    await settle(wa.channel)
    await wa.channel.send(_out("oi"))
    assert len(wa.go.sent) == 1


# --- login and the life of the link -------------------------------------------------


async def test_qr_login_then_connected_with_the_account(tmp_path: Path) -> None:
    go = FakeGo()
    channel, _ = make_channel(go, tmp_path)
    events = Recorder()
    await channel.start(events)
    await until(lambda: go.running)
    assert go.starts[0]["new_device"] is True
    assert go.starts[0]["jid"] is None
    go.show_qr("2@first-code")
    go.show_qr("2@second-code")
    await settle(channel)
    assert [s.qr_code for s in events.states if s.state is ConnectionState.qrcode] == [
        "2@first-code",
        "2@second-code",
    ]
    go.emit(N.Connected(status=True))
    await settle(channel)
    last = events.states[-1]
    assert (last.state, last.account) == (
        ConnectionState.connected,
        "5511900000000:7@s.whatsapp.net",
    )
    await channel.stop()
    assert events.states[-1].state is ConnectionState.disconnected


async def test_a_pairing_code_for_a_phone_number(tmp_path: Path) -> None:
    go = FakeGo()
    channel, _ = make_channel(go, tmp_path, pairing_phone="+55 11 98765-4321")
    events = Recorder()
    await channel.start(events)
    await until(lambda: go.running)
    go.show_qr("2@code")
    go.show_qr("2@code-2")
    await settle(channel)
    assert go.paired_phones == [CUSTOMER]  # asked once, digits only
    codes = [s.pairing_code for s in events.states if s.state is ConnectionState.qrcode]
    assert codes == ["ABCD-1234", None]
    await channel.stop()


async def test_an_existing_session_is_resumed_by_its_account(tmp_path: Path) -> None:
    go = FakeGo()
    channel, _ = make_channel(go, tmp_path, account="5511900000000:7@s.whatsapp.net")
    await channel.start(Recorder())
    await until(lambda: go.running)
    jid = go.starts[0]["jid"]
    assert (jid.User, jid.Device, jid.Server) == ("5511900000000", 7, "s.whatsapp.net")
    assert go.starts[0]["new_device"] is False
    await channel.stop()


async def test_a_logout_from_the_phone_asks_for_a_new_qr(wa: Harness) -> None:
    wa.go.emit(N.LoggedOut(OnConnect=False, Reason=N.ConnectFailureReason.LOGGED_OUT))
    await until(lambda: len(wa.go.starts) == 2 and wa.go.running)
    states = [s.state for s in wa.events.states]
    assert states[-2:] == [ConnectionState.logged_out, ConnectionState.connecting]
    assert wa.go.starts[1]["new_device"] is True
    assert wa.go.starts[1]["jid"] is None
    wa.go.show_qr("2@new")
    await settle(wa.channel)
    assert wa.events.states[-1].qr_code == "2@new"


async def test_a_temporary_ban_is_reported(wa: Harness) -> None:
    wa.go.emit(N.TemporaryBan(Code=N.TemporaryBan.SEND_TO_TOO_MANY_PEOPLE, Expire=3600))
    await settle(wa.channel)
    last = wa.events.states[-1]
    assert last.state is ConnectionState.banned
    assert last.detail == "SEND_TO_TOO_MANY_PEOPLE, for 3600 s"


async def test_unreachable_whatsapp_retries_with_growing_jittered_delays(tmp_path: Path) -> None:
    go = FakeGo(connect_error="failed to dial whatsapp web websocket: no such host")
    channel, delays = make_channel(go, tmp_path)
    events = Recorder()
    await channel.start(events)
    await until(lambda: len(delays) == 3)
    assert len(go.starts) == 3
    assert 0 <= delays[0] <= 2
    assert 0 <= delays[1] <= 4
    assert 0 <= delays[2] <= 8
    failures = [s for s in events.states if s.state is ConnectionState.disconnected]
    assert failures
    assert all("no such host" in s.detail for s in failures)
    assert channel.state is ConnectionState.disconnected
    await channel.stop()


async def test_the_real_library_without_network_reports_and_stops_cleanly(tmp_path: Path) -> None:
    """No fake: neonize's Go core, a SQLite session store, and no route to WhatsApp."""
    channel = NeonizeChannel(
        9,
        store=str(tmp_path / "whatsapp.sqlite3"),
        account=None,
        pairing_phone=None,
        media_dir=tmp_path / "media",
        media_max_bytes=MEDIA_LIMIT,
    )
    events = Recorder()
    await channel.start(events)
    await until(
        lambda: any(s.state is ConnectionState.disconnected for s in events.states), within=20
    )
    failure = next(s for s in events.states if s.state is ConnectionState.disconnected)
    assert "dial" in failure.detail or "websocket" in failure.detail, failure.detail
    with pytest.raises(ChannelUnavailable):
        await channel.send(_out("oi"))
    await channel.stop()
    assert channel.state is ConnectionState.disconnected
