"""analytics.segments: every filter and the RFM scores on hand-built frames (the expected
members and scores written out), then a segment pushed into a contact list through the
service's actions and used by a campaign started over the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
from sanic import Sanic

from analytics import segments
from service.audiences.models import ContactList, ContactListMember
from service.audit.models import AuditLog
from service.campaigns.models import CampaignRecipient
from tests.factories import Tenant, unique
from tests.helpers.campaigns import (
    campaign_body,
    create_campaign,
    make_contacts,
    sandbox_connection,
    without_receipts,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

_DIRECTIONS = ["in", "out"]
_RECIPIENT_STATUSES = ["queued", "confirming", "sent", "delivered", "read", "failed", "skipped"]


def _ago(days: float) -> pd.Timestamp:
    return pd.Timestamp(NOW - timedelta(days=days))


def _contacts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A contacts frame shaped like load.contacts (only the columns segments use)."""
    defaults = {"opted_out": False, "is_group": False, "tags": [], "custom_fields": {}}
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["name"] = frame["name"].astype("string")
    frame["number"] = [f"+5511900000{i:03d}" for i in frame["id"]]
    return frame


def _messages(rows: list[tuple[int, str, float, bool]]) -> pd.DataFrame:
    """(contact_id, direction, days before NOW, is_note) → a messages frame."""
    return pd.DataFrame(
        {
            "contact_id": [r[0] for r in rows],
            "direction": pd.Categorical([r[1] for r in rows], categories=_DIRECTIONS),
            "is_note": [r[3] for r in rows],
            "from_bot": False,
            "created_at": pd.to_datetime([_ago(r[2]) for r in rows], utc=True),
        }
    )


def _tickets(rows: list[tuple[int, float, int | None]]) -> pd.DataFrame:
    """(contact_id, days before NOW, campaign_id) → a tickets frame."""
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "contact_id": [r[0] for r in rows],
            "campaign_id": pd.array([r[2] for r in rows], dtype="Int64"),
            "created_at": pd.to_datetime([_ago(r[1]) for r in rows], utc=True),
        }
    )


