"""Wire schemas for the OpenAPI document only.

Routes read bodies by hand (``kinema.api.body``) so that every failure is the dialect's own 400;
these pydantic models describe the same bodies and answers for clients, documentation and the
schemathesis fuzz run, and are never used to validate a request. ``kinema.api.schemas.openapi``
attaches them to the generated document.
"""
