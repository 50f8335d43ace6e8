"""The OpenAPI document, generated from the endpoint declarations (never written by hand)."""

from __future__ import annotations

import re
from typing import Any

from .endpoint import PUBLIC, EndpointSpec, json_schema_of

_PARAM = re.compile(r"{([a-zA-Z_]+)(?::([a-z]+))?}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Payload too large",
    422: "Invalid input",
    429: "Too many attempts",
}


def _collect(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    defs = schema.pop("$defs", {})
    components.update(defs)
    return schema


def build_openapi(specs: list[EndpointSpec], *, prefix: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for spec in specs:
        params = []
        for name, conv in _PARAM.findall(spec.path):
            params.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"} if conv == "int" else {"type": "string"},
                }
            )
        if spec.query is not None:
            qschema = _collect(json_schema_of(spec.query), components)
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                params.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        path = prefix + _PARAM.sub(lambda m: "{" + m.group(1) + "}", spec.path)
        operation: dict[str, Any] = {
            "operationId": spec.name,
            "summary": spec.summary,
            "description": spec.description
            + ("" if PUBLIC in spec.roles else f"\n\nRoles: {', '.join(spec.roles)}")
            + (f"\n\nScope: {spec.scope.describe()}" if spec.scope is not None else ""),
            "tags": [spec.tag],
            "parameters": params,
            "responses": {},
        }
        if PUBLIC not in spec.roles:
            operation["security"] = [{"bearer": []}, {"deviceKey": []}, {"session": []}]
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": _collect(json_schema_of(spec.body), components)}
                },
            }
        responses = operation["responses"]
        success: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
        if spec.response is not None and spec.status != 204:
            success["content"] = {
                "application/json": {"schema": _collect(json_schema_of(spec.response), components)}
            }
        responses[str(spec.status)] = success
        statuses = set(spec.extra_statuses)
        if PUBLIC not in spec.roles:
            statuses |= {401, 403}
        if spec.body is not None or spec.query is not None:
            statuses.add(422)
        if "{" in spec.path:
            statuses.add(404)
        for status in sorted(statuses):
            if status == spec.status:
                continue
            if status in (200, 201) and spec.response is not None:
                responses[str(status)] = success | {"description": _STATUS_TEXT[status]}
            elif status == 204:
                responses["204"] = {"description": _STATUS_TEXT[204]}
            else:
                responses[str(status)] = {
                    "description": _STATUS_TEXT.get(status, "Error"),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
        paths.setdefault(path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "window_service API (政务服务大厅叫号与效能监督)",
            "version": version,
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "deviceKey": {"type": "apiKey", "in": "header", "name": "X-Device-Key"},
                "session": {"type": "apiKey", "in": "cookie", "name": "window_service_session"},
            },
        },
    }
