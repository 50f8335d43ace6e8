"""The HTTP API as a whole (window_service/api/ and every route): errors, scope, authz, fuzz."""
