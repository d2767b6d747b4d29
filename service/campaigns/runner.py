"""The campaign loop: sends each recipient its message, one at a time, at the pace the
campaign allows, from whichever worker runs the campaign's connection.

At most once, never twice. Every send is first *claimed* in one committed transaction that
advances the campaign (`sent_count`, `next_send_at`: a conditional update on the
`sent_count` this worker read, with the campaign row locked `FOR UPDATE SKIP LOCKED` on
Postgres) and moves the recipient out of `queued` (a conditional update on its status).
Only the worker whose two updates both matched a row sends; another one, or a second loop
in the same worker, finds the count moved or the recipient taken and sends nothing. The
claim commits *before* the send, so a crash between the two loses that one message rather
than sending it twice on restart: such a recipient stays `sent` without a channel message
id, and `recover()` (run when a loop starts) marks the ones older than a minute
`failed` with the reason "interrupted". A send the channel refuses is `failed` with its
reason and never retried; one refused because the channel is not connected never left,
and goes back to the queue. A disconnected channel is not claimed for at all.

Confirmation mode sends the confirmation text first (`confirming`); the contact's reply
(actions.confirm_reply) makes the recipient sendable again, and its main message goes at
the campaign's next turn."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from bot.channel import (
    Channel,
    ChannelUnavailable,
    ConnectionState,
    MediaRef,
    OutboundMessage,
    SendFailed,
)
from service.campaigns.actions import apply_receipt, pacing_of, publish_progress
from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from service.campaigns.pacing import Pacing, next_send_at
from service.campaigns.render import contact_variables, pick_variant, render
from service.clock import Clock
from service.connections.models import Channel as ChannelKind
from service.contacts.models import Contact
from service.media import kind_for_mime
from service.outbound import OutboundSender
from service.realtime.broker import Broker

__all__ = ["INTERRUPTED", "CampaignRunner", "Claim"]

log = logging.getLogger("atende.campaigns")

INTERRUPTED = "interrupted"
_HOUR = timedelta(hours=1)
_STALE_CLAIM = timedelta(minutes=1)
# How often a running worker looks for claims a crash (of any worker) left unsent.
REPAIR_INTERVAL = timedelta(minutes=1)
# Opted-out contacts skipped in one turn before giving the turn up (the next tick goes on).
_SKIPS_PER_TURN = 50


class ChannelSource(Protocol):
    """What the runner needs of service.channels.ChannelHub."""

    @property
    def sessions(self) -> Any: ...

    @property
    def sender(self) -> OutboundSender: ...

    async def sandbox(self, connection_id: int) -> Any: ...


class _Lost(Exception):
    """Another loop claimed first: this one sends nothing."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A recipient this loop (and only this one) must now send to."""

    recipient_id: int
    campaign_id: int
    connection_id: int
    to: str
    text: str
    media: MediaRef | None
    previous: RecipientStatus  # where it goes back if the message never left
    status: RecipientStatus  # what the claim made it: sent, or confirming


