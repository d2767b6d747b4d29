"""/api/campaigns: bulk sends to a list or a segment, for admins and supervisors."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, raw
from sanic_ext import openapi

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.campaigns import actions
from service.campaigns.models import Campaign
from service.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignQuery,
    CampaignUpdate,
    MediaUpload,
    RecipientOut,
    RecipientQuery,
)
from service.campaigns.service import (
    campaign_out,
    campaigns_out,
    company_campaigns,
    get_campaign,
    recipients_csv,
    recipients_of,
    recipients_out,
)
from service.errors import ApiError
from service.http import paginate, parse_body, parse_query, respond
from service.media import parse_upload, remove_media, store_media
from service.openapi import documented
from service.users.models import Role

__all__ = ["bp"]

bp = Blueprint("campaigns", url_prefix="/api/campaigns")

_MANAGERS = (Role.admin, Role.supervisor)
_UPLOAD_BODY = {
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "The file sent with every main message, its text as the caption",
            }
        },
    }
}


async def _campaign(principal: Principal, campaign_id: int) -> Campaign:
    return await get_campaign(company_id=principal.company_id, campaign_id=campaign_id)


@bp.get("/")
@documented(query=CampaignQuery, page_of=CampaignOut)
@requires(*_MANAGERS)
async def list_campaigns(request: Request, principal: Principal) -> HTTPResponse:
    """The company's campaigns, newest first, each with its statistics."""
    args = parse_query(request, CampaignQuery)
    query = company_campaigns(company_id=principal.company_id, status=args.status)
    return respond(await paginate(query, args, campaigns_out, newest_first=True))


@bp.post("/")
@documented(body=CampaignCreate, response=CampaignOut, status=201)
@requires(*_MANAGERS)
async def create_campaign(request: Request, principal: Principal) -> HTTPResponse:
    """A draft campaign: connection, exactly one of a list or a segment, 1 to 5 variants
    (one picked at random per contact; `{{name}}`, `{{first_name}}`, `{{number}}`,
    `{{custom.key}}`), and its pace and daily window."""
    body = parse_body(request, CampaignCreate)
    campaign = await actions.create_campaign(actor=principal, data=body)
    return respond(await campaign_out(campaign), status=201)


@bp.get("/<campaign_id:int>")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def get_one_campaign(
    request: Request, principal: Principal, campaign_id: int
) -> HTTPResponse:
    """One campaign with its statistics: recipients per status, delivered and read rates."""
    return respond(await campaign_out(await _campaign(principal, campaign_id)))


@bp.patch("/<campaign_id:int>")
@documented(body=CampaignUpdate, response=CampaignOut)
@requires(*_MANAGERS)
async def update_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Change a draft or scheduled campaign; a running or paused one takes only its name,
    pace and window (409 for anything else)."""
    campaign = await _campaign(principal, campaign_id)
    body = parse_body(request, CampaignUpdate)
    campaign = await actions.update_campaign(
        actor=principal, campaign=campaign, data=body, broker=request.app.ctx.broker
    )
    return respond(await campaign_out(campaign))


@bp.delete("/<campaign_id:int>")
@documented(status=204)
@requires(*_MANAGERS)
async def delete_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Delete a campaign and its recipients (409 while running or paused: cancel first)."""
    campaign = await _campaign(principal, campaign_id)
    await actions.delete_campaign(actor=principal, campaign=campaign)
    if campaign.media_path:
        remove_media(request.app.ctx.settings.effective_media_dir, campaign.media_path)
    return empty()


@bp.post("/<campaign_id:int>/start")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def start_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Freeze the audience into recipients (opted-out contacts, groups and invalid numbers
    are recorded as skipped) and run now, or at `scheduled_at` if it is ahead."""
    campaign = await _campaign(principal, campaign_id)
    campaign = await actions.start_campaign(
        actor=principal,
        campaign=campaign,
        now=request.app.ctx.clock(),
        broker=request.app.ctx.broker,
    )
    return respond(await campaign_out(campaign))


@bp.post("/<campaign_id:int>/pause")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def pause_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Stop sending until resumed."""
    campaign = await _campaign(principal, campaign_id)
    campaign = await actions.pause_campaign(
        actor=principal, campaign=campaign, broker=request.app.ctx.broker
    )
    return respond(await campaign_out(campaign))


@bp.post("/<campaign_id:int>/resume")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def resume_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Go on where a paused campaign stopped."""
    campaign = await _campaign(principal, campaign_id)
    campaign = await actions.resume_campaign(
        actor=principal,
        campaign=campaign,
        now=request.app.ctx.clock(),
        broker=request.app.ctx.broker,
    )
    return respond(await campaign_out(campaign))


@bp.post("/<campaign_id:int>/cancel")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def cancel_campaign(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """End a campaign for good: whoever was not reached yet is recorded as skipped
    ("cancelled")."""
    campaign = await _campaign(principal, campaign_id)
    campaign = await actions.cancel_campaign(
        actor=principal,
        campaign=campaign,
        now=request.app.ctx.clock(),
        broker=request.app.ctx.broker,
    )
    return respond(await campaign_out(campaign))


@bp.post("/<campaign_id:int>/media")
@openapi.body(_UPLOAD_BODY, required=True)
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def upload_media(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Attach a file (multipart/form-data `file`) sent with every main message, the text as
    its caption; replaces the previous one. 413 past the media size limit."""
    campaign = await _campaign(principal, campaign_id)
    settings = request.app.ctx.settings
    upload, _ = parse_upload(request, MediaUpload, max_bytes=settings.media_max_bytes)
    media_dir = settings.effective_media_dir
    stored = await store_media(
        media_dir=media_dir,
        company_id=principal.company_id,
        data=upload.data,
        mime=upload.mime,
        filename=upload.filename,
        now=request.app.ctx.clock(),
    )
    try:
        campaign, previous = await actions.set_media(
            actor=principal,
            campaign=campaign,
            path=stored.path,
            mime=upload.mime,
            name=upload.filename,
        )
    except ApiError:
        remove_media(media_dir, stored.path)
        raise
    if previous:
        remove_media(media_dir, previous)
    return respond(await campaign_out(campaign))


@bp.delete("/<campaign_id:int>/media")
@documented(response=CampaignOut)
@requires(*_MANAGERS)
async def delete_media(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """Send the campaign without a file."""
    campaign = await _campaign(principal, campaign_id)
    campaign, previous = await actions.set_media(
        actor=principal, campaign=campaign, path=None, mime=None, name=None
    )
    if previous:
        remove_media(request.app.ctx.settings.effective_media_dir, previous)
    return respond(await campaign_out(campaign))


@bp.get("/<campaign_id:int>/recipients")
@documented(query=RecipientQuery, page_of=RecipientOut)
@requires(*_MANAGERS)
async def list_recipients(request: Request, principal: Principal, campaign_id: int) -> HTTPResponse:
    """The campaign's recipients in order, `?status=` filtering them."""
    campaign = await _campaign(principal, campaign_id)
    args = parse_query(request, RecipientQuery)
    return respond(await paginate(recipients_of(campaign, args.status), args, recipients_out))


@bp.get("/<campaign_id:int>/recipients.csv")
@documented(query=RecipientQuery)
@requires(*_MANAGERS)
async def export_recipients(
    request: Request, principal: Principal, campaign_id: int
) -> HTTPResponse:
    """Every recipient as CSV (UTF-8), `?status=` filtering them."""
    campaign = await _campaign(principal, campaign_id)
    args = parse_query(request, RecipientQuery)
    text = await recipients_csv(campaign, args.status)
    return raw(
        text.encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}.csv"'},
    )
