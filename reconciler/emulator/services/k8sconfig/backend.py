"""Microsoft.KubernetesConfiguration behaviour: cluster extensions on managed clusters.

Install (PUT), upgrade (PATCH, or a PUT over an existing extension) and uninstall (DELETE)
are long-running. The Azure ML extension's install fails its health check as Azure's does
(see :mod:`.rules`); uninstalling it under attached Kubernetes computes succeeds and breaks
every one of them, which the audit records as an extension violation.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ... import domain
from ...errors import BadRequest, Conflict, ResourceNotFound, detail
from ...kube_model import AZUREML_EXTENSION_TYPE, Extension, KubeObject
from ...lro import OperationEngine
from ...model import Cluster, Compute, Operation
from ...store import Store
from ..aks.backend import AksBackend
from ..kube.inside import InsideBackend, legacy_fe_objects
from . import rules

PROVIDER = "k8sconfig"
RELEASE_NAMESPACE = "azureml"
EXT_OBJECTS = (
    ("Deployment", "azureml-fe-v2"),
    ("Service", "azureml-fe"),
    ("Deployment", "amlarc-identity-controller"),
    ("Deployment", "inference-operator-controller-manager"),
)


class K8sConfigBackend:
    def __init__(self, store: Store, lro: OperationEngine, aks: AksBackend, inside: InsideBackend) -> None:
        self.store = store
        self.lro = lro
        self.aks = aks
        self.inside = inside
        lro.on_finish(PROVIDER, self._finish)

    # ----------------------------------------------------------------- lookup
    def extensions(self, cl: Cluster) -> list[Extension]:
        return list(self.inside.of(cl).extensions.values())

    def extension(self, cl: Cluster, name: str) -> Extension:
        ext = self.inside.of(cl).extensions.get(name.lower())
        if ext is None:
            raise ResourceNotFound(
                f"The Resource 'Microsoft.KubernetesConfiguration/extensions/{name}' under "
                f"cluster '{cl.name}' was not found."
            )
        return ext

    def versions(self, extension_type: str) -> list[dict[str, Any]]:
        seeded = self.store.world.extension_types.get(extension_type.lower())
        if seeded is not None:
            return seeded
        return rules.DEFAULT_VERSIONS if extension_type.lower() == AZUREML_EXTENSION_TYPE.lower() else []

    def computes_on(self, cl: Cluster, compute_type: str) -> list[Compute]:
        """Computes of ``compute_type`` bound to ``cl`` in every workspace."""
        return [
            c
            for ws in self.store.world.workspaces.values()
            for c in ws.computes.values()
            if c.compute_type.lower() == compute_type.lower()
            and c.resource_id
            and c.resource_id.lower() == cl.id.lower()
        ]

    # ---------------------------------------------------------------- changes
    def put(self, cl: Cluster, name: str, body: Any) -> tuple[Extension, Operation, bool]:
        props = _props(body)
        ext_type = str(props.get("extensionType") or "")
        existing = self.inside.of(cl).extensions.get(name.lower())
        if existing is not None:
            if ext_type and ext_type.lower() != existing.extension_type.lower():
                raise BadRequest(
                    f"extensionType of extension '{name}' cannot change ('{existing.extension_type}' → '{ext_type}')."
                )
            self._refuse_if_busy(existing)
            # Over a failed install a PUT installs again; over a healthy extension it upgrades in place.
            kind = "install" if existing.provisioning_state == "Failed" and existing.installed is False else "upgrade"
            return existing, self._write(cl, existing, props, merge=False, kind=kind), False
        if not ext_type:
            raise BadRequest("properties.extensionType is required.")
        if ext_type.lower() == AZUREML_EXTENSION_TYPE.lower():
            other = next((e for e in self.extensions(cl) if e.extension_type.lower() == ext_type.lower()), None)
            if other is not None:
                raise BadRequest(
                    f"Only one instance of extension type '{AZUREML_EXTENSION_TYPE}' is allowed per "
                    f"cluster; '{cl.name}' already has it as '{other.name}'."
                )
        now = self.store.clock()
        ext = Extension(
            cluster_id=cl.id,
            name=name,
            extension_type=ext_type,
            properties={},
            provisioning_state="Creating",
            identity_principal=str(uuid.uuid4()),
            created_at=now,
            modified_at=now,
        )
        self.inside.of(cl).extensions[name.lower()] = ext
        return ext, self._write(cl, ext, props, merge=False, kind="install"), True

    def patch(self, cl: Cluster, name: str, body: Any) -> tuple[Extension, Operation]:
        ext = self.extension(cl, name)
        self._refuse_if_busy(ext)
        return ext, self._write(cl, ext, _props(body), merge=True, kind="upgrade")

    def _write(self, cl: Cluster, ext: Extension, props: dict[str, Any], merge: bool, kind: str) -> Operation:
        new = copy.deepcopy(ext.properties) if merge else {}
        for k, v in props.items():
            if k in ("configurationSettings", "configurationProtectedSettings"):
                continue
            new[k] = copy.deepcopy(v)
        settings = dict(ext.properties.get("configurationSettings") or {}) if merge else {}
        for k, v in (props.get("configurationSettings") or {}).items():
            if v is None:
                settings.pop(k, None)
            else:
                settings[k] = v
        new["configurationSettings"] = settings
        protected = set(ext.protected_keys) if merge else set()
        for k, v in (props.get("configurationProtectedSettings") or {}).items():
            (protected.discard if v is None else protected.add)(k)
        new.setdefault("autoUpgradeMinorVersion", True)
        if new.get("autoUpgradeMinorVersion") and not new.get("releaseTrain"):
            new["releaseTrain"] = "Stable"
        if ext.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower():
            new.setdefault("scope", {"cluster": {"releaseNamespace": RELEASE_NAMESPACE}})
        ext.properties, ext.protected_keys = new, sorted(protected)
        ext.provisioning_state = "Creating" if kind == "install" else "Updating"
        ext.error = None
        ext.modified_at = self.store.clock()
        self.store.dirty = True
        return self.lro.start(kind, PROVIDER, ext.id, cl.subscription, cl.location, fail_with=self._health(cl, ext))

    def _health(self, cl: Cluster, ext: Extension) -> dict[str, Any] | None:
        """The failure the install or upgrade will end with (Azure's health check), or None."""
        if ext.extension_type.lower() != AZUREML_EXTENSION_TYPE.lower():
            return None
        legacy = [c.name for c in self.computes_on(cl, "AKS")]
        leftovers = [f"{o.kind.lower()}/{o.name}" for o in legacy_fe_objects(self.inside.of(cl))]
        settings = ext.properties.get("configurationSettings") or {}
        nodes = sum(p.count for p in cl.agent_pools)
        version = ext.properties.get("version")
        return (
            rules.legacy_error(legacy, leftovers)
            or rules.version_error(
                self.versions(ext.extension_type),
                str(version) if version else None,
                str(ext.properties.get("releaseTrain") or "stable"),
                cl.kubernetes_version,
            )
            or rules.settings_error(settings, ext.protected_keys, nodes)
        )

    def delete(self, cl: Cluster, name: str) -> Operation | None:
        ext = self.inside.of(cl).extensions.get(name.lower())
        if ext is None:
            return None
        self._refuse_if_busy(ext)
        ext.provisioning_state = "Deleting"
        ext.modified_at = self.store.clock()
        if ext.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower():
            attached = self.computes_on(cl, "Kubernetes")
            if attached:
                self.store.world.extension_violations.append(
                    {
                        "kind": "extensionUninstalledWithComputes",
                        "clusterId": cl.id,
                        "extension": ext.name,
                        "computes": [c.id for c in attached],
                        "at": domain.iso(self.store.clock()),
                    }
                )
        self.store.dirty = True
        return self.lro.start("uninstall", PROVIDER, ext.id, cl.subscription, cl.location)

    def _refuse_if_busy(self, ext: Extension) -> None:
        running = self.lro.inflight_op(ext.id)
        if running is not None:
            raise Conflict(
                f"Extension '{ext.name}' has an operation in progress ({running.kind}, {running.id}); "
                "retry after it completes."
            )

    # ------------------------------------------------------------- completion
    def by_id(self, ext_id: str) -> tuple[Cluster | None, Extension | None]:
        cl_id, _, name = ext_id.partition("/providers/Microsoft.KubernetesConfiguration/extensions/")
        cl = self.aks.by_id(cl_id)
        ext = self.store.world.insides.get(cl_id.lower())
        found = ext.extensions.get(name.lower()) if ext else None
        return cl, found

    def _finish(self, op: Operation, err: dict[str, Any] | None) -> None:
        cl, ext = self.by_id(op.target)
        if cl is None or ext is None:
            return
        ext.modified_at = self.store.clock()
        if err:
            ext.provisioning_state, ext.error = "Failed", copy.deepcopy(err)
            return
        inside = self.inside.of(cl)
        if op.kind == "uninstall":
            del inside.extensions[ext.name.lower()]
            if ext.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower():
                self._uninstalled(cl, ext)
            return
        ext.provisioning_state, ext.error, ext.installed = "Succeeded", None, True
        if ext.extension_type.lower() == AZUREML_EXTENSION_TYPE.lower():
            ns = str(
                ((ext.properties.get("scope") or {}).get("cluster") or {}).get("releaseNamespace") or RELEASE_NAMESPACE
            )
            self.inside.create_namespace(cl, ns)
            for kind, name in EXT_OBJECTS:
                inside.put(KubeObject(kind, ns, name, {"app.kubernetes.io/managed-by": "Helm"}))

    def _uninstalled(self, cl: Cluster, ext: Extension) -> None:
        inside = self.inside.of(cl)
        ns = str(
            ((ext.properties.get("scope") or {}).get("cluster") or {}).get("releaseNamespace") or RELEASE_NAMESPACE
        )
        inside.objects = [o for o in inside.objects if o.namespace.lower() != ns.lower()]
        inside.namespaces = [n for n in inside.namespaces if n.lower() != ns.lower()]
        err = detail(
            "ExtensionNotFound",
            f"The Azure ML extension '{ext.name}' on cluster '{cl.id}' was uninstalled; "
            "this Kubernetes compute is broken. Install the extension again, then "
            "detach and attach the compute.",
        )
        for c in self.computes_on(cl, "Kubernetes"):
            c.provisioning_state = "Failed"
            c.provisioning_errors = [{"error": dict(err)}]
            c.modified_on_us = self.store.stamp_us()


def _props(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("properties") or {}, dict):
        raise BadRequest("The request body must be an extension with 'properties'.")
    props = body.get("properties") or {}
    for k in ("configurationSettings", "configurationProtectedSettings"):
        if props.get(k) is not None and not isinstance(props[k], dict):
            raise BadRequest(f"properties.{k} must be an object of strings.")
    return props
