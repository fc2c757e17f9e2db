"""The executor's handlers for legacy AKS computes: create, attach, update, scale, detach and delete.

Each write is guarded by the one-attachment rule: the workspace is read again before an attach or create, and
again after it, so an attachment made meanwhile elsewhere never passes unseen.
"""

from __future__ import annotations

from typing import Literal

from reconciler import bodies
from reconciler.desired import DesiredCluster
from reconciler.executor_base import StepBase, StepError
from reconciler.ids import cluster_key
from reconciler.plan import Change, Op, Step


class ComputeSteps(StepBase):
    """Steps of legacy AKS computes (`Op.CREATE`, `ATTACH`, `UPDATE`, `SCALE`, `DETACH`, `DELETE`)."""

    def _remove(self, step: Step, change: Change) -> None:
        """Detach (keep the AKS cluster) or delete (the workspace created it)."""
        current = self._current(self._ws(change), step.compute)
        if current is None:
            return  # already gone: a re-run after a crash
        self._refuse_if_in_flight(current)
        action: Literal["Detach", "Delete"] = "Delete" if step.op is Op.DELETE else "Detach"
        self._wait(step, self.computes.begin_delete(self._ws(change), step.compute, action))

    def _declared(self, step: Step, change: Change) -> DesiredCluster:
        if change.desired is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        return change.desired

    def _write(self, step: Step, change: Change) -> None:
        """Create, attach or update: PUT the compute, after the one-attachment check."""
        dc = self._declared(step, change)
        cluster_id = self._target_cluster(step, change)
        if step.op in (Op.ATTACH, Op.CREATE):
            self._refuse_second_attachment(step, cluster_id)
        tls = self.resolve_secrets(dc)
        was_created = change.observed is not None and change.observed.created
        location = self._location(cluster_id, change)
        if step.op is Op.CREATE:
            body = bodies.create_body(dc, tls)
        elif step.op is Op.ATTACH:
            body = bodies.attach_body(dc, cluster_id or "", location, tls, created=was_created)
        else:
            created = was_created or (change.observed is None and dc.spec.spec.create is not None)
            body = bodies.update_body(dc, cluster_id, location, tls, created=created)
        self._wait(step, self.computes.begin_create_or_update(self._ws(change), step.compute, body))
        if step.op in (Op.ATTACH, Op.CREATE):
            self._check_after(step, cluster_id)

    def _check_after(self, step: Step, cluster_id: str | None) -> None:
        """List the workspace again: an attachment made meanwhile elsewhere (another machine, a
        person in the portal) must fail the run loudly, with the repair, never pass unseen."""
        if step.workspace is None:
            raise StepError(f"{step.id}: not a workspace compute")
        computes = self.fresh_listing(step.workspace)
        mine = next((c for c in computes if c.name.lower() == step.compute.lower()), None)
        key = cluster_key(cluster_id) if cluster_id else (mine.cluster_key if mine else None)
        if not key:
            return
        others = [
            c
            for c in computes
            if c.name.lower() != step.compute.lower() and c.cluster_key == key and not c.is_kubernetes
        ]
        if others:
            names = ", ".join(repr(c.name) for c in others)
            raise StepError(
                f"after {step.op} of {step.compute!r}: cluster {key.rsplit('/', 1)[-1]!r} is also attached as {names} in this "
                f"workspace, so one of the attachments is broken. Repair: detach {names} (or {step.compute!r} if that is "
                f"the one to keep elsewhere), then run `reconciler apply`"
            )

    def _target_cluster(self, step: Step, change: Change) -> str | None:
        if step.op is Op.CREATE:
            return None
        if (
            step.op is Op.ATTACH
            and change.desired is not None
            and change.desired.cluster_id
            and not (change.observed and change.observed.created)
        ):
            return change.desired.cluster_id
        current = self._current(self._ws(change), step.compute)
        if current is not None and current.cluster_id:
            return current.cluster_id
        if change.desired is not None and change.desired.cluster_id:
            return change.desired.cluster_id
        return change.observed.cluster_id if change.observed else None

    def _location(self, cluster_id: str | None, change: Change) -> str | None:
        cluster = self.observed.cluster(cluster_id)
        if cluster is not None:
            return cluster.location
        return change.observed.location if change.observed else None

    def _scale(self, step: Step, change: Change) -> None:
        dc = self._declared(step, change)
        current = self._current(self._ws(change), step.compute)
        if current is None or not current.cluster_id:
            raise StepError(f"{step.id}: compute {step.compute!r} or its cluster no longer exists")
        cluster = self.aks.get_cluster(current.cluster_id)
        if cluster is None or cluster.primary_pool is None:
            raise StepError(f"{step.id}: AKS cluster {current.cluster_id} not found")
        count = dc.spec.spec.create.agentCount  # type: ignore[union-attr]
        self._wait(step, self.aks.begin_scale(current.cluster_id, cluster.primary_pool.name, count))

    def _refuse_second_attachment(self, step: Step, cluster_id: str | None) -> None:
        """Re-read the workspace: never start an attachment next to another one of the same cluster."""
        if step.workspace is None:
            raise StepError(f"{step.id}: not a workspace compute")
        key = cluster_key(cluster_id) if cluster_id else None
        for compute in self._listed_since_ready(step.workspace, step):
            if compute.name.lower() == step.compute.lower():
                self._refuse_if_in_flight(compute)
                continue
            if key and compute.cluster_key == key:
                state = "in flight" if compute.in_flight else compute.provisioning_state
                raise StepError(
                    f"refusing to {step.op} {step.compute!r}: cluster {(cluster_id or key).rsplit('/', 1)[-1]!r} is already attached "
                    f"as {compute.name!r} ({state}) in this workspace; a second attachment would break it"
                )
