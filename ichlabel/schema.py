"""The API's OpenAPI schema, as the API behaves: every operation documents the one error shape
(``{"message": ..., "extra": {...}}``, ichlabel/api.py) for the statuses any of them can answer,
and request bodies take no keys beyond their fields; so a client (and tests/ichlabel/fuzz, which
checks every response against the schema) knows what a refusal looks like."""

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "extra": {"type": "object", "additionalProperties": {}},
    },
    "required": ["message", "extra"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

# Status -> when it comes. Every operation can be refused for its input (a query key it does
# not declare, at the least), its caller's role, or an object that is not the caller's to see.
ANY_OPERATION = {
    "400": "Invalid input: `extra.fields` names each field and what is wrong with it.",
    "403": "Not signed in, or the caller's role may not do this.",
    "404": "No such object, or not the caller's to see.",
    "429": "Too many failed log-ins or unknown tokens from this address: retry after Retry-After.",
    "503": "The database is unreachable for now: retry after Retry-After.",
}
# An operation for the inference nodes, which authenticate with a node token.
NODE_TOKEN = {"401": "No node token, or one that is unknown or revoked."}
# What a request with a body can also be answered.
WITH_BODY = {
    "409": "The object's state does not allow it (changed meanwhile, or already done).",
    "415": "The body is not in a media type the operation takes.",
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _refs(node: Any) -> set[str]:
    """The component names a piece of the schema refers to, directly."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        found = {ref.rsplit("/", 1)[-1]} if ref.startswith("#/components/schemas/") else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _closure(names: set[str], components: dict) -> set[str]:
    """Those components and every component they refer to, at any depth."""
    seen: set[str] = set()
    todo = set(names)
    while todo:
        name = todo.pop()
        if name not in seen and name in components:
            seen.add(name)
            todo |= _refs(components[name])
    return seen


def closed_request_bodies(result: dict) -> None:
    """The API refuses a body key its serializer does not know (ichlabel/api.py validated()),
    so a request body's objects say ``additionalProperties: false``. Components that responses
    use too are left open: a response may grow a field without breaking its clients."""
    components = result.get("components", {}).get("schemas", {})
    operations = [op for ops in result.get("paths", {}).values() for op in ops.values()]
    requests = _closure(
        set().union(*(_refs(op.get("requestBody")) for op in operations)), components
    )
    responses = _closure(
        set().union(*(_refs(op.get("responses")) for op in operations)), components
    )
    for name in requests - responses:
        if components[name].get("type") == "object" and "properties" in components[name]:
            components[name]["additionalProperties"] = False


def error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: adds the error responses an operation does not
    document itself, and closes the request bodies' objects."""
    closed_request_bodies(result)
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            statuses = dict(ANY_OPERATION)
            if method in ("post", "put", "patch", "delete"):
                statuses |= WITH_BODY
            if {"nodeTokenAuth": []} in operation.get("security", []):
                statuses |= NODE_TOKEN
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(status, _error(description))
    return result
