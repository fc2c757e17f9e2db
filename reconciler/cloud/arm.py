"""Azure ML workspace computes over the REST API (api-version 2026-07-01).

The stable ML management SDK lags the API version this project needs, so the
calls are built by hand as `HttpRequest`s and sent through azure-mgmt-core's
`ARMPipelineClient`: azure-core's RetryPolicy handles throttling, 5xx and dropped
connections, and `ARMPolling` + `LROPoller` handle long-running operations.
Request bodies may hold TLS keys: they are never logged or put in errors.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote

from reconciler import __version__
from reconciler.clients import Poller
from reconciler.cloud.auth import MAX_CALL_SECONDS, Connection
from reconciler.state import Compute, Tls, WorkspaceRef

ML_API_VERSION = "2026-07-01"
USER_AGENT = f"reconciler/{__version__}"


class CloudError(Exception):
    """An error answered by Azure (or Azure unreachable), safe to print: no request bodies."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        what: str = "",
        operation_failed: bool = False,
        request_id: str | None = None,
        operation_id: str | None = None,
    ) -> None:
        self.status = status  # HTTP status; None for a failed long-running operation or no response
        self.code = code
        self.message = message
        self.what = what
        self.operation_failed = operation_failed
        self.request_id = request_id  # x-ms-request-id: what Azure support asks for
        self.operation_id = operation_id  # the long-running operation's id (Azure-AsyncOperation)
        head = f"{what}: " if what else ""
        detail = "operation failed" if operation_failed else f"HTTP {status}" if status else "no response"
        ids = [f"operation id {operation_id}"] if operation_id else []
        ids += [f"request id {request_id}"] if request_id else []
        tail = f" ({', '.join(ids)})" if ids else ""
        super().__init__(f"{head}{detail}{f' {code}' if code else ''}: {message}{tail}")

    @classmethod
    def from_response(cls, response: Any, what: str) -> CloudError:
        """From an azure-core HttpResponse carrying ARM's `{"error": {"code", "message"}}`."""
        code, message = None, None
        try:
            body = response.json()
        except Exception:  # not JSON (a proxy page, an empty body)
            body = None
        if isinstance(body, dict):
            error = body.get("error")
            err: dict[str, Any] = error if isinstance(error, dict) else body
            code, message = err.get("code"), err.get("message")
        return cls(
            _clip(message or response.reason or "request failed"),
            status=response.status_code,
            code=code,
            what=what,
            request_id=_request_id(response),
        )

    @classmethod
    def from_azure(cls, exc: Exception, what: str) -> CloudError:
        """From an azure-core exception (HttpResponseError, transport errors)."""
        from azure.core.exceptions import HttpResponseError

        if isinstance(exc, HttpResponseError):
            err = getattr(exc, "error", None)
            code = getattr(err, "code", None)
            message = getattr(err, "message", None) or (exc.message or str(exc)).strip().splitlines()[0]
            return cls(
                _clip(message), status=exc.status_code, code=code, what=what, request_id=_request_id(exc.response)
            )
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return cls(_clip(_network_message(exc, text)), what=what)


def _network_message(exc: Exception, text: str) -> str:
    """A transport error in one readable line: where, and why (connection refused, timeout)."""
    from azure.core.exceptions import ServiceRequestError, ServiceRequestTimeoutError, ServiceResponseTimeoutError

    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)) and text in (
        "Response timeout",
        "Timeout on reaching the service",
    ):  # RetryPolicy's total `timeout` ran out
        return f"Azure gave no answer within the {MAX_CALL_SECONDS:.0f} s allowed for a call, retries included"
    where = re.search(r"host='([^']+)', port=(\d+)", text)
    why = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if isinstance(exc, ServiceRequestError) and where:
        reason = why.group(1).strip() if why else "no connection"
        return (
            f"cannot connect to {where.group(1)}:{where.group(2)}: {reason} (is the endpoint right, and is it running?)"
        )
    return f"{type(exc).__name__}: {text}"


