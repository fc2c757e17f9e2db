"""JSON bodies of subscriptions, tenants, resource groups and the cloud metadata document."""

from __future__ import annotations

from typing import Any

from .backend import TENANT_ID


def subscription_body(sub: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub,
        "tenantId": TENANT_ID,
        "displayName": f"Emulated subscription {sub[:8]}",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def tenant_body() -> dict[str, Any]:
    return {
        "id": f"/tenants/{TENANT_ID}",
        "tenantId": TENANT_ID,
        "countryCode": "US",
        "displayName": "Emulated tenant",
        "domains": ["emulator.localhost"],
        "tenantCategory": "Home",
        "defaultDomain": "emulator.localhost",
        "tenantType": "AAD",
    }


def resource_group_body(sub: str, rg: str, location: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
        "name": rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": {},
        "properties": {"provisioningState": "Succeeded"},
    }


_SUFFIXES = (
    "azureDataLakeStoreFileSystem",
    "acrLoginServer",
    "sqlServerHostname",
    "azureDataLakeAnalyticsCatalogAndJob",
    "keyVaultDns",
    "storage",
    "azureFrontDoorEndpointSuffix",
    "storageSyncEndpointSuffix",
    "mhsmDns",
    "mysqlServerEndpoint",
    "postgresqlServerEndpoint",
    "mariadbServerEndpoint",
    "synapseAnalytics",
    "attestationEndpoint",
)


def metadata_body(base_url: str, legacy: bool) -> object:
    """The cloud's endpoints, every one of them this emulator (so no token ever leaves the machine).

    api-version 2015-01-01 (what ``az cloud register`` reads) is one object; later
    versions are a list of clouds.
    """
    root = base_url + "/"
    auth = {"loginEndpoint": root, "audiences": [root], "tenant": "common", "identityProvider": "AAD"}
    if legacy:
        return {
            "galleryEndpoint": root,
            "graphEndpoint": root,
            "portalEndpoint": root,
            "authentication": {"loginEndpoint": root, "audiences": [root]},
        }
    return [
        {
            "name": "AzureCloud",
            "portal": root,
            "authentication": auth,
            "media": root,
            "graphAudience": root,
            "graph": root,
            "batch": root,
            "resourceManager": root,
            "vmImageAliasDoc": root,
            "sqlManagement": root,
            "microsoftGraphResourceId": root,
            "appInsightsResourceId": root,
            "appInsightsTelemetryChannelResourceId": root,
            "attestationResourceId": root,
            "synapseAnalyticsResourceId": root,
            "logAnalyticsResourceId": root,
            "ossrDbmsResourceId": root,
            "gallery": root,
            "suffixes": {k: "localhost" for k in _SUFFIXES},
        }
    ]
