"""JSON bodies of subscriptions, tenants, resource groups and the cloud metadata document."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from .backend import TENANT_ID

CLOUD_NAME = "ReconcilerLocalCloud"  # not a public cloud's name: see metadata_body


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


def metadata_body(base_url: str, api_version: str) -> object:
    """The cloud's endpoints, every one of them this emulator (so no token ever leaves the machine).

    As ARM answers by api-version: 2015-01-01 (or none) is the legacy object; 2019-05-01
    up to 2022-09-01 (exclusive) a list of clouds; 2022-09-01 and later (what
    ``az cloud register`` reads) the one cloud this endpoint belongs to, as an object.

    The cloud has a name of its own, as a private (Azure Stack) cloud has: Microsoft's
    clients keep built-in endpoint tables for "AzureCloud" and the other public clouds
    and would use those (sending the token to Azure) if the emulator claimed one of their names.
    """
    legacy = api_version in ("", "2015-01-01")
    single = not legacy and api_version >= "2022-09-01"
    root = base_url + "/"
    auth = {"loginEndpoint": root, "audiences": [root], "tenant": "common", "identityProvider": "AAD"}
    if legacy:
        return {
            "galleryEndpoint": root,
            "graphEndpoint": root,
            "portalEndpoint": root,
            "authentication": {"loginEndpoint": root, "audiences": [root]},
        }
    clouds = [
        {
            "name": CLOUD_NAME,
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
            "ossrdbmsResourceId": root,
            "gallery": root,
            "suffixes": {k: "localhost" for k in _SUFFIXES},
        }
    ]
    return clouds[0] if single else clouds


def openid_configuration_body(base_url: str, tenant: str) -> dict[str, Any]:
    """Microsoft Entra ID's OIDC discovery document, every endpoint on this emulator."""
    root = f"{base_url}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "issuer": f"{root}/v2.0",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "response_types_supported": ["code", "id_token", "token"],
        "tenant_region_scope": "EU",
    }


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def token_body(tenant: str, client_id: str, scope: str) -> dict[str, Any]:
    """A client-credentials token response; the access token is an unsigned JWT with the usual claims."""
    now = int(time.time())
    tid = TENANT_ID if tenant.lower() in ("common", "organizations") else tenant
    audience = scope.split(" ")[0].removesuffix(".default").removesuffix("/") if scope else ""
    claims = {
        "aud": audience,
        "iss": f"https://sts.emulator.localhost/{tid}/",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "appid": client_id,
        "oid": client_id,
        "sub": client_id,
        "tid": tid,
        "ver": "1.0",
    }
    access = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access}
