"""OpenAPI links from each create operation to what can then be done with what it created.

A post-processing hook for drf-spectacular. It derives the links from the paths, not from a
hand-kept list, so that a new sub-route (`bookings/{id}/something/`) or a new nested collection
(`projects/{project_pk}/things/`) is linked as soon as it exists:

- `POST <collection>/` answering 201 links to every operation of every path below
  `<collection>/{param}/` that needs no other unknown parameter: `param` is the created `id`,
  and the collection's own path parameters are passed on from the request
  (`POST projects/{project_pk}/log/` → `GET projects/{project_pk}/log/{entry_pk}/comments/`).
- Objects a create makes along with the one it returns (CREATED_WITH: a mentor session's
  `booking`, a series' `occurrences`) link to their own routes (`bookings/{id}/…`). Plain
  references (`school`, `space`) are not followed: they lead to objects the caller only named.

Clients and documentation see how the operations chain; schemathesis's stateful phase
(make test-fuzz) follows the links with the ids the API really returned: create a booking →
approve, cancel, read its history; lend → return; create a session → register, cancel.
"""

from __future__ import annotations

import re
from typing import Any

PARAM = re.compile(r"\{([^}]+)\}")
METHODS = ("get", "put", "patch", "post", "delete")
# Fields of a created object that are objects made in the same request: field → their collection
# (under the same prefix). An integer field is an id; a list field's first item's `id` is used.
CREATED_WITH = {"booking": "bookings", "occurrences": "bookings"}


def _params(path: str) -> list[str]:
    return PARAM.findall(path)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _created_properties(operation: dict[str, Any], components: dict[str, Any]
                        ) -> dict[str, Any] | None:
    response = operation.get("responses", {}).get("201")
    if not response:
        return None
    body = response.get("content", {}).get("application/json", {}).get("schema")
    if not body:
        return None
    properties: dict[str, Any] = _resolve(body, components).get("properties", {})
    return properties


def _targets(paths: dict[str, Any], prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(x, "METHOD path", operation) for each operation on `prefix{x}/…` that has no other
    path parameter of its own (a link could not fill it in)."""
    found = []
    for path, item in paths.items():
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):]
        match = re.match(r"\{([^}]+)\}/", rest)
        if not match or _params(rest[match.end():]):
            continue
        for method in METHODS:
            if method in item:
                found.append((match.group(1), f"{method.upper()} {path}", item[method]))
    return found


def _link(operation: dict[str, Any], parameters: dict[str, str], description: str
          ) -> dict[str, Any]:
    return {"operationId": operation["operationId"],
            "parameters": {f"path.{name}": value for name, value in parameters.items()},
            "description": description}


def links_from_created(result: dict[str, Any], generator: Any, request: Any,
                       public: bool) -> dict[str, Any]:
    paths: dict[str, Any] = result.get("paths", {})
    components: dict[str, Any] = result.get("components", {}).get("schemas", {})
    for collection, item in paths.items():
        create = item.get("post")
        if not create or not collection.endswith("/"):
            continue
        properties = _created_properties(create, components)
        if properties is None or "id" not in properties:
            continue
        own = _params(collection)
        forwarded = {name: f"$request.path.{name}" for name in own}
        links: dict[str, Any] = {}
        for name, target, operation in _targets(paths, collection):
            links[operation["operationId"]] = _link(
                operation, {name: "$response.body#/id", **forwarded},
                f"{target} with the created object's id.")
        parent = collection.rstrip("/").rsplit("/", 1)[0] + "/"
        for field, resource in CREATED_WITH.items():
            if field not in properties:
                continue
            target_collection = parent + resource + "/"
            schema = _resolve(properties[field], components)
            if schema.get("type") == "integer":
                pointer = f"$response.body#/{field}"
            elif schema.get("type") == "array" and "id" in _resolve(
                    schema.get("items", {}), components).get("properties", {}):
                pointer = f"$response.body#/{field}/0/id"
            else:
                continue
            for name, target, operation in _targets(paths, target_collection):
                links.setdefault(operation["operationId"], _link(
                    operation, {name: pointer}, f"{target} with the created object's {field}."))
        if links:
            create["responses"]["201"]["links"] = dict(sorted(links.items()))
    return result
