"""Post-processing of the OpenAPI document drf-spectacular generates."""

from __future__ import annotations

from typing import Any

# What DRF's TimeField reads and writes: "07:30", "07:30:00", "07:30:00.000001" (no offset).
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


def times_without_offset(result: dict[str, Any], generator: Any, request: Any,
                         public: bool) -> dict[str, Any]:
    """Describe times of day as they are: `format: time` is RFC 3339's full-time, which requires an
    offset ("07:30:00+07:00"); the bell schedule and opening hours are local times ("07:30:00").
    Found by make test-fuzz (responses broke the schema)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and node.get("format") == "time":
                del node["format"]
                node["pattern"] = TIME_PATTERN
                node.setdefault("example", "07:30:00")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