class CampaignRunner:
    def __init__(
        self,
        *,
        channels: ChannelSource,
        broker: Broker,
        clock: Clock,
        rng: random.Random | None = None,
        interval: float = 1.0,
    ) -> None:
        self._channels = channels
        self._broker = broker
        self._clock = clock
        self._rng = rng or random.Random()
        self._interval = interval
        self._repaired_at: datetime | None = None

    @property
    def interval(self) -> float:
        return self._interval

    async def run_pass(self) -> int:
        """What the loop does every second: repair the claims a crash interrupted (every
        REPAIR_INTERVAL, not only at start), then `tick`."""
        now = self._clock()
        if self._repaired_at is None or now - self._repaired_at >= REPAIR_INTERVAL:
            self._repaired_at = now
            repaired = await self.recover()
            if repaired:
                log.warning("%s campaign sends a crash interrupted marked failed", repaired)
        return await self.tick()

    async def recover(self) -> int:
        """Claims a crash left unsent (no channel message id after a minute) → failed."""
        cutoff = self._clock() - _STALE_CLAIM
        return await CampaignRecipient.filter(
            status__in=[RecipientStatus.sent, RecipientStatus.confirming],
            channel_message_id__isnull=True,
            sent_at__lt=cutoff,
        ).update(status=RecipientStatus.failed, reason=INTERRUPTED)

    async def tick(self) -> int:
        """One pass: start the campaigns whose time came, then give every running campaign
        that is due one send. Returns how many messages went out."""
        now = self._clock()
        await self._start_scheduled(now)
        due = (
            await Campaign.filter(status=CampaignStatus.running)
            .filter(Q(next_send_at__isnull=True) | Q(next_send_at__lte=now))
            .select_related("connection")
            .order_by("id")
        )
        sent = 0
        for campaign in due:
            try:
                if await self._turn(campaign, now):
                    sent += 1
            except Exception:
                log.exception("campaign %s: a turn failed", campaign.id)
        return sent

    async def _start_scheduled(self, now: datetime) -> None:
        # A scheduled campaign whose start was moved to the past, or cleared, starts now.
        ready = await Campaign.filter(status=CampaignStatus.scheduled).filter(
            Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now)
        )
        for campaign in ready:
            started = await Campaign.filter(id=campaign.id, status=CampaignStatus.scheduled).update(
                status=CampaignStatus.running, started_at=now, next_send_at=None
            )
            if started:
                campaign.status = CampaignStatus.running
                await publish_progress(self._broker, campaign, now=now, force=True)

    async def _turn(self, campaign: Campaign, now: datetime) -> bool:
        try:
            pacing = pacing_of(campaign)
        except ValueError:
            log.warning("campaign %s has an impossible pace; it waits", campaign.id)
            return False
        connection_id: int = campaign.connection_id  # type: ignore[attr-defined]
        recent = await self._connection_sends(connection_id, now) if pacing.hourly_cap else []
        # The window and the cap as they are now (another campaign may have sent meanwhile).
        allowed = next_send_at(
            pacing=pacing,
            now=now,
            last_sent_at=None,
            sent_count=campaign.sent_count,
            connection_sends=recent,
            rng=self._rng,
        )
        if allowed > now:
            await Campaign.filter(
                id=campaign.id, status=CampaignStatus.running, sent_count=campaign.sent_count
            ).update(next_send_at=allowed)
            return False
        channel = await self._channel(campaign)
        if channel is None:
            return False
        claim = await self.claim(campaign, now=now, pacing=pacing, recent=recent)
        if claim is None:
            return False
        sent = await self.send(claim, channel)
        await publish_progress(self._broker, campaign, now=now)
        return sent

    async def _connection_sends(self, connection_id: int, now: datetime) -> list[datetime]:
        """When every campaign on the connection sent in the last hour (one query)."""
        rows = await CampaignRecipient.filter(
            campaign__connection_id=connection_id, sent_at__gt=now - _HOUR
        ).values_list("sent_at", flat=True)
        values: list[Any] = list(rows)
        return [row for row in values if isinstance(row, datetime)]

    async def _channel(self, campaign: Campaign) -> Channel | None:
        """The connection's channel if this worker runs it and it is connected: a sandbox
        runs everywhere (started on first use), WhatsApp only on its lease's holder."""
        connection = campaign.connection
        channel = self._channels.sessions.channel(connection.id)
        if channel is None and connection.channel == ChannelKind.sandbox and connection.is_active:
            channel = await self._channels.sandbox(connection.id)
        if channel is None or channel.state is not ConnectionState.connected:
            return None
        return channel  # type: ignore[no-any-return]

    async def _candidate(self, campaign: Campaign) -> CampaignRecipient | None:
        """Who is next: a contact who confirmed first, then the queue in order."""
        if campaign.confirmation_text:
            confirmed = (
                await CampaignRecipient.filter(
                    campaign_id=campaign.id,
                    status=RecipientStatus.confirming,
                    confirmed_at__isnull=False,
                )
                .order_by("confirmed_at", "id")
                .first()
            )
            if confirmed is not None:
                return confirmed
        return (
            await CampaignRecipient.filter(campaign_id=campaign.id, status=RecipientStatus.queued)
            .order_by("id")
            .first()
        )

    async def claim(
        self,
        campaign: Campaign,
        *,
        now: datetime,
        pacing: Pacing | None = None,
        recent: list[datetime] | None = None,
    ) -> Claim | None:
        """Take the campaign's next recipient for this loop, committed before any send;
        None when another loop took it, or nobody is left (the campaign then finishes)."""
        pacing = pacing or pacing_of(campaign)
        seen = campaign.sent_count
        for _ in range(_SKIPS_PER_TURN):
            candidate = await self._candidate(campaign)
            if candidate is None:
                await self._finish_if_done(campaign, now)
                return None
            contact = await Contact.get_or_none(id=candidate.contact_id)  # type: ignore[attr-defined]
            if contact is None or contact.opted_out:
                await CampaignRecipient.filter(id=candidate.id, status=candidate.status).update(
                    status=RecipientStatus.skipped, reason="opted out"
                )
                continue
            values = contact_variables(
                name=contact.name,
                number=contact.number,
                custom_fields=contact.custom_fields,
                now=now,
                timezone=campaign.timezone,
                language=contact.language,
            )
            variant: int | None = None
            if candidate.status is RecipientStatus.queued and campaign.confirmation_text:
                status, text = (
                    RecipientStatus.confirming,
                    render(campaign.confirmation_text, values),
                )
            else:
                variant, template = pick_variant(campaign.variants, self._rng)
                status, text = RecipientStatus.sent, render(template, values)
            following = next_send_at(
                pacing=pacing,
                now=now,
                last_sent_at=now,
                sent_count=seen + 1,
                connection_sends=[*(recent or []), now],
                rng=self._rng,
            )
            try:
                await self._commit_claim(
                    campaign, candidate, seen, now, following, status, text, variant
                )
            except _Lost:
                return None
            return Claim(
                recipient_id=candidate.id,
                campaign_id=campaign.id,
                connection_id=campaign.connection_id,  # type: ignore[attr-defined]
                to=contact.number,
                text=text,
                media=_media_of(campaign) if status is RecipientStatus.sent else None,
                previous=candidate.status,
                status=status,
            )
        return None

    async def _commit_claim(
        self,
        campaign: Campaign,
        candidate: CampaignRecipient,
        seen: int,
        now: datetime,
        following: datetime,
        status: RecipientStatus,
        text: str,
        variant: int | None,
    ) -> None:
        async with in_transaction() as connection:
            if connection.capabilities.dialect == "postgres":
                # Another worker holding the row is claiming it now: leave it this turn.
                locked = (
                    await Campaign.filter(id=campaign.id)
                    .select_for_update(skip_locked=True)
                    .first()
                )
                if locked is None:
                    raise _Lost
            advanced = await Campaign.filter(
                id=campaign.id, status=CampaignStatus.running, sent_count=seen
            ).update(
                sent_count=F("sent_count") + 1,
                last_sent_at=now,
                next_send_at=following,
            )
            if not advanced:
                raise _Lost
            taken = CampaignRecipient.filter(id=candidate.id, status=candidate.status)
            if candidate.status is RecipientStatus.confirming:
                taken = taken.filter(confirmed_at__isnull=False)
            claimed = await taken.update(
                status=status, sent_at=now, body=text, variant=variant, channel_message_id=None
            )
            if not claimed:
                raise _Lost

    async def send(self, claim: Claim, channel: Channel) -> bool:
        """Send a claimed message and record how it went; True when it left."""
        message = OutboundMessage(
            connection_id=claim.connection_id, to=claim.to, text=claim.text, media=claim.media
        )
        mine = CampaignRecipient.filter(
            id=claim.recipient_id, status=claim.status, channel_message_id__isnull=True
        )
        left = False

        async def record(channel_message_id: str) -> None:
            nonlocal left
            left = True
            await CampaignRecipient.filter(id=claim.recipient_id).update(
                channel_message_id=channel_message_id[:128]
            )

        try:
            # Through the one send path: in the chat's turn, receipts held while recording.
            _, early = await self._channels.sender.send_outside(message, channel, record)
        except ChannelUnavailable:
            # It never left: back where it was, sent at the campaign's next turn.
            await mine.update(status=claim.previous, sent_at=None)
            return False
        except SendFailed as exc:
            await mine.update(status=RecipientStatus.failed, reason=exc.reason[:300])
            return False
        except Exception as exc:
            if left:
                raise  # it left; storing its id failed (the repair pass settles it)
            log.exception("campaign %s: a send failed", claim.campaign_id)
            await mine.update(status=RecipientStatus.failed, reason=f"error: {exc!r}"[:300])
            return False
        if early is not None:
            await apply_receipt(
                connection_id=early.connection_id,
                channel_message_id=early.channel_message_id,
                status=early.status,
                at=early.timestamp,
                broker=self._broker,
            )
        return True

    async def _finish_if_done(self, campaign: Campaign, now: datetime) -> None:
        waiting = CampaignRecipient.filter(campaign_id=campaign.id).filter(
            Q(status=RecipientStatus.queued)
            | Q(status=RecipientStatus.confirming, confirmed_at__isnull=False)
        )
        if await waiting.exists():
            return
        finished = await Campaign.filter(id=campaign.id, status=CampaignStatus.running).update(
            status=CampaignStatus.finished, finished_at=now, next_send_at=None
        )
        if finished:
            campaign.status = CampaignStatus.finished
            await publish_progress(self._broker, campaign, now=now, force=True)


def _media_of(campaign: Campaign) -> MediaRef | None:
    if not campaign.media_path:
        return None
    mime = campaign.media_mime or "application/octet-stream"
    return MediaRef(
        kind=kind_for_mime(mime),
        mime_type=mime,
        filename=campaign.media_name,
        path=campaign.media_path,
    )
