"""Named ARM errors: each Azure error code the emulator answers with, as an exception class.

Raise one from any layer; the dispatcher turns it into ``{"error": {"code", "message"}}``
with its status. ``detail()`` gives the inner object, which failed operations carry.
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An ARM error response with an HTTP status."""

    status = 400
    code = "BadRequest"

    def __init__(self, *args: Any) -> None:
        # ArmError(status, code, message) for one-off codes; subclasses take (message).
        if len(args) == 3:
            self.status, self.code, self.message = int(args[0]), str(args[1]), str(args[2])
        else:
            (self.message,) = (str(a) for a in args)
        super().__init__(f"{self.status} {self.code}: {self.message}")
        self.headers: dict[str, str] = {}

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    def body(self) -> dict[str, Any]:
        return {"error": self.detail()}


def detail(code: str, message: str) -> dict[str, Any]:
    """The inner error object, for an operation that will end Failed."""
    return {"code": code, "message": message}


class BadRequest(ArmError):
    status, code = 400, "BadRequest"


class PropertyChangeNotAllowed(ArmError):
    status, code = 400, "PropertyChangeNotAllowed"


class InvalidRequestContent(ArmError):
    status, code = 400, "InvalidRequestContent"


class MissingApiVersionParameter(ArmError):
    status, code = 400, "MissingApiVersionParameter"


class InvalidApiVersionParameter(ArmError):
    status, code = 400, "InvalidApiVersionParameter"


class NoRegisteredProviderFound(ArmError):
    status, code = 400, "NoRegisteredProviderFound"


class LocationNotAvailableForResourceType(ArmError):
    status, code = 400, "LocationNotAvailableForResourceType"


class NoRegisteredProviderFoundForLocation(ArmError):
    """What the AKS versions endpoint answers for a region name Azure does not know."""

    status, code = 400, "NoRegisteredProviderFound"


class AuthenticationFailed(ArmError):
    status, code = 401, "AuthenticationFailed"


class SubscriptionNotFound(ArmError):
    status, code = 404, "SubscriptionNotFound"


class ResourceGroupNotFound(ArmError):
    status, code = 404, "ResourceGroupNotFound"


class ResourceNotFound(ArmError):
    status, code = 404, "ResourceNotFound"


class NotFound(ArmError):
    status, code = 404, "NotFound"


class MethodNotAllowed(ArmError):
    status, code = 405, "MethodNotAllowed"


class Conflict(ArmError):
    status, code = 409, "Conflict"


class OperationNotAllowed(ArmError):
    status, code = 409, "OperationNotAllowed"


class TooManyRequests(ArmError):
    status, code = 429, "TooManyRequests"


class InternalServerError(ArmError):
    status, code = 500, "InternalServerError"
