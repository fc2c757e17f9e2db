"""Long-running operations: azure-mgmt-core's ARMPolling, with Azure's failures as CloudError and the first
poll timed by the initial response's Retry-After.

Its own module, imported only when an operation starts (or in the background as apply begins), because
azure-core's polling modules cost ~15 ms to import and `plan` never polls.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.polling.base_polling import LocationPolling, StatusCheckPolling
from azure.mgmt.core.polling.arm_polling import ARMPolling, AzureAsyncOperationPolling, BodyContentPolling

from reconciler.cloud.arm import CloudError


class ErrorMappingPolling(ARMPolling):
    """ARMPolling whose failures surface as CloudError (LROPoller re-raises them from result())."""

    def __init__(self, interval: float, what: str, *, answered_at: float = 0.0, **kwargs: Any) -> None:
        super().__init__(interval, **kwargs)
        self._what = what
        self._answered_at = answered_at

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        self._answered_at = self._answered_at or time.monotonic()  # the initial response has just arrived
        super().initialize(*args, **kwargs)

    def run(self) -> None:
        try:
            if not self.finished():
                # azure-core polls at once, asking again what Azure has just answered, and counts the next
                # Retry-After from that early poll, so the poll that sees the end lands late by as long as
                # this thread took to start. Wait out the first answer's Retry-After, counted from when it
                # arrived, instead.
                self._sleep(max(0.0, self._extract_delay() - (time.monotonic() - self._answered_at)))
            super().run()
        except AzureError as exc:
            err = CloudError.from_azure(exc, self._what)
            if err.status is not None and err.status < 300:  # a poll answered 200 with status Failed/Canceled
                err = CloudError(
                    err.message,
                    code=err.code,
                    what=self._what,
                    operation_failed=True,
                    request_id=err.request_id,
                    operation_id=self._operation_id(),
                )
            raise err from None

    def _operation_id(self) -> str | None:
        try:
            url = self._operation.get_polling_url()
        except Exception:  # no operation URL (a plain GET poll)
            return None
        return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None


class _StatusOnly(AzureAsyncOperationPolling):  # type: ignore[type-arg]
    """An Azure-AsyncOperation whose end is the end: no GET of the resource once the status says Succeeded."""

    def get_final_get_url(self, pipeline_response: Any) -> None:
        return None


def error_mapping_polling(
    interval: float, what: str, *, answered_at: float = 0.0, final_get: bool = True, **kwargs: Any
) -> ErrorMappingPolling:
    """The polling method for one operation. `answered_at`: when its initial response arrived
    (time.monotonic()), if the caller knows it; else when the poller is initialised.

    `final_get=False`: after a PUT, ARM's pattern GETs the resource once its operation has succeeded,
    for its final body. A caller that never reads that body (its result is then None) saves one request
    per operation, and when many operations end together, that many requests in a row at the end of an
    apply."""
    if not final_get:
        algorithms = [_StatusOnly(), LocationPolling(), BodyContentPolling(), StatusCheckPolling()]
        kwargs = {"lro_algorithms": algorithms, **kwargs}
    return ErrorMappingPolling(interval, what, answered_at=answered_at, **kwargs)
