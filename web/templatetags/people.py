"""Template filters of the project and session pages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def hours(value: Decimal | int | float | None) -> str:
    """1.50 → "1,5", 2.00 → "2", 0.25 → "0,25" (in the reader's number format)."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    places = next(places for places in (0, 1, 2)
                  if amount == amount.quantize(Decimal(1).scaleb(-places)))
    return formats.number_format(amount, decimal_pos=places)
