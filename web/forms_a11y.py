"""Forms whose errors are tied to their fields for screen readers (aria-describedby)."""

from __future__ import annotations

from typing import Any

from django import forms

from spaces.errors import DomainError


class AccessibleForm(forms.Form):
    """Each field with errors points at them (`<id>_errors`, rendered by
    web/projects/_field.html) and at its help text, and says it is invalid."""

    # A domain error's field → this form's field, when the names differ.
    error_fields: dict[str, str] = {}

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in getattr(self, "_errors", None) or {}:
            if name not in self.fields:
                continue
            bound = self[name]
            described = [f"{bound.auto_id}_errors"]
            if self.fields[name].help_text:
                described.append(f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs.update(
                {"aria-describedby": " ".join(described), "aria-invalid": "true"})

    def add_domain_error(self, error: DomainError) -> None:
        """A rule's refusal shown on the field it names, or above the form."""
        name = self.error_fields.get(error.field or "", error.field)
        self.add_error(name if name in self.fields else None, str(error.message))
