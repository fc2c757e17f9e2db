"""The seams between the product and Azure: what the executor and the workflow call.

`reconciler.cloud` implements these against ARM; tests and benchmarks may pass fakes.
Both clients speak domain objects (`state.Compute`, `state.AksCluster`), never REST bodies,
except for the request bodies built by `bodies`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from reconciler.state import AksCluster, Compute, Extension, KubernetesVersion, ObservedState, WorkspaceRef


class Poller(Protocol):
    """A long-running Azure operation (azure-core's LROPoller satisfies it)."""

    def result(self, timeout: float | None = None) -> object: ...

    def done(self) -> bool: ...


class ComputesApi(Protocol):
    """Azure ML workspace computes."""

    def list(self, ws: WorkspaceRef) -> list[Compute] | None: ...

    def get(self, ws: WorkspaceRef, name: str) -> Compute | None: ...

    def begin_create_or_update(self, ws: WorkspaceRef, name: str, body: Mapping[str, object]) -> Poller: ...

    def begin_delete(
        self, ws: WorkspaceRef, name: str, underlying_resource_action: Literal["Detach", "Delete"]
    ) -> Poller: ...


class AksApi(Protocol):
    """AKS managed clusters."""

    def list_clusters(self, subscription_id: str) -> list[AksCluster]: ...

    def get_cluster(self, cluster_id: str) -> AksCluster | None: ...

    def kubernetes_versions(self, subscription_id: str, region: str) -> tuple[KubernetesVersion, ...]: ...

    def begin_scale(self, cluster_id: str, pool_name: str, count: int) -> Poller: ...


class KubernetesApi(Protocol):
    """The Azure ML cluster extension and AKS Run Command."""

    def get_extension(self, cluster_id: str, name: str) -> Extension | None: ...

    def begin_install(self, cluster_id: str, name: str, body: Mapping[str, object]) -> Poller: ...

    def begin_upgrade(self, cluster_id: str, name: str, patch: Mapping[str, object]) -> Poller: ...

    def begin_uninstall(self, cluster_id: str, name: str) -> Poller: ...

    def run_command(self, cluster_id: str, command: str, *, timeout: float) -> tuple[int, str]: ...


class Observer(Protocol):
    """Reads the observed state of workspaces, attach targets and regions."""

    def __call__(self, refs: list[WorkspaceRef], attach_ids: list[str], regions: list[str]) -> ObservedState: ...
