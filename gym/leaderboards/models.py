"""The whiteboard's links (sql/application/V10): a TV reaches the whiteboard without a login."""

from django.db import models
from django.db.models.functions import Now

from affiliates.silos import affiliate_model


@affiliate_model
class WhiteboardLink(models.Model):
    """A link a coach made for a screen; only its token's hash is kept (gym/leaderboards/whiteboard.py)."""

    label = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=254, blank=True, default="")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "whiteboard_link"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
