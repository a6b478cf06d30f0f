"""Staff users and groups in the command center: Django's own pages, registered again through
``AuditedAdmin`` so that every change to a staff account or a group (a user made superuser, a group's
permissions) is in the staff audit trail with its before and after (never a password hash)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from affiliates.admin.audited import AuditedAdmin

if TYPE_CHECKING:
    _UserAdmin = UserAdmin[User]
else:
    _UserAdmin = UserAdmin

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(AuditedAdmin[User], _UserAdmin):
    """Django's user admin; every change audited."""


@admin.register(Group)
class StaffGroupAdmin(AuditedAdmin[Group], GroupAdmin):
    """Django's group admin; every change audited."""
