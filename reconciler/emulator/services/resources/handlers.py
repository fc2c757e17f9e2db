"""Microsoft.Resources routes (subscriptions, tenants, resource groups) and ``/metadata/endpoints``."""

from __future__ import annotations

from ...routing import Request, Response, Router
from .backend import ResourcesBackend
from .shapes import (
    metadata_body,
    openid_configuration_body,
    resource_group_body,
    subscription_body,
    tenant_body,
    token_body,
)

router: Router[ResourcesBackend] = Router()
P = dict[str, str]


@router.route("GET", "metadata/endpoints", "Metadata_Endpoints", public=True, versioned=False)
def metadata(b: ResourcesBackend, req: Request, p: P) -> Response:
    return Response(200, metadata_body(req.base_url, req.api_version))


@router.route("GET", "subscriptions", "Subscriptions_List")
def subscriptions_list(b: ResourcesBackend, req: Request, p: P) -> Response:
    subs = [subscription_body(s) for s in b.subscriptions()]
    return Response(200, {"value": subs, "count": {"type": "Total", "value": len(subs)}})


@router.route("GET", "subscriptions/{sub}", "Subscriptions_Get")
def subscription_get(b: ResourcesBackend, req: Request, p: P) -> Response:
    return Response(200, subscription_body(b.store.subscription(p["sub"])))


@router.route("GET", "tenants", "Tenants_List")
def tenants_list(b: ResourcesBackend, req: Request, p: P) -> Response:
    return Response(200, {"value": [tenant_body()]})


@router.route("GET", "subscriptions/{sub}/resourcegroups", "ResourceGroups_List")
def groups_list(b: ResourcesBackend, req: Request, p: P) -> Response:
    sub = b.store.subscription(p["sub"])
    return Response(
        200, {"value": [resource_group_body(sub, *b.resource_group(sub, rg)) for rg in b.resource_groups(sub)]}
    )


@router.route("GET", "subscriptions/{sub}/resourcegroups/{rg}", "ResourceGroups_Get")
def group_get(b: ResourcesBackend, req: Request, p: P) -> Response:
    sub = b.store.subscription(p["sub"])
    return Response(200, resource_group_body(sub, *b.resource_group(sub, p["rg"])))


# The emulated cloud's login endpoint (its metadata names this emulator): the two
# Microsoft Entra ID v2.0 endpoints a client-credentials sign-in uses (OIDC discovery,
# token), so `az login --service-principal` works with `core.instance_discovery=false`,
# as for Azure Stack. Any client id and secret are accepted; tokens are unsigned.
@router.route(
    "GET", "{tenant}/v2.0/.well-known/openid-configuration", "Identity_Discovery", public=True, versioned=False
)
def openid_configuration(b: ResourcesBackend, req: Request, p: P) -> Response:
    return Response(200, openid_configuration_body(req.base_url, p["tenant"]))


@router.route("POST", "{tenant}/oauth2/v2.0/token", "Identity_Token", public=True, versioned=False)
def token(b: ResourcesBackend, req: Request, p: P) -> Response:
    form = req.body if isinstance(req.body, dict) else {}
    if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
        return Response(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "AADSTS70003: The emulated cloud supports client credentials only.",
            },
        )
    return Response(200, token_body(p["tenant"], str(form["client_id"]), str(form.get("scope", ""))))
