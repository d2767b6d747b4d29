"""WhatsApp's chat ids (JIDs) as the service names chats: a person by their number, a group by
its JID. A channel translates what WhatsApp gives (`…@s.whatsapp.net`, a LID `…@lid` mapped to
the number behind it, `…@g.us`) into these before the service sees a message, so that the
service never has to know WhatsApp's formats."""

from __future__ import annotations

import re

__all__ = ["MAX_CHAT_LENGTH", "is_group_jid"]

# "120363025246125244@g.us", or the older "<creator>-<timestamp>@g.us"; it is the group's
# contact number, so it must fit that column.
_GROUP_JID = re.compile(r"^[0-9]{1,20}(-[0-9]{1,20})?@g\.us$")
MAX_CHAT_LENGTH = 32


def is_group_jid(value: str) -> bool:
    """Whether `value` is a WhatsApp group's JID that can be kept as a contact's number."""
    return len(value) <= MAX_CHAT_LENGTH and _GROUP_JID.match(value) is not None