def _recipients(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    """(campaign_id, contact_id, status) → a recipients frame."""
    statuses = [r[2] for r in rows]
    return pd.DataFrame(
        {
            "campaign_id": [r[0] for r in rows],
            "contact_id": [r[1] for r in rows],
            "status": pd.Categorical(statuses, categories=_RECIPIENT_STATUSES),
            "read_at": pd.to_datetime(
                [_ago(1) if s == "read" else None for s in statuses], utc=True
            ),
        }
    )


# Filters ----------------------------------------------------------------------------------

PEOPLE = _contacts(
    [
        {"id": 1, "name": "Ana", "tags": ["sp", "vip"], "custom_fields": {"city": "São Paulo"}},
        {
            "id": 2,
            "name": "Bia",
            "tags": ["vip"],
            "custom_fields": {"city": "Recife", "vip_since": ""},
        },
        {
            "id": 3,
            "name": "Caio",
            "tags": ["sp"],
            "custom_fields": {"city": "sao paulo", "news": True},
        },
        {"id": 4, "name": "Davi"},
        {"id": 5, "name": "Eva", "tags": ["vip"], "opted_out": True},
        {"id": 6, "name": "Grupo", "tags": ["vip"], "is_group": True},
    ]
)
# Ana wrote recently, Bia long ago (and we wrote to her since), Caio only has a note.
MESSAGES = _messages(
    [
        (1, "in", 9, False),
        (1, "out", 8, False),
        (2, "in", 60, False),
        (2, "out", 5, False),
        (3, "in", 3, True),
    ]
)
# Ana: two tickets; Bia answered campaign 7; Davi answered campaign 8.
TICKETS = _tickets([(1, 20, None), (1, 9, None), (2, 50, 7), (4, 30, 8)])
RECIPIENTS = _recipients([(7, 1, "delivered"), (7, 2, "read"), (7, 3, "failed"), (8, 4, "sent")])


def _ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [1, 2, 3, 4]),
        ({"include_opted_out": True}, [1, 2, 3, 4, 5]),
        ({"include_groups": True}, [1, 2, 3, 4, 6]),
        ({"tags_any": ["vip"]}, [1, 2]),
        ({"tags_any": ["vip", "sp"]}, [1, 2, 3]),
        ({"tags_all": ["vip", "sp"]}, [1]),
        ({"tags_none": ["vip"]}, [3, 4]),
        ({"tags_any": ["vip", "sp"], "tags_none": ["sp"]}, [2]),
        ({"tags_any": ["nobody has it"]}, []),
        ({"field_equals": {"city": "SÃO PAULO"}}, [1]),
        ({"field_equals": {"city": "sao paulo"}}, [3]),
        ({"field_equals": {"news": "true"}}, [3]),
        ({"field_contains": {"city": "PAULO"}}, [1, 3]),
        ({"field_set": ["city"]}, [1, 2, 3]),
        ({"field_set": ["vip_since"]}, []),
        ({"field_missing": ["vip_since"]}, [1, 2, 3, 4]),
        ({"field_missing": ["city"]}, [4]),
        ({"wrote_after": NOW - timedelta(days=30)}, [1]),
        ({"wrote_before": NOW - timedelta(days=30)}, [2]),
        ({"wrote_before": NOW}, [1, 2]),
        ({"never_wrote": True}, [3, 4]),
        ({"tickets_min": 1}, [1, 2, 4]),
        ({"tickets_min": 2}, [1]),
        ({"tickets_max": 0}, [3]),
        ({"tickets_min": 1, "tickets_max": 1}, [2, 4]),
        ({"answered_campaign": True}, [2, 4]),
        ({"answered_campaign": 7}, [2]),
        ({"answered_campaign": 9}, []),
        ({"answered_campaign": False}, [1]),
        ({"tags_any": ["vip"], "wrote_after": NOW - timedelta(days=30), "tickets_min": 2}, [1]),
    ],
)
def test_select(options: dict[str, Any], expected: list[int]) -> None:
    chosen = segments.select(
        PEOPLE, messages=MESSAGES, tickets=TICKETS, recipients=RECIPIENTS, **options
    )
    assert _ids(chosen) == expected
    assert list(chosen.columns) == list(PEOPLE.columns)


def test_masks_keep_the_frames_index() -> None:
    subset = PEOPLE.iloc[[4, 0, 2]]  # a subset in another order, its index not a range
    assert segments.tag_mask(subset, any_of=["vip"]).to_dict() == {4: True, 0: True, 2: False}
    assert segments.field_mask(subset, "city", "is_set").to_dict() == {4: False, 0: True, 2: True}
    assert segments.reachable_mask(subset).to_dict() == {4: False, 0: True, 2: True}
    assert _ids(segments.select(subset, tags_any=["sp"])) == [1, 3]


def test_behaviour_filters_need_their_frames() -> None:
    with pytest.raises(ValueError, match="messages"):
        segments.select(PEOPLE, wrote_after=NOW)
    with pytest.raises(ValueError, match="tickets"):
        segments.select(PEOPLE, tickets_min=1)
    with pytest.raises(ValueError, match="recipients"):
        segments.select(PEOPLE, tickets=TICKETS, answered_campaign=False)
    with pytest.raises(ValueError, match="time zone"):
        segments.select(PEOPLE, messages=MESSAGES, wrote_after=datetime(2026, 1, 1))  # noqa: DTZ001


def test_behaviour_per_contact() -> None:
    assert segments.last_inbound(MESSAGES).to_dict() == {1: _ago(9), 2: _ago(60)}
    assert segments.ticket_counts(TICKETS).to_dict() == {1: 2, 2: 1, 4: 1}
    in_window = segments.frequency_counts(TICKETS, start=NOW - timedelta(days=35), end=NOW)
    assert in_window.to_dict() == {1: 2, 4: 1}
    inbound = segments.frequency_counts(MESSAGES, inbound_only=True)
    assert inbound.to_dict() == {1: 1, 2: 1}
    responses = segments.campaign_responses(RECIPIENTS, TICKETS)
    assert responses.to_dict("index") == {
        1: {"received": 1, "read": 0, "answered": 0, "engagement": 0.0},
        2: {"received": 1, "read": 1, "answered": 1, "engagement": 1.0},
        4: {"received": 1, "read": 0, "answered": 1, "engagement": 0.5},
    }


