"""Form widgets of the gym pages.

Django renders a ``<select>`` through one template per ``<option>``: a workout's movement rows list
every exercise of the library in each row, so that page spent most of its time there. ``ListSelect``
writes the same HTML (the same markup, byte for byte) in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attributes(attrs: Mapping[str, Any]) -> SafeString:
    """Django's attrs.html: ``name="value"``, a bare name for True, nothing for False or None."""
    return mark_safe(
        "".join(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(value)}"'
            for name, value in attrs.items()
            if value is not False and value is not None
        )
    )


class ListSelect(forms.Select):
    """``forms.Select`` with its HTML written in Python instead of a template per option."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attributes(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        str(option["value"]),
                        _attributes(option["attrs"]),
                        option["label"],
                    )
                )
            if group_name:
                parts.append(mark_safe("\n  </optgroup>"))
        parts.append(mark_safe("\n</select>"))
        return mark_safe("".join(parts))
