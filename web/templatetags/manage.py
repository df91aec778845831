"""Template helpers for the managers' pages and the links to them."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import User

register = template.Library()


@register.filter
def manages(user: Any, school_id: int) -> bool:
    """{% if user|manages:item.space.school_id %}: the one rule, User.manages_school."""
    return isinstance(user, User) and user.manages_school(school_id)


@register.simple_tag
def described_widget(field: Any) -> Any:
    """The field's widget, tied to its help text and its errors (aria-describedby), so a
    screen reader reads them with the field."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_errors")
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