def test_campaign_funnel() -> None:
    recipients = pd.concat([RECIPIENTS, _recipients([(9, 1, "skipped")])], ignore_index=True)
    names = {7: "Promo", 8: "Aviso", 9: "Nada"}
    recipients["campaign"] = pd.Categorical(recipients["campaign_id"].map(names))
    funnel = segments.campaign_funnel(recipients, TICKETS)
    assert funnel.drop(columns=[c for c in funnel.columns if c.endswith("_rate")]).to_dict(
        "index"
    ) == {
        7: {
            "campaign": "Promo",
            "recipients": 3,
            "sent": 2,
            "delivered": 2,
            "read": 1,
            "answered": 1,
        },
        8: {
            "campaign": "Aviso",
            "recipients": 1,
            "sent": 1,
            "delivered": 0,
            "read": 0,
            "answered": 1,
        },
        9: {
            "campaign": "Nada",
            "recipients": 1,
            "sent": 0,
            "delivered": 0,
            "read": 0,
            "answered": 0,
        },
    }
    rates = funnel[["delivered_rate", "read_rate", "answered_rate"]]
    assert rates.loc[7].tolist() == [1.0, 0.5, 0.5]
    assert rates.loc[8].tolist() == [0.0, 0.0, 1.0]  # answered without a read receipt
    assert rates.loc[9].isna().all()  # nothing sent


# RFM --------------------------------------------------------------------------------------


def test_quintile_scores() -> None:
    assert segments.quintile_scores(pd.Series([1, 2, 3, 4, 5])).tolist() == [1, 2, 3, 4, 5]
    # Ties score alike; the worst always scores 1.
    assert segments.quintile_scores(pd.Series([0, 0, 0, 0, 5])).tolist() == [1, 1, 1, 1, 5]
    assert segments.quintile_scores(pd.Series([7, 7, 7])).tolist() == [1, 1, 1]
    lower = segments.quintile_scores(pd.Series([1.0, None, 3.0, 4.0, 5.0]), higher_is_better=False)
    assert lower.tolist() == [4, pd.NA, 3, 2, 1]
    assert segments.quintile_scores(pd.Series([], dtype="float64")).tolist() == []


def test_rfm_labels_cover_every_pair() -> None:
    pairs = [(r, f) for r in range(1, 6) for f in range(1, 6)]
    labels = segments.rfm_label(pd.Series([p[0] for p in pairs]), pd.Series([p[1] for p in pairs]))
    named = dict(zip(pairs, labels, strict=True))
    assert named[(5, 5)] == named[(4, 4)] == "champions"
    assert named[(3, 3)] == named[(5, 3)] == named[(3, 5)] == "loyal"
    assert named[(5, 1)] == named[(4, 2)] == "new"
    assert named[(3, 1)] == named[(3, 2)] == "needs attention"
    assert named[(2, 5)] == named[(1, 3)] == "at risk"
    assert named[(1, 1)] == named[(2, 2)] == "dormant"
    assert list(labels.cat.categories) == list(segments.LABELS)


