"""Custom values as people read them: on record pages, in list columns and in exports."""

from __future__ import annotations

from . import values


def rows(specs: list[values.Spec], custom: dict | None) -> list[dict]:
    """One row per active field (empty ones too: a new field shows up on every record at once)."""
    custom = custom or {}
    return [{"name": s.name, "label": s.label, "type": s.type, "raw": custom.get(s.name),
             "value": values.display(s, custom.get(s.name))} for s in specs]


def cell(spec: values.Spec, custom: dict | None) -> str:
    return values.display(spec, (custom or {}).get(spec.name))
