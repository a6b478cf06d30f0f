"""The whiteboard's links: a random token in a URL opens the TV page of one gym, without a login.

Only a token's SHA-256 is stored (``whiteboard_link.token_hash``), and the hash covers the gym's id:
the table gives nobody a working link, and a token of one gym finds nothing on another (its database
holds no such hash, and the same token would hash differently there). Looking a token up is one
query on a unique index; ``last_seen_at`` is written at most once a minute per link.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from gym.leaderboards.models import WhiteboardLink

#: Random bytes in a token (URL-safe base64: 43 characters).
TOKEN_BYTES = 32
#: What a token looks like; anything else is unknown without a query.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
#: A link's last_seen_at is written when older than this (a TV polls every few seconds).
SEEN_EVERY = datetime.timedelta(minutes=1)
LABEL_MAX = 80


def token_hash(*, affiliate_id: int, token: str) -> str:
    """The stored form of a token: SHA-256 over the gym's id and the token."""
    return hashlib.sha256(f"fitbuddy-whiteboard:{affiliate_id}:{token}".encode()).hexdigest()


def link_create(*, affiliate_id: int, label: str, created_by: str) -> tuple[WhiteboardLink, str]:
    """A new link and its token (shown once: only the hash is kept)."""
    label = " ".join(label.split())
    if not label or not label.isprintable():
        raise ValidationError({"label": "Name the screen (e.g. Main floor TV)."})
    if len(label) > LABEL_MAX:
        raise ValidationError({"label": f"A name has at most {LABEL_MAX} characters."})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = WhiteboardLink.objects.create(
        label=label, token_hash=token_hash(affiliate_id=affiliate_id, token=token), created_by=created_by
    )
    return link, token


def link_revoke(*, link_id: int, actor: str, now: datetime.datetime | None = None) -> WhiteboardLink | None:
    """Revoke a link (its TV stops showing data at its next refresh); None when no live link has that id."""
    moment = now or timezone.now()
    changed = WhiteboardLink.objects.filter(pk=link_id, revoked_at__isnull=True).update(
        revoked_at=moment, revoked_by=actor
    )
    return WhiteboardLink.objects.get(pk=link_id) if changed else None


def links() -> list[WhiteboardLink]:
    """Every link, live ones first, newest first."""
    return sorted(WhiteboardLink.objects.all(), key=lambda link: (link.revoked_at is not None,))


@dataclass(frozen=True)
class LinkCheck:
    """What a token opens: ``status`` is ok, revoked or unknown."""

    status: str
    link: WhiteboardLink | None = None


def link_check(*, affiliate_id: int, token: str, now: datetime.datetime | None = None) -> LinkCheck:
    """The link a token opens on this gym: one indexed query (and a write at most once a minute)."""
    if not TOKEN_RE.fullmatch(token):
        return LinkCheck("unknown")
    link = WhiteboardLink.objects.filter(token_hash=token_hash(affiliate_id=affiliate_id, token=token)).first()
    if link is None:
        return LinkCheck("unknown")
    if link.revoked_at is not None:
        return LinkCheck("revoked", link)
    moment = now or timezone.now()
    if link.last_seen_at is None or moment - link.last_seen_at >= SEEN_EVERY:
        WhiteboardLink.objects.filter(pk=link.pk).update(last_seen_at=moment)
        link.last_seen_at = moment
    return LinkCheck("ok", link)
