"""Real neonize clients with a fake Go library underneath, and real protobuf events.

`FakeGo` stands in for neonize's Go core (the object behind `NewAClient._NewAClient__client`):
it answers the calls the channel makes with the protobufs Go would return, records what
would have gone to WhatsApp, and drives the client through the same ctypes callbacks Go
uses (QR codes, events)."""

from __future__ import annotations

import asyncio
import ctypes
import itertools
from dataclasses import dataclass, field
from typing import Any

from neonize.aioze.client import NewAClient
from neonize.events import EVENT_TO_INT, MessageEv
from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message
from neonize.utils.jid import build_jid

EMPTY_JID = build_jid("", "")
_ids = itertools.count(1)


@dataclass
class Sent:
    to: Any
    message: Any


@dataclass
class FakeGo:
    """What the channel asked of WhatsApp, and switches for how WhatsApp answers."""

    me: str = "5511900000000"
    connect_error: str = ""
    send_error: str = ""
    downloads: dict[str, bytes] = field(default_factory=dict)
    lid_numbers: dict[str, str] = field(default_factory=dict)
    group_subjects: dict[str, str] = field(default_factory=dict)  # group's user part → subject
    group_info_calls: list[str] = field(default_factory=list)
    pairing_code: str = "ABCD-1234"
    sent: list[Sent] = field(default_factory=list)
    uploads: list[tuple[bytes, int]] = field(default_factory=list)
    marked_read: list[tuple[list[str], Any, bytes]] = field(default_factory=list)
    presences: list[tuple[Any, int]] = field(default_factory=list)
    paired_phones: list[str] = field(default_factory=list)
    download_calls: int = 0
    logouts: int = 0
    starts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stopped = asyncio.Event()
        self._callbacks: dict[str, Any] = {}

    # -- the Go functions neonize calls ---------------------------------------------

    async def Neonize(self, *args: Any) -> bytes:
        jid = N.JID.FromString(args[2]) if args[3] else None
        self.starts.append({"uuid": args[1], "jid": jid, "new_device": bool(args[4])})
        self._callbacks = {"qr": args[6], "event": args[8], "subscribed": bytes(args[10])}
        self._stopped = asyncio.Event()
        if self.connect_error:
            return self.connect_error.encode()
        await self._stopped.wait()
        return b""

    async def Stop(self, uuid: bytes) -> None:
        self._stopped.set()

    async def Logout(self, uuid: bytes) -> bytes:
        self.logouts += 1
        return b""

    async def GetMe(self, uuid: bytes) -> bytes:
        jid = build_jid(self.me)
        jid.Device = 7
        return N.Device(JID=jid, LID=EMPTY_JID, Initialized=True).SerializePartialToString()

    async def SendMessage(self, uuid: bytes, to: bytes, _n: int, msg: bytes, _m: int) -> bytes:
        if self.send_error:
            return N.SendMessageReturnFunction(Error=self.send_error).SerializePartialToString()
        self.sent.append(Sent(N.JID.FromString(to), Message.FromString(msg)))
        response = N.SendResponse(ID=f"3EB0OUT{next(_ids):04d}", Timestamp=1767225600)
        return N.SendMessageReturnFunction(SendResponse=response).SerializePartialToString()

    async def Upload(self, uuid: bytes, data: bytes, _n: int, media_type: int) -> bytes:
        self.uploads.append((data, media_type))
        response = N.UploadResponse(
            url="https://mmg.whatsapp.net/x",
            DirectPath="/v/t62/x",
            MediaKey=b"k" * 32,
            FileEncSHA256=b"e" * 32,
            FileSHA256=b"s" * 32,
            FileLength=len(data),
        )
        return N.UploadReturnFunction(UploadResponse=response).SerializePartialToString()

    async def DownloadAny(self, uuid: bytes, msg: bytes, _n: int) -> bytes:
        self.download_calls += 1
        message = Message.FromString(msg)
        for name, data in self.downloads.items():
            if message.HasField(name):
                return N.DownloadReturnFunction(Binary=data).SerializePartialToString()
        error = "didn't find any attachments in message"
        return N.DownloadReturnFunction(Error=error).SerializePartialToString()

    async def GetPNFromLID(self, uuid: bytes, jid: bytes, _n: int) -> bytes:
        lid = N.JID.FromString(jid)
        number = self.lid_numbers.get(lid.User)
        if number is None:
            model = N.GetJIDFromStoreReturnFunction(Error="no mapping for this lid")
        else:
            model = N.GetJIDFromStoreReturnFunction(Jid=build_jid(number))
        return model.SerializePartialToString()

    async def GetGroupInfo(self, uuid: bytes, jid: bytes, _n: int) -> bytes:
        group = N.JID.FromString(jid).User
        self.group_info_calls.append(group)
        subject = self.group_subjects.get(group)
        if subject is None:
            model = N.GetGroupInfoReturnFunction(Error="info query returned status 404")
        else:
            model = N.GetGroupInfoReturnFunction(GroupInfo=group_info(group, subject))
        return model.SerializePartialToString()

    async def PairPhone(self, uuid: bytes, payload: bytes, _n: int) -> bytes:
        self.paired_phones.append(N.PairPhoneParams.FromString(payload).phone)
        return N.PairPhoneReturnFunction(Code=self.pairing_code).SerializePartialToString()

    async def MarkRead(
        self,
        uuid: bytes,
        ids: bytes,
        _ts: int,
        chat: bytes,
        _c: int,
        sender: bytes,
        _s: int,
        receipt: bytes,
    ) -> bytes:
        self.marked_read.append((ids.decode().split(" "), N.JID.FromString(chat), receipt))
        return b""

    async def SendChatPresence(
        self, uuid: bytes, jid: bytes, _n: int, state: int, media: int
    ) -> bytes:
        self.presences.append((N.JID.FromString(jid), state))
        return b""

    # -- Go calling back into Python ------------------------------------------------

    def show_qr(self, code: str) -> None:
        buffer = ctypes.create_string_buffer(code.encode())
        self._callbacks["qr"](None, ctypes.addressof(buffer))

    def emit(self, event: Any) -> None:
        """Deliver an event the way Go does, if the client subscribed to its type."""
        code = EVENT_TO_INT[type(event)]
        if code not in self._callbacks["subscribed"]:
            return
        raw = event.SerializePartialToString()
        buffer = ctypes.create_string_buffer(raw, len(raw))
        self._callbacks["event"](b"uuid", ctypes.addressof(buffer), len(raw), code)

    @property
    def running(self) -> bool:
        return bool(self._callbacks) and not self._stopped.is_set()


