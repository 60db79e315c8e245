"""Discovers every URL pattern and API route of the project, so the isolation harness covers
endpoints added by any later issue without anyone registering them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RoutePattern

# Routes that never take a record of tenant data, with the reason. Everything else is probed.
NOT_TENANT_DATA = {
    "api-schema": "the OpenAPI document, the same for everyone",
    "api-docs": "the interactive docs page",
}
# Path parameters that are not record ids (they get junk values; the route must still not 500).
ID_PARAMS = re.compile(r"^(pk|id|uuid|.*_id|.*_pk)$")


@dataclass
class Route:
    name: str
    params: dict[str, str] = field(default_factory=dict)  # name -> "uuid" | "id" | "other"
    callback: object = None

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api-") or getattr(self.callback, "cls", None) is not None

    @property
    def id_params(self) -> list[str]:
        return [k for k, v in self.params.items() if v in ("uuid", "id")]

    def __str__(self) -> str:
        return self.name


def _params(pattern) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(pattern, RoutePattern):
        for name, converter in pattern.converters.items():
            if isinstance(converter, UUIDConverter):
                found[name] = "uuid"
            else:
                found[name] = "id" if ID_PARAMS.match(name) else "other"
    else:
        for name in pattern.regex.groupindex:
            found[name] = "id" if ID_PARAMS.match(name) else "other"
    return found


def _walk(resolver: URLResolver, namespace: str | None, inherited: dict):
    for entry in resolver.url_patterns:
        params = {**inherited, **_params(entry.pattern)}
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = ":".join(x for x in (namespace, ns) if x) or None
            yield from _walk(entry, full_ns, params)
        elif isinstance(entry, URLPattern):
            if not entry.name or "format" in params:
                continue  # DRF's format-suffix twins, and unnamed routes (reported by a test)
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, params=params, callback=entry.callback)


def discover() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver(), None, {}):
        seen.setdefault(route.name, route)  # the first pattern of a name is the one reverse() builds
    return sorted(seen.values(), key=lambda r: r.name)


def unnamed_routes() -> list[str]:
    out = []

    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + str(entry.pattern))
            elif not entry.name:
                out.append(prefix + str(entry.pattern))

    walk(get_resolver())
    return out


def model_of(route: Route):
    """The model a route serves, when the view says so (DRF queryset/serializer, CBV model)."""
    cls = getattr(route.callback, "cls", None) or getattr(route.callback, "view_class", None)
    if cls is None:
        return getattr(route.callback, "isolation_model", None)
    for attr in ("isolation_model", "model"):
        if getattr(cls, attr, None) is not None:
            return getattr(cls, attr)
    queryset = getattr(cls, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(cls, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)
