"""The executor's handlers for the Kubernetes side: the Azure ML extension, Kubernetes computes and the
cluster-side steps run by AKS Run Command (namespace, TLS backup, removal of the legacy front end).
"""

from __future__ import annotations

from reconciler import bodies, clusterside, extension_body
from reconciler.desired import DesiredExtension
from reconciler.executor_base import StepBase, StepError, resolve_extension_secrets
from reconciler.plan import Change, Step


class KubernetesSteps(StepBase):
    """Steps of the extension (`Op.INSTALL`, `UPGRADE`, `UNINSTALL`), of Kubernetes computes and of Run Command."""

    def _extension_of(self, step: Step, change: Change) -> DesiredExtension:
        if change.extension is None or change.cluster_id is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        return change.extension

    def _install(self, step: Step, change: Change) -> None:
        """PUT the extension with every setting the Azure CLI would send (derived ones included)."""
        de = self._extension_of(step, change)
        cluster = self._cluster(de.cluster_id)
        current = self._kube().get_extension(de.cluster_id, step.compute)
        if current is not None and current.in_flight:
            raise StepError(
                f"extension {step.compute!r} has an operation in flight ({current.provisioning_state}); run apply again when it ends"
            )
        if current is not None and current.provisioning_state.lower() == "succeeded":
            return  # installed meanwhile (a re-run after a crash): verify compares the settings
        body = extension_body.install_body(de, cluster, resolve_extension_secrets(de))
        self._wait(step, self._kube().begin_install(de.cluster_id, step.compute, body))

    def _upgrade(self, step: Step, change: Change) -> None:
        """PATCH in place, from the extension as it is now; never uninstall + install."""
        de = self._extension_of(step, change)
        cluster = self._cluster(de.cluster_id)
        current = self._kube().get_extension(de.cluster_id, step.compute)
        if current is None:
            raise StepError(f"extension {step.compute!r} on {cluster.name!r} no longer exists; plan again")
        if current.in_flight:
            raise StepError(
                f"extension {step.compute!r} has an operation in flight ({current.provisioning_state}); run apply again when it ends"
            )
        digest = de.protected_digest()
        send_protected = bool(digest) and current.settings.get(extension_body.DIGEST_KEY) != digest
        pem = resolve_extension_secrets(de) if send_protected else None
        patch = extension_body.upgrade_body(de, cluster, current, pem, send_protected=send_protected)
        self._wait(step, self._kube().begin_upgrade(de.cluster_id, step.compute, patch))

    def _uninstall(self, step: Step, change: Change) -> None:
        """Refused if any Kubernetes compute in a visible workspace still uses the cluster: it would break them all."""
        de = self._extension_of(step, change)
        users = [
            f"{ref.workspace_name}/{c.name}"
            for ref in self._visible_workspaces()
            for c in self._listed_since_ready(ref, step)
            if c.is_kubernetes and c.cluster_key == de.cluster_key
        ]
        if users:
            raise StepError(
                f"refusing to uninstall the extension of {de.cluster_id.rsplit('/', 1)[-1]!r}: "
                f"Kubernetes compute(s) {', '.join(sorted(users))} still use it"
            )
        if self._kube().get_extension(de.cluster_id, step.compute) is None:
            return  # already gone: a re-run after a crash
        self._wait(step, self._kube().begin_uninstall(de.cluster_id, step.compute))

    def _create_namespace(self, step: Step, change: Change) -> None:
        """`kubectl create namespace` by AKS Run Command; an existing namespace is success (idempotent)."""
        if change.kubernetes is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        namespace = change.kubernetes.namespace
        timeout = self.timeouts.get(step.op, 300.0)
        code, logs = self._kube().run_command(
            change.kubernetes.cluster_id, f"kubectl create namespace {namespace}", timeout=timeout
        )
        if code != 0 and "alreadyexists" not in logs.replace(" ", "").lower():
            raise StepError(f"creating namespace {namespace!r} failed (exit code {code}): {logs.strip()[:300]}")

    def _save_tls(self, step: Step, change: Change) -> None:
        """Read azuremlfessl by AKS Run Command into the backup folder (0600, never overwritten); content never shown."""
        from reconciler import tlsbackup

        if change.workspace is None or self.tls_backups is None:
            raise StepError(f"{step.id}: no backup folder configured")
        if tlsbackup.has_backup(self.tls_backups, change.workspace, step.compute):
            return  # saved by an earlier run
        current = self._current(change.workspace, step.compute)
        if current is None or not current.cluster_id:
            raise StepError(f"compute {step.compute!r} is gone: its certificate can no longer be read")
        code, logs = self._kube().run_command(
            current.cluster_id, clusterside.READ_TLS_SECRET, timeout=self.timeouts.get(step.op, 300.0)
        )
        if code != 0:
            raise StepError(
                f"reading secret {clusterside.TLS_SECRET} failed (exit code {code}): {clusterside.redact(logs)}"
            )
        try:
            pair = clusterside.parse_tls_secret(logs)
            tlsbackup.write_backup(self.tls_backups, change.workspace, step.compute, pair.certificate, pair.key)
        except (clusterside.SecretFormatError, tlsbackup.BackupExistsError) as exc:
            raise StepError(str(exc)) from None

    def _remove_legacy_fe(self, step: Step, change: Change) -> None:
        """Delete the azureml-fe objects in `default` by AKS Run Command; refused while any visible workspace
        still has a legacy compute attached to the cluster (it would stop serving). Idempotent."""
        de = self._extension_of(step, change)
        users = [
            f"{ref.workspace_name}/{c.name}"
            for ref in self._visible_workspaces()
            for c in self._listed_since_ready(ref, step)
            if not c.is_kubernetes and c.cluster_key == de.cluster_key
        ]
        if users:
            raise StepError(
                f"refusing to remove the azureml-fe objects of {de.cluster_id.rsplit('/', 1)[-1]!r}: legacy "
                f"compute(s) {', '.join(sorted(users))} are still attached to it"
            )
        timeout = self.timeouts.get(step.op, 300.0)
        code, logs = self._kube().run_command(de.cluster_id, clusterside.REMOVE_LEGACY_FE, timeout=timeout)
        if code != 0:
            raise StepError(f"removing the azureml-fe objects failed (exit code {code}): {clusterside.redact(logs)}")

    def _put_kubernetes(self, step: Step, change: Change) -> None:
        dk = change.kubernetes
        if dk is None:
            raise StepError(f"{step.id}: nothing declared to {step.op}")
        cluster = self._cluster(dk.cluster_id)
        self._wait(
            step,
            self.computes.begin_create_or_update(
                dk.workspace, step.compute, bodies.kubernetes_body(dk, cluster.location)
            ),
        )

    def _detach_kubernetes(self, step: Step, change: Change) -> None:
        """Always Detach: a Kubernetes compute is never removed with Delete."""
        if change.workspace is None:
            raise StepError(f"{step.id}: no workspace")
        current = self._current(change.workspace, step.compute)
        if current is None:
            return
        self._refuse_if_in_flight(current)
        self._wait(step, self.computes.begin_delete(change.workspace, step.compute, "Detach"))