def compute_from_rest(body: Mapping[str, Any]) -> Compute:
    """Normalise a `Microsoft.MachineLearningServices/workspaces/computes` resource into `state.Compute`."""
    props = body.get("properties") or {}
    inner = props.get("properties") or {}
    ssl = inner.get("sslConfiguration") or {}
    errors = tuple(
        ((e.get("error") or {}).get("message") or str(e)) if isinstance(e, Mapping) else str(e)
        for e in (props.get("provisioningErrors") or [])
    )
    return Compute(
        name=body.get("name", ""),
        compute_type=props.get("computeType", ""),
        attached=bool(props.get("isAttachedCompute", bool(props.get("resourceId")))),
        cluster_id=props.get("resourceId"),
        location=body.get("location") or props.get("computeLocation"),
        description=props.get("description"),
        purpose=inner.get("clusterPurpose"),
        tls=Tls(
            status=ssl.get("status") or "Disabled",
            leaf_domain_label=ssl.get("leafDomainLabel"),
            overwrite_existing_domain=bool(ssl.get("overwriteExistingDomain", False)),
            cname=ssl.get("cname"),
        ),
        load_balancer_type=inner.get("loadBalancerType") or "PublicIp",
        load_balancer_subnet=inner.get("loadBalancerSubnet"),
        agent_count=inner.get("agentCount"),
        agent_vm_size=inner.get("agentVmSize"),
        network=inner.get("aksNetworkingConfiguration"),
        provisioning_state=props.get("provisioningState") or "Succeeded",
        provisioning_errors=errors,
        tags=dict(body.get("tags") or {}),
        modified_on=props.get("modifiedOn"),
        etag=body.get("etag"),
        **(_kubernetes_fields(body) if str(props.get("computeType", "")).lower() == "kubernetes" else {}),
    )


def _kubernetes_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """namespace, instance types and identity of a Kubernetes compute."""
    inner = (body.get("properties") or {}).get("properties") or {}
    identity = body.get("identity") or {}
    return {
        "namespace": inner.get("namespace") or "default",
        "default_instance_type": inner.get("defaultInstanceType"),
        "instance_types": inner.get("instanceTypes") or {},
        "identity_type": identity.get("type"),
        "identity_ids": tuple((identity.get("userAssignedIdentities") or {}).keys()),
    }


def _clip(text: str, limit: int = 1000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_pipeline_client(conn: Connection, on_request: Callable[[Any], None] | None = None) -> Any:
    """An ARMPipelineClient with the standard ARM policy chain and the connection's auth and retry.

    Without ContentDecodePolicy: these clients read `response.json()` themselves, and the policy
    would parse every body a second time (the SDKs' generated code reuses what it parsed; we do not).
    """
    from azure.core.pipeline import policies
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMAutoResourceProviderRegistrationPolicy, ARMHttpLoggingPolicy

    chain = [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker=USER_AGENT),
        policies.ProxyPolicy(),
        ARMAutoResourceProviderRegistrationPolicy(),
        policies.RedirectPolicy(),
        conn.retry_policy(),  # azure-core RetryPolicy, total time bounded, announced on stderr
        conn.auth_policy_for(),
        policies.CustomHookPolicy(raw_request_hook=on_request) if on_request else policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),  # logs bodies only when logging_enable=True, which we never set
        policies.DistributedTracingPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),  # headers only, Authorization redacted
    ]
    return ARMPipelineClient(base_url=conn.endpoint, policies=chain, transport=conn.transport())


