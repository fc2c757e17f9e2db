"""JSON bodies of Microsoft.KubernetesConfiguration resources (api-version 2025-03-01 shapes)."""

from __future__ import annotations

import copy
from typing import Any

from ... import domain
from ...kube_model import Extension
from ...model import Operation
from . import rules

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def extension_body(ext: Extension, versions: list[dict[str, Any]]) -> dict[str, Any]:
    """An extension as GET returns it: protected settings never come back."""
    props: dict[str, Any] = copy.deepcopy(ext.properties)
    props["extensionType"] = ext.extension_type
    props["configurationProtectedSettings"] = {}
    props.setdefault("version", None)
    props["currentVersion"] = rules.resolved_version(
        versions, props.get("version"), str(props.get("releaseTrain") or "stable")
    )
    props["provisioningState"] = ext.provisioning_state
    props["statuses"] = []
    if ext.error:
        props["errorInfo"] = dict(ext.error)
        props["statuses"] = [
            {
                "code": "InstallationFailed",
                "level": "Error",
                "displayStatus": "Failed",
                "message": ext.error.get("message", ""),
                "time": domain.iso(ext.modified_at),
            }
        ]
    props["customLocationSettings"] = {}
    props["isSystemExtension"] = False
    props["aksAssignedIdentity"] = {"type": "SystemAssigned", "principalId": ext.identity_principal, "tenantId": TENANT}
    return {
        "id": ext.id,
        "name": ext.name,
        "type": "Microsoft.KubernetesConfiguration/extensions",
        "identity": {"type": "SystemAssigned", "principalId": ext.identity_principal, "tenantId": TENANT},
        "systemData": {"createdAt": domain.iso(ext.created_at), "lastModifiedAt": domain.iso(ext.modified_at)},
        "properties": props,
    }


def operation_status_body(op: Operation, ext_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f"{ext_id}/operations/{op.id}", "name": op.id, "status": op.status, "properties": {}}
    if op.status == "Failed" and op.error:
        body["error"] = dict(op.error)
    return body


def versions_body(versions: list[dict[str, Any]], base_id: str, train: str | None) -> dict[str, Any]:
    items = []
    for v in versions:
        if train and v.get("releaseTrain", "stable").lower() != train.lower():
            continue
        unsupported = v.get("unsupportedKubernetesVersions") or []
        items.append(
            {
                "id": f"{base_id}/{v['version']}",
                "name": v["version"],
                "type": "Microsoft.KubernetesConfiguration/extensionTypes/versions",
                "properties": {
                    "version": v["version"],
                    "releaseTrain": v.get("releaseTrain", "stable"),
                    "supportedClusterTypes": ["managedClusters", "connectedClusters"],
                    "unsupportedKubernetesVersions": {
                        "managedCluster": [{"distributions": ["AKS"], "unsupportedVersions": list(unsupported)}],
                        "connectedCluster": [{"distributions": ["*"], "unsupportedVersions": list(unsupported)}],
                    },
                },
            }
        )
    return {"value": items}
