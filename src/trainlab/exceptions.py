"""The one exception tree of trainlab.

Every error that crosses a boundary is a ``TrainlabError`` carrying an MLflow-compatible
``error_code`` and the HTTP status the server answers with::

    TrainlabError                      INTERNAL_ERROR           500
    ├── InvalidParameterValue          INVALID_PARAMETER_VALUE  400
    │   └── InvalidFilter              INVALID_PARAMETER_VALUE  400  (search grammar)
    ├── ResourceAlreadyExists          RESOURCE_ALREADY_EXISTS  400
    ├── ResourceNotFound               RESOURCE_DOES_NOT_EXIST  404
    ├── InvalidState                   INVALID_STATE            400  (e.g. logging to a deleted run)
    ├── ResourceConflict               RESOURCE_CONFLICT        409
    ├── ServiceUnavailable             TEMPORARILY_UNAVAILABLE  503  (server unreachable)
    └── StorageFailure                 INTERNAL_ERROR           507  (disk full, read-only)

The store translates database errors into these (once, in its unit of work), the server turns
them into ``{"error_code", "message"}`` (once, in its error handler), and the REST client turns
that JSON back into the same class. Nothing else catches broad exceptions.
"""

from __future__ import annotations

from typing import ClassVar

# MLflow's error_code -> HTTP status table (mlflow/exceptions.py), used by the REST client to
# map codes it receives and by the server for the codes it sends.
HTTP_STATUS_BY_CODE: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class TrainlabError(Exception):
    """Root of every trainlab error."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE.get(self.error_code, 500)

    def to_json(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameterValue(TrainlabError):
    error_code = "INVALID_PARAMETER_VALUE"


class InvalidFilter(InvalidParameterValue):
    """A search filter or order_by clause that does not parse or does not type-check."""


class ResourceAlreadyExists(TrainlabError):
    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceNotFound(TrainlabError):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class InvalidState(TrainlabError):
    error_code = "INVALID_STATE"

    @property
    def http_status(self) -> int:
        return 400


class ResourceConflict(TrainlabError):
    error_code = "RESOURCE_CONFLICT"


class ServiceUnavailable(TrainlabError):
    error_code = "TEMPORARILY_UNAVAILABLE"


class StorageFailure(TrainlabError):
    """The server could not write a file to its storage (disk full, read-only, permissions):
    not the request's fault, and not mended by sending it again soon (507: clients do not
    retry it, as they retry a 500 for minutes)."""

    @property
    def http_status(self) -> int:
        return 507


class RemoteError(TrainlabError):
    """An error answered by a server whose code has no class of its own here."""

    def __init__(self, error_code: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self._code = error_code
        self._status = http_status

    def __reduce__(self) -> tuple[type[RemoteError], tuple[str, str, int]]:
        # pickled with its three arguments (multiprocessing sends a worker's error so)
        return RemoteError, (self._code, self.message, self._status)

    @property
    def http_status(self) -> int:
        return self._status

    def to_json(self) -> dict[str, str]:
        return {"error_code": self._code, "message": self.message}


_BY_CODE: dict[str, type[TrainlabError]] = {
    cls.error_code: cls
    for cls in (
        InvalidParameterValue,
        ResourceAlreadyExists,
        ResourceNotFound,
        InvalidState,
        ResourceConflict,
        ServiceUnavailable,
    )
}


def from_json(payload: dict[str, object], http_status: int) -> TrainlabError:
    """Rebuild the exception a server answered with (the client side of the boundary)."""
    code = str(payload.get("error_code", "INTERNAL_ERROR"))
    message = str(payload.get("message", f"HTTP {http_status}"))
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    return RemoteError(code, message, http_status)