def client_factory(go: FakeGo) -> Any:
    """A NewAClient factory whose clients talk to `go` instead of the Go library."""

    def make(*args: Any, **kwargs: Any) -> NewAClient:
        client = NewAClient(*args, **kwargs)
        client._NewAClient__client = go  # type: ignore[attr-defined]
        return client

    return make


def group_name(subject: str) -> Any:
    return N.GroupName(Name=subject, NameSetAt=1767225600, NameSetBy=EMPTY_JID)


def group_info(group: str, subject: str) -> Any:
    """A complete `GroupInfo`, as whatsmeow's GetGroupInfo answers (every field is required)."""
    info = N.GroupInfo(
        OwnerJID=EMPTY_JID,
        JID=build_jid(group, "g.us"),
        OwnerPN=EMPTY_JID,
        GroupName=group_name(subject),
        GroupTopic=N.GroupTopic(
            Topic="", TopicID="", TopicSetAt=0, TopicSetBy=EMPTY_JID, TopicDeleted=False
        ),
        GroupLocked=N.GroupLocked(isLocked=False),
        GroupAnnounce=N.GroupAnnounce(IsAnnounce=False, AnnounceVersionID=""),
        GroupEphemeral=N.GroupEphemeral(IsEphemeral=False, DisappearingTimer=0),
        GroupIncognito=N.GroupIncognito(IsIncognito=False),
        GroupParent=N.GroupParent(IsParent=False, DefaultMembershipApprovalMode=""),
        GroupLinkedParent=N.GroupLinkedParent(LinkedParentJID=EMPTY_JID),
        GroupIsDefaultSub=N.GroupIsDefaultSub(IsDefaultSubGroup=False),
        GroupCreated=1767225600,
        ParticipantVersionID="",
    )
    assert info.IsInitialized()
    return info


def group_info_event(group: str, *, subject: str | None = None, topic: str | None = None) -> Any:
    """whatsmeow's GroupInfo event: a new subject (`Name`), or a new description (`Topic`)."""
    event = N.GroupInfoEvent(
        JID=build_jid(group, "g.us"),
        Notify="",
        Sender=build_jid("5511987654321"),
        Timestamp=1767225600,
        PrevParticipantsVersionID="",
        ParticipantVersionID="",
        JoinReason="",
    )
    if subject is not None:
        event.Name.CopyFrom(group_name(subject))
    if topic is not None:
        event.Topic.CopyFrom(
            N.GroupTopic(
                Topic=topic, TopicID="t1", TopicSetAt=0, TopicSetBy=EMPTY_JID, TopicDeleted=False
            )
        )
    assert event.IsInitialized()
    return event


def message_event(
    message: Message,
    *,
    sender: str = "5511987654321",
    chat: str | None = None,
    push_name: str = "Maria",
    message_id: str | None = None,
    from_me: bool = False,
    group: str | None = None,
    sender_server: str = "s.whatsapp.net",
    sender_alt: str | None = None,
    recipient_alt: str | None = None,
    timestamp_ms: int = 1767225600000,
) -> Any:
    """A complete `MessageEv`, built as shared/research/neonize-and-rasa-sdk.md A4 shows."""
    sender_jid = build_jid(sender, sender_server)
    if group is not None:
        chat_jid = build_jid(group, "g.us")
    else:
        chat_jid = build_jid(chat, "s.whatsapp.net") if chat else sender_jid
    source = N.MessageSource(
        Chat=chat_jid,
        Sender=sender_jid,
        IsFromMe=from_me,
        IsGroup=group is not None,
        SenderAlt=build_jid(sender_alt) if sender_alt else EMPTY_JID,
        RecipientAlt=build_jid(recipient_alt) if recipient_alt else EMPTY_JID,
        BroadcastListOwner=EMPTY_JID,
    )
    event = MessageEv(
        Info=N.MessageInfo(
            MessageSource=source,
            ID=message_id or f"3EB0IN{next(_ids):06d}",
            ServerID=0,
            Type="text",
            Pushname=push_name,
            Timestamp=timestamp_ms,
            Category="",
            Multicast=False,
            MediaType="",
            Edit="",
        ),
        Message=message,
        IsEphemeral=False,
        IsViewOnce=False,
        IsViewOnceV2=False,
        IsViewOnceV2Extension=False,
        IsDocumentWithCaption=False,
        IsLottieSticker=False,
        IsEdit=False,
        UnavailableRequestID="",
        RetryCount=0,
    )
    assert event.IsInitialized()
    return event