class ComputesClient:
    """`Microsoft.MachineLearningServices/workspaces/computes`: list, get, PUT, DELETE, listKeys."""

    def __init__(self, conn: Connection, *, on_request: Callable[[Any], None] | None = None) -> None:
        """`on_request` sees every request sent (after retries are decided): for counting calls."""
        self.conn = conn
        self._client = build_pipeline_client(conn, on_request)

    def close(self) -> None:
        self._client.close()

    # -- URLs ------------------------------------------------------------------
    def _ws_url(self, ws: WorkspaceRef) -> str:
        return (
            f"{self.conn.endpoint}/subscriptions/{quote(ws.subscription_id, safe='')}"
            f"/resourceGroups/{quote(ws.resource_group, safe='')}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{quote(ws.workspace_name, safe='')}"
        )

    def _compute_url(self, ws: WorkspaceRef, name: str) -> str:
        return f"{self._ws_url(ws)}/computes/{quote(name, safe='')}"

    # -- plumbing --------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        pipeline_response: bool = False,
    ) -> Any:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        query = {"api-version": ML_API_VERSION, **(params or {})} if "api-version=" not in url else params
        request = HttpRequest(method, url, params=query, json=json, headers={"Accept": "application/json"})
        try:
            return self._client.send_request(request, _return_pipeline_response=pipeline_response)
        except AzureError as exc:
            raise CloudError.from_azure(exc, what) from None

    def _lro(self, initial: Any, what: str) -> Poller:
        """A poller that ends when the operation does; its result is None.

        Without ARM's final GET of the resource: every caller reads the workspace afterwards anyway
        (the after-check listing, the verifying observe), so it would be a read per operation for
        nothing, and when many operations end together, that many requests before the apply can end."""
        answered_at = time.monotonic()  # before the imports below: Retry-After counts from here
        from azure.core.polling import LROPoller

        from reconciler.cloud.polling import error_mapping_polling

        response = initial.http_response
        if response.status_code not in (200, 201, 202, 204):
            raise CloudError.from_response(response, what)
        polling = error_mapping_polling(self.conn.polling_interval, what, answered_at=answered_at, final_get=False)
        return LROPoller(self._client, initial, _nothing, polling)

    # -- operations ------------------------------------------------------------
    def list(self, ws: WorkspaceRef) -> list[Compute] | None:
        """Every compute of the workspace (all pages, any compute type); None when the workspace does not exist."""
        what = f"list computes of workspace {ws.workspace_name}"
        url: str | None = f"{self._ws_url(ws)}/computes"
        items: list[dict[str, Any]] = []
        while url:  # pagination only: retries live in the pipeline
            response = self._send("GET", url, what)
            if response.status_code == 404 and not items:
                return None
            if response.status_code != 200:
                raise CloudError.from_response(response, what)
            page = response.json() or {}
            items.extend(page.get("value") or [])
            url = page.get("nextLink")
        return [compute_from_rest(item) for item in items]

    def get(self, ws: WorkspaceRef, name: str) -> Compute | None:
        what = f"get compute {name} in workspace {ws.workspace_name}"
        response = self._send("GET", self._compute_url(ws, name), what)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CloudError.from_response(response, what)
        return compute_from_rest(response.json() or {})

    def begin_create_or_update(self, ws: WorkspaceRef, name: str, body: Mapping[str, object]) -> Poller:
        """PUT the compute (create, attach or update); the poller ends with the operation (`get` reads the compute)."""
        what = f"create or update compute {name} in workspace {ws.workspace_name}"
        initial = self._send("PUT", self._compute_url(ws, name), what, json=body, pipeline_response=True)
        return self._lro(initial, what)

    def begin_delete(
        self, ws: WorkspaceRef, name: str, underlying_resource_action: Literal["Detach", "Delete"]
    ) -> Poller:
        """Detach (keep the AKS cluster) or Delete (remove it too); the poller's result is None."""
        if underlying_resource_action not in ("Detach", "Delete"):
            raise ValueError(f"underlying_resource_action must be Detach or Delete, not {underlying_resource_action!r}")
        what = f"{underlying_resource_action.lower()} compute {name} in workspace {ws.workspace_name}"
        initial = self._send(
            "DELETE",
            self._compute_url(ws, name),
            what,
            params={"underlyingResourceAction": underlying_resource_action},
            pipeline_response=True,
        )
        return self._lro(initial, what)

    def list_keys(self, ws: WorkspaceRef, name: str) -> dict[str, Any]:
        """Kubeconfigs and the like: secrets, so the caller must never log the result."""
        what = f"list keys of compute {name} in workspace {ws.workspace_name}"
        response = self._send("POST", f"{self._compute_url(ws, name)}/listKeys", what)
        if response.status_code != 200:
            raise CloudError.from_response(response, what)
        keys: dict[str, Any] = response.json()  # azure-core types a JSON body as Any
        return keys

    def get_resource(self, path: str, api_version: str, what: str) -> dict[str, Any]:
        """Another provider's resource by its (quoted) ARM path, as JSON; CloudError on any status but 200.

        For one read where importing that provider's SDK would cost more than the call."""
        response = self._send("GET", f"{self.conn.endpoint}{path}", what, params={"api-version": api_version})
        if response.status_code != 200:
            raise CloudError.from_response(response, what)
        body: dict[str, Any] = response.json() or {}
        return body

    def workspace_storage_account(self, ws: WorkspaceRef) -> str | None:
        """The ARM id of the workspace's storage account (where the default lock lives), or None."""
        what = f"read workspace {ws.workspace_name}"
        response = self._send("GET", self._ws_url(ws), what)
        if response.status_code != 200:
            raise CloudError.from_response(response, what)
        value = ((response.json() or {}).get("properties") or {}).get("storageAccount")
        return str(value) if value else None


def _nothing(_pipeline_response: Any) -> None:
    return None


def _request_id(response: Any) -> str | None:
    headers = getattr(response, "headers", None) or {}
    return headers.get("x-ms-request-id") or headers.get("x-ms-correlation-request-id")
