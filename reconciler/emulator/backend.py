"""The emulated cloud's behaviour, independent of HTTP: the composition root (moto-style backend).

One :class:`~.store.Store` holds the state, one :class:`~.lro.OperationEngine` runs the
long-running operations, and each resource provider in :data:`~.services.SERVICES`
gets its own backend over both. All calls must hold ``backend.lock``; the dispatcher
takes it per request.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .faults import Faults
from .lro import OperationEngine
from .seed import dump_world
from .services import SERVICES
from .services.aks.backend import AksBackend
from .services.ml.backend import MlBackend
from .store import Store


class Backend:
    """State + rules of the emulated ARM endpoints."""

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        *,
        state_file: str | Path | None = None,
        time_scale: float = 1.0,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        page_size: int = 50,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.faults = faults or Faults()
        self.store = Store(seed, state_file=state_file, clock=clock, page_size=page_size)
        self.lro = OperationEngine(self.store, time_scale, self.faults)
        self.services: dict[str, Any] = {}
        for svc in SERVICES:
            self.services[svc.key] = svc.build(self.store, self.lro, self.services)

    @property
    def lock(self) -> Any:
        return self.store.lock

    @property
    def aks(self) -> AksBackend:
        return self.services["aks"]  # type: ignore[no-any-return]

    @property
    def ml(self) -> MlBackend:
        return self.services["ml"]  # type: ignore[no-any-return]

    @property
    def page_size(self) -> int:
        return self.store.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self.store.page_size = value

    @property
    def time_scale(self) -> float:
        return self.lro.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.lro.time_scale = float(value)

    def advance(self) -> None:
        self.lro.advance()

    def flush(self) -> None:
        self.store.flush()

    def reset(self) -> None:
        self.store.reset()

    def record_request(self, operation_id: str) -> None:
        self.store.record_request(operation_id)

    # ------------------------------------------------------------------- admin
    def audit(self) -> dict[str, Any]:
        return {
            "requests": dict(self.store.requests),
            "violations": copy.deepcopy(self.store.violations),
            "operations": self.lro.audit(),
            # Uninstalls of the Azure ML extension while Kubernetes computes were attached (each broke them).
            "extensionViolations": copy.deepcopy(self.store.world.extension_violations),
            # AKS clusters deleted through a compute DELETE with underlyingResourceAction=Delete.
            "clusterDeletions": copy.deepcopy(self.store.world.cluster_deletions),
        }

    def state(self) -> dict[str, Any]:
        return dump_world(self.store.world)