def test_rfm_scores_a_known_set() -> None:
    contacts = _contacts([{"id": i, "name": f"C{i}"} for i in range(1, 8)])
    messages = _messages(
        [
            (1, "in", 1, False),
            (1, "in", -1, False),  # after `now`: not yet
            (7, "in", 5, False),
            (2, "in", 10, False),
            (2, "in", 70, False),
            (6, "in", 30, False),
            (3, "in", 40, False),
            (3, "in", 60, False),
            (4, "in", 200, False),
            (5, "out", 2, False),  # we wrote to 5; 5 never wrote
        ]
    )
    tickets = _tickets(
        [
            (1, 1, None),
            (1, 20, None),
            (1, 50, 11),
            (3, 40, None),
            (3, 60, 10),
            (3, 80, None),
            (6, 30, 10),
            (4, 10, None),
            (4, 150, None),  # outside the 90-day window
            (7, 5, None),
            (7, 6, None),
        ]
    )
    recipients = _recipients(
        [
            (10, 1, "read"),
            (10, 2, "delivered"),
            (10, 3, "sent"),
            (10, 4, "failed"),
            (10, 6, "read"),
            (11, 1, "delivered"),
        ]
    )
    scored = segments.rfm(contacts, messages, tickets, recipients, now=NOW, window_days=90)
    table = scored.set_index("contact_id")
    assert table["recency_days"].round(6).to_dict() == pytest.approx(
        {1: 1.0, 2: 10.0, 3: 40.0, 4: 200.0, 5: float("nan"), 6: 30.0, 7: 5.0}, nan_ok=True
    )
    assert table["frequency"].to_dict() == {1: 3, 2: 0, 3: 3, 4: 1, 5: 0, 6: 1, 7: 2}
    # Recency among the six who wrote: 1 + floor(5 * those strictly worse / 6); 5 never
    # wrote: 1. Frequency among the five above 0 (3, 3, 1, 1, 2); 0 scores 1.
    assert table["r_score"].to_dict() == {1: 5, 2: 3, 3: 1, 4: 1, 5: 1, 6: 2, 7: 4}
    assert table["f_score"].to_dict() == {1: 4, 2: 1, 3: 4, 4: 1, 5: 1, 6: 1, 7: 3}
    assert table["received"].to_dict() == {1: 2, 2: 1, 3: 1, 4: 0, 5: 0, 6: 1, 7: 0}
    assert table["read"].to_dict() == {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 0}
    assert table["answered"].to_dict() == {1: 1, 2: 0, 3: 1, 4: 0, 5: 0, 6: 1, 7: 0}
    engagement = table["engagement"].to_dict()
    assert {k: v for k, v in engagement.items() if v == v} == {1: 0.5, 2: 0.0, 3: 0.5, 6: 1.0}
    assert table["e_score"].astype("object").where(table["e_score"].notna(), None).to_dict() == {
        1: 2,
        2: 1,
        3: 2,
        4: None,
        5: None,
        6: 4,
        7: None,
    }
    assert table["label"].astype(str).to_dict() == {
        1: "champions",
        2: "needs attention",
        3: "at risk",
        4: "dormant",
        5: "dormant",
        6: "dormant",
        7: "loyal",
    }
    assert scored["r_score"].dtype == "Int64"
    assert isinstance(scored["label"].dtype, pd.CategoricalDtype)
    # Inbound messages as the frequency instead of tickets.
    by_messages = segments.rfm(contacts, messages, tickets, now=NOW, frequency_of="messages")
    assert by_messages.set_index("contact_id")["frequency"].to_dict() == {
        1: 1,
        2: 2,
        3: 2,
        4: 0,
        5: 0,
        6: 1,
        7: 1,
    }
    assert by_messages["received"].sum() == 0
    assert by_messages["e_score"].isna().all()


def test_contact_ids_of_a_frame() -> None:
    assert segments.contact_ids(PEOPLE.iloc[[2, 0, 2]]) == [3, 1]
    assert segments.contact_ids(TICKETS) == [1, 2, 4]  # contact_id wins over a ticket's id
    with pytest.raises(ValueError, match="contact_id"):
        segments.contact_ids(pd.DataFrame({"x": [1]}))


# Pushing into a contact list, then a campaign ---------------------------------------------


async def _members(list_id: int) -> set[int]:
    rows = await ContactListMember.filter(contact_list_id=list_id).values_list(
        "contact_id", flat=True
    )
    return {int(i) for i in rows}


