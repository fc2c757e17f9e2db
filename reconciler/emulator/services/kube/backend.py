"""AKS Run Command: a kubectl command line run against the cluster's modelled inside.

``POST …/runCommand`` starts a long-running operation; when it ends the command runs and
its exit code and logs become the result served at ``…/commandResults/{id}``.
"""

from __future__ import annotations

import uuid
from typing import Any

from ...errors import BadRequest
from ...lro import OperationEngine
from ...model import Cluster, Operation
from ...store import Store
from ..aks.backend import AksBackend
from . import kubectl
from .inside import InsideBackend

PROVIDER = "kube"


class KubeBackend:
    def __init__(self, store: Store, lro: OperationEngine, aks: AksBackend) -> None:
        self.store = store
        self.lro = lro
        self.aks = aks
        self.inside = InsideBackend(store)
        lro.on_finish(PROVIDER, self._finish)

    def run_command(self, cl: Cluster, body: Any) -> Operation:
        if not isinstance(body, dict) or not str(body.get("command") or "").strip():
            raise BadRequest("The request body must carry a non-empty 'command'.")
        if cl.provisioning_state in ("Deleting", "Creating"):
            raise BadRequest(f"Run Command is not available while the cluster is {cl.provisioning_state}.")
        return self.lro.start(
            "runCommand",
            PROVIDER,
            f"{cl.id}/runCommand/{uuid.uuid4()}",
            cl.subscription,
            cl.location,
            payload={"command": str(body["command"]), "cluster": cl.id},
        )

    def result(self, cl: Cluster, command_id: str) -> Operation:
        op = self.lro.get(command_id)
        if op.kind != "runCommand" or str(op.payload.get("cluster", "")).lower() != cl.id.lower():
            raise BadRequest(f"Command '{command_id}' was not run on cluster '{cl.name}'.")
        return op

    def _finish(self, op: Operation, err: dict[str, Any] | None) -> None:
        if op.kind != "runCommand" or err:
            return
        cl = self.aks.by_id(str(op.payload.get("cluster")))
        if cl is None:
            op.payload.update(exitCode=1, logs="error: the cluster no longer exists\n")
            return
        code, logs, _changed = kubectl.run(self.inside.of(cl), str(op.payload["command"]))
        op.payload.update(exitCode=code, logs=logs)
        self.store.dirty = True
