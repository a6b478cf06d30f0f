"""The command center's admin site: Django's, with every model admin guarded against bad input.

Every model admin registered here (FitBuddy's and those Django's own apps register, such as auth's
users and groups) gets :class:`InputGuard` mixed in at registration, so a change list's filters and a
bulk action's selection are checked for every page at once, not page by page:

- a filter in the address that PostgreSQL or Python cannot take (``?created_at__year=999999999``,
  ``?created_at__gte=99999-01-01``) is answered 400 with the reason and a link to the whole list,
  instead of a 500 or Django's "Database error" page;
- a selection that is not an id (``_selected_action=abc``) is refused with a message, and nothing is
  done;
- the login form refuses a username longer than the user model allows before anything is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse


class BadFilter(Exception):
    """A change list's filter in the address that cannot be applied."""


class CheckedChangeList(ChangeList):
    """A change list whose query is compiled as soon as it is built: a lookup that only fails when
    its SQL is made (a year past 9999, a date that overflows) is an incorrect lookup, not a 500."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        try:
            # Django's date hierarchy turns a year past a C long into an OverflowError of its own.
            queryset: QuerySet[Any] = super().get_queryset(request, exclude_parameters)
            queryset.query.get_compiler(queryset.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass  # a filter that matches nothing (or everything) is a fine filter
        except (ValueError, OverflowError, TypeError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset


def invalid_ids(model: type[Model], values: Iterable[str]) -> list[str]:
    """The values of a selection that are not ids of ``model`` (what its primary key refuses)."""
    field = model._meta.pk
    assert field is not None
    bad = []
    for value in values:
        try:
            field.run_validators(field.to_python(value))
        except ValidationError:
            bad.append(value)
    return bad


class InputGuard:
    """Mixed into every model admin of the site (:meth:`CommandCenterSite.register`)."""

    model: type[Model]
    admin_site: admin.AdminSite

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CheckedChangeList

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        try:
            changelist: ChangeList = super().get_changelist_instance(request)  # type: ignore[misc]
        except IncorrectLookupParameters as exc:
            raise BadFilter(str(exc.__cause__ or exc) or "a filter that does not apply to this list") from exc
        return changelist

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponseBase:
        try:
            response: HttpResponseBase = super().changelist_view(request, extra_context)  # type: ignore[misc]
        except BadFilter as exc:
            context = {
                **self.admin_site.each_context(request),
                "title": "This filter cannot be applied",
                "opts": self.model._meta,
                "reason": str(exc),
            }
            return TemplateResponse(request, "admin/bad_filter.html", context, status=400)
        return response

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase | None:
        if request.POST.get("select_across") != "1":
            bad = invalid_ids(self.model, request.POST.getlist(ACTION_CHECKBOX_NAME))
            if bad:
                shown = ", ".join(repr(value[:40]) for value in bad[:3])
                messages.error(
                    request,
                    f"Nothing was done: the selection {shown} is not an id of a "
                    f"{self.model._meta.verbose_name}. Tick the rows in the list and try again.",
                )
                return HttpResponseRedirect(request.get_full_path())
        result: HttpResponseBase | None = super().response_action(request, queryset)  # type: ignore[misc]
        return result


class CommandCenterLoginForm(AdminAuthenticationForm):
    """Django's staff login form, with the username's length checked as the user model defines it
    (Django only sets it on the widget): a longer one is refused before any attempt is counted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(getattr(field, "max_length", None) or 150))


class CommandCenterSite(admin.AdminSite):
    """``admin.site`` (``affiliates.apps.CommandCenterAdminConfig``): every model admin guarded."""

    login_form = CommandCenterLoginForm
    site_header = site_title = "FitBuddy command center"
    # Django's "View site" would lead to this host's root, the command center again: each gym's page
    # has its own link to the gym's site instead.
    site_url = None
    index_title = "Affiliates and staff"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, InputGuard):
            base = type(base.__name__, (InputGuard, base), {"__module__": base.__module__, "__doc__": base.__doc__})
        super().register(model_or_iterable, base, **options)
