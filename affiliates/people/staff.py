"""FitBuddy staff: the command center's groups and what each may do.

    Support         read only: every registry page, runs and the audit trail; no action
    Operators       + provision / retry, suspend / resume, migrate and check for drift,
                      add affiliates, manage their domains, help a gym's login (a link, an unlock)
    Administrators  + archive (drops a database), database servers, staff accounts and groups

The groups are created (and brought back to this definition) after every ``migrate`` and by
``manage.py staff_groups``. A superuser has every permission.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

#: Permission codenames on the affiliates app that guard the dangerous operations.
PROVISION = "affiliates.provision_affiliate"
SUSPEND = "affiliates.suspend_affiliate"
MIGRATE = "affiliates.migrate_affiliate"
ARCHIVE = "affiliates.archive_affiliate"

_REGISTRY_MODELS = [
    "affiliate",
    "domain",
    "affiliateevent",
    "databaseserver",
    "migrationrun",
    "migrationrunaffiliate",
    "staffaudit",
]

GROUPS: dict[str, list[tuple[str, str]]] = {
    "Support": [("affiliates", f"view_{model}") for model in _REGISTRY_MODELS],
}
GROUPS["Operators"] = GROUPS["Support"] + [
    ("affiliates", "add_affiliate"),
    ("affiliates", "change_affiliate"),
    ("affiliates", "provision_affiliate"),
    ("affiliates", "suspend_affiliate"),
    ("affiliates", "migrate_affiliate"),
    ("affiliates", "add_domain"),
    ("affiliates", "change_domain"),
    ("affiliates", "delete_domain"),
]
GROUPS["Administrators"] = GROUPS["Operators"] + [
    ("affiliates", "archive_affiliate"),
    ("affiliates", "add_databaseserver"),
    ("affiliates", "change_databaseserver"),
    ("affiliates", "delete_databaseserver"),
    *[("auth", f"{verb}_{model}") for model in ("user", "group") for verb in ("view", "add", "change", "delete")],
]


def groups_ensure() -> dict[str, int]:
    """Create the staff groups or bring their permissions back to ``GROUPS``; name → permission count."""
    counts = {}
    for name, wanted in GROUPS.items():
        query = Q(pk__in=[])
        for app_label, codename in wanted:
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.filter(query))
        missing = set(wanted) - {(p.content_type.app_label, p.codename) for p in permissions}
        if missing:
            raise RuntimeError(f"permissions not found (run migrate first): {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts


def groups_ensure_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    """post_migrate: once Django has created the permissions, the groups follow."""
    if kwargs.get("using", "default") != "default":
        return
    if sender.label == "affiliates":
        groups_ensure()
