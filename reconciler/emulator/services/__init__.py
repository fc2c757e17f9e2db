"""The emulated resource providers, one package each (moto-style: backend, shapes, handlers).

To add a provider: a package here with a backend class, a ``Router`` of thin handlers
and a :class:`Service` entry in :data:`SERVICES` (after the services it depends on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import apiversions
from ..lro import OperationEngine
from ..routing import Router
from ..store import Store
from .aks.backend import AksBackend
from .aks.handlers import router as aks_router
from .k8sconfig import API_VERSIONS as K8SCONFIG_API_VERSIONS
from .k8sconfig.backend import K8sConfigBackend
from .k8sconfig.handlers import router as k8sconfig_router
from .kube.backend import KubeBackend
from .kube.handlers import router as kube_router
from .ml.backend import MlBackend
from .ml.handlers import router as ml_router
from .resources.backend import ResourcesBackend
from .resources.handlers import router as resources_router
from .storage import API_VERSIONS as STORAGE_API_VERSIONS
from .storage.backend import StorageBackend
from .storage.handlers import router as storage_router

Built = dict[str, Any]  # service key → its backend, for services that depend on others


@dataclass(frozen=True)
class Service:
    key: str  # short name, also the attribute on Backend ("aks", "ml")
    namespace: str  # the ARM resource provider, e.g. "Microsoft.ContainerService"
    router: Router[Any]
    build: Callable[[Store, OperationEngine, Built], Any]
    api_versions: frozenset[str]
    arm_builtin: bool = False  # ARM's own types answer InvalidApiVersionParameter, not NoRegisteredProviderFound


SERVICES: tuple[Service, ...] = (
    Service(
        "resources",
        "Microsoft.Resources",
        resources_router,
        lambda s, lro, built: ResourcesBackend(s),
        apiversions.RESOURCES,
        arm_builtin=True,
    ),
    Service(
        "aks",
        "Microsoft.ContainerService",
        aks_router,
        lambda s, lro, built: AksBackend(s, lro),
        apiversions.CONTAINER_SERVICE,
    ),
    Service(
        "ml",
        "Microsoft.MachineLearningServices",
        ml_router,
        lambda s, lro, built: MlBackend(s, lro, built["aks"]),
        apiversions.MACHINE_LEARNING,
    ),
    Service(
        "kube",
        "Microsoft.ContainerService",
        kube_router,
        lambda s, lro, built: KubeBackend(s, lro, built["aks"]),
        apiversions.CONTAINER_SERVICE,
    ),
    Service(
        "k8sconfig",
        "Microsoft.KubernetesConfiguration",
        k8sconfig_router,
        lambda s, lro, built: K8sConfigBackend(s, lro, built["aks"], built["kube"].inside),
        K8SCONFIG_API_VERSIONS,
    ),
    Service(
        "storage",
        "Microsoft.Storage",
        storage_router,
        lambda s, lro, built: StorageBackend(s),
        STORAGE_API_VERSIONS,
    ),
)
