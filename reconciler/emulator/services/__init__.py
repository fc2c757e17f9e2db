"""The emulated resource providers, one package each (moto-style: backend, shapes, handlers).

To add a provider: a package here with a backend class, a ``Router`` of thin handlers
and a :class:`Service` entry in :data:`SERVICES` (after the services it depends on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..lro import OperationEngine
from ..routing import Router
from ..store import Store
from .aks.backend import AksBackend
from .aks.handlers import router as aks_router
from .k8sconfig.backend import K8sConfigBackend
from .k8sconfig.handlers import router as k8sconfig_router
from .kube.backend import KubeBackend
from .kube.handlers import router as kube_router
from .ml.backend import MlBackend
from .ml.handlers import router as ml_router
from .storage.backend import StorageBackend
from .storage.handlers import router as storage_router

Built = dict[str, Any]  # service key → its backend, for services that depend on others


@dataclass(frozen=True)
class Service:
    key: str  # short name, also the attribute on Backend ("aks", "ml")
    namespace: str  # the ARM resource provider, e.g. "Microsoft.ContainerService"
    router: Router[Any]
    build: Callable[[Store, OperationEngine, Built], Any]


SERVICES: tuple[Service, ...] = (
    Service("aks", "Microsoft.ContainerService", aks_router, lambda s, lro, built: AksBackend(s, lro)),
    Service("kube", "Microsoft.ContainerService", kube_router, lambda s, lro, built: KubeBackend(s, lro, built["aks"])),
    Service("k8sconfig", "Microsoft.KubernetesConfiguration", k8sconfig_router,
            lambda s, lro, built: K8sConfigBackend(s, lro, built["aks"], built["kube"].inside)),
    Service("ml", "Microsoft.MachineLearningServices", ml_router,
            lambda s, lro, built: MlBackend(s, lro, built["aks"])),
    Service("storage", "Microsoft.Storage", storage_router, lambda s, lro, built: StorageBackend(s)),
)
