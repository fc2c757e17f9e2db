"""Microsoft.Resources routes (subscriptions, tenants, resource groups) and ``/metadata/endpoints``."""

from __future__ import annotations

from ...routing import Request, Response, Router
from .backend import ResourcesBackend
from .shapes import metadata_body, resource_group_body, subscription_body, tenant_body

router: Router[ResourcesBackend] = Router()
P = dict[str, str]


@router.route("GET", "metadata/endpoints", "Metadata_Endpoints", public=True, versioned=False)
def metadata(b: ResourcesBackend, req: Request, p: P) -> Response:
    return Response(200, metadata_body(req.base_url, req.api_version in ("", "2015-01-01")))


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
