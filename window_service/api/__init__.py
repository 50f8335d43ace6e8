"""The HTTP API's machinery: errors, the endpoint decorator, the OpenAPI document."""
