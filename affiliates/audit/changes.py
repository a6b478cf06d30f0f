"""A row's fields as the audit trail records them, and what changed between two snapshots.

A snapshot holds every concrete field (foreign keys as ids) and every many-to-many (as sorted labels:
a permission as ``app_label.codename``) of a saved row, as JSON values. Fields whose name says they
hold a secret (a password hash, a secret reference, a token) are compared like the others but
written as ``[redacted]``: the trail says that they changed, never what they hold.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

#: What the trail shows instead of a secret's value.
REDACTED = "[redacted]"
#: A field whose name holds one of these is a secret.
SECRET_WORDS = ("password", "secret", "token", "private_key", "api_key")

Snapshot = dict[str, Any]


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _json(value: Any) -> Any:
    """A field's value as plain JSON (times as ISO text, decimals and UUIDs as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _label(related: models.Model) -> str:
    codename = getattr(related, "codename", None)
    content_type = getattr(related, "content_type", None)
    if codename is not None and content_type is not None:
        return f"{content_type.app_label}.{codename}"
    return str(related)


def snapshot(obj: models.Model) -> Snapshot:
    """The row's fields as the trail records them (``auto_now`` times left out: they change on every save)."""
    values: Snapshot = {}
    for model_field in obj._meta.concrete_fields:
        if getattr(model_field, "auto_now", False):
            continue
        values[model_field.attname] = _json(model_field.value_from_object(obj))
    if obj.pk is not None:
        for m2m in obj._meta.many_to_many:
            related = getattr(obj, m2m.name).all()
            if any(f.name == "content_type" for f in m2m.related_model._meta.get_fields()):
                related = related.select_related("content_type")
            values[m2m.name] = sorted(_label(item) for item in related)
    return values


def snapshot_stored(model: type[models.Model], pk: Any) -> Snapshot | None:
    """The row as the database holds it now (not as a form has already changed it in memory)."""
    stored = model._base_manager.filter(pk=pk).first()
    return None if stored is None else snapshot(stored)


def redact(values: Snapshot) -> Snapshot:
    return {
        name: (REDACTED if value not in ("", None) else value) if is_secret(name) else value
        for name, value in values.items()
    }


def diff(before: Snapshot, after: Snapshot) -> dict[str, Snapshot]:
    """``{"before": {…}, "after": {…}}`` of the fields that differ, secrets redacted."""
    names = [name for name in {**before, **after} if before.get(name) != after.get(name)]
    return {
        "before": redact({name: before.get(name) for name in names}),
        "after": redact({name: after.get(name) for name in names}),
    }


def added(after: Snapshot) -> dict[str, Snapshot]:
    return {"after": redact(after)}


def deleted(before: Snapshot) -> dict[str, Snapshot]:
    return {"before": redact(before)}
