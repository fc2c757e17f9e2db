"""Microsoft.Storage routes and bodies: storage account GET (GetProperties) and listKeys."""

from __future__ import annotations

from typing import Any

from ...kube_model import StorageAccount
from ...routing import Request, Response, Router
from .backend import StorageBackend

router: Router[StorageBackend] = Router()
SA = "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
P = dict[str, str]


def account_body(a: StorageAccount) -> dict[str, Any]:
    blob = a.blob_endpoint if a.blob_endpoint.endswith("/") else a.blob_endpoint + "/"
    return {
        "id": a.id,
        "name": a.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": a.location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "primaryLocation": a.location,
            "statusOfPrimary": "available",
            "primaryEndpoints": {"blob": blob},
            "accessTier": "Hot",
            "allowSharedKeyAccess": True,
            "minimumTlsVersion": "TLS1_2",
            "supportsHttpsTrafficOnly": blob.startswith("https"),
            "creationTime": "2024-01-01T00:00:00.0000000Z",
        },
    }


@router.route("GET", SA, "StorageAccounts_GetProperties")
def get_properties(b: StorageBackend, req: Request, p: P) -> Response:
    return Response(200, account_body(b.account(p["sub"], p["rg"], p["name"])))


@router.route("POST", SA + "/listKeys", "StorageAccounts_ListKeys")
def list_keys(b: StorageBackend, req: Request, p: P) -> Response:
    a = b.account(p["sub"], p["rg"], p["name"])
    return Response(
        200,
        {
            "keys": [
                {
                    "keyName": "key1",
                    "value": a.key,
                    "permissions": "FULL",
                    "creationTime": "2024-01-01T00:00:00.0000000Z",
                },
                {
                    "keyName": "key2",
                    "value": a.key[::-1],
                    "permissions": "FULL",
                    "creationTime": "2024-01-01T00:00:00.0000000Z",
                },
            ]
        },
    )