async def test_a_pushed_segment_is_what_a_campaign_sends_to(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    contacts = await make_contacts(tenant, 6)
    ids = [c.id for c in contacts]
    frame = pd.DataFrame({"id": ids[:4], "name": [c.name for c in contacts[:4]]})
    name = unique("VIPs")
    pushed = await segments.push_segment_async(frame, name, company_id=tenant.company.id)
    assert pushed.created
    assert (pushed.added, pushed.removed, pushed.kept, pushed.members) == (4, 0, 0, 4)
    contact_list = await ContactList.get(id=pushed.list_id)
    assert contact_list.company_id == tenant.company.id  # type: ignore[attr-defined]
    assert contact_list.name == name
    assert await _members(pushed.list_id) == set(ids[:4])
    # Created as the company's admin, in the audit log like a change made in the web.
    entry = await AuditLog.get(
        company_id=tenant.company.id, object_type="contact_list", object_id=str(pushed.list_id)
    )
    assert entry.user_id == tenant.admin.user.id  # type: ignore[attr-defined]

    connection_id = await sandbox_connection(client, tenant)
    await without_receipts(app, connection_id)
    campaign = await create_campaign(client, tenant, campaign_body(connection_id, pushed.list_id))
    try:
        assert campaign["status"] == "running"
        recipients = await CampaignRecipient.filter(campaign_id=campaign["id"]).values_list(
            "contact_id", flat=True
        )
        assert sorted(recipients) == sorted(ids[:4])
        listed = await client.get(
            f"/api/campaigns/{campaign['id']}/recipients?limit=50", headers=tenant.headers
        )
        assert {item["contact_id"] for item in listed.json()["items"]} == set(ids[:4])
    finally:
        cancelled = await client.post(
            f"/api/campaigns/{campaign['id']}/cancel", headers=tenant.headers
        )
        assert cancelled.status_code == 200, cancelled.text


async def test_pushing_again_replaces_the_members(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    contacts = await make_contacts(tenant, 6)
    ids = [c.id for c in contacts]
    name = unique("Reativar")
    first = await segments.push_segment_async(
        pd.DataFrame({"contact_id": ids[:3]}), name, company_id=tenant.company.id
    )
    # The same name in another case is the same list.
    again = await segments.push_segment_async(
        pd.DataFrame({"contact_id": [ids[2], ids[3], ids[2], ids[4]]}),
        name.upper(),
        company_id=tenant.company.id,
    )
    assert again.list_id == first.list_id
    assert not again.created
    assert (again.added, again.removed, again.kept, again.members) == (2, 2, 1, 3)
    assert await _members(first.list_id) == {ids[2], ids[3], ids[4]}
    # Plain ids work too; an empty segment empties the list.
    same = await segments.push_segment_async(
        [ids[2], ids[3], ids[4]], name, company_id=tenant.company.id
    )
    assert (same.added, same.removed, same.kept) == (0, 0, 3)
    empty = await segments.push_segment_async([], name, company_id=tenant.company.id)
    assert (empty.added, empty.removed, empty.kept, empty.members) == (0, 3, 0, 0)
    assert await _members(first.list_id) == set()
    assert await ContactList.filter(company_id=tenant.company.id, name__iexact=name).count() == 1


async def test_foreign_or_unknown_contacts_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = [c.id for c in await make_contacts(tenant, 3)]
    theirs = [c.id for c in await make_contacts(other_tenant, 2)]
    name = unique("Clientes")
    pushed = await segments.push_segment_async(mine[:2], name, company_id=tenant.company.id)
    with pytest.raises(segments.UnknownContacts) as refused:
        await segments.push_segment_async(
            [mine[2], theirs[0], 2**31 - 1], name, company_id=tenant.company.id
        )
    assert refused.value.ids == [theirs[0], 2**31 - 1]
    assert str(theirs[0]) in str(refused.value)
    assert await _members(pushed.list_id) == set(mine[:2])
    # A new list is not created either.
    fresh = unique("Nunca")
    with pytest.raises(segments.UnknownContacts):
        await segments.push_segment_async(theirs, fresh, company_id=tenant.company.id)
    assert not await ContactList.filter(company_id=tenant.company.id, name=fresh).exists()
    # The other company's own list of that name is untouched by this company's pushes.
    other = await segments.push_segment_async(theirs, name, company_id=other_tenant.company.id)
    assert other.list_id != pushed.list_id
    assert await _members(other.list_id) == set(theirs)
    assert await _members(pushed.list_id) == set(mine[:2])
