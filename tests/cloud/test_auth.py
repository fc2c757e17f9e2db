"""connect(): which endpoints are accepted and with which credential."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import ClientAuthenticationError

from reconciler.cloud.auth import AZURE_ENDPOINT, DEV_TOKEN, CloudConfigError, connect, is_loopback_host


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1", "http://[::1]:9000", "https://127.0.0.1:443/"],
)
def test_loopback_endpoints_are_local_with_dev_credential(url: str) -> None:
    conn = connect(url)
    assert conn.is_local
    assert conn.auth_policy is not None
    assert conn.credential.get_token("x").token == DEV_TOKEN
    assert conn.endpoint == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:8080",
        "http://example.com",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.com:80",
        "http://0.0.0.0:80",
    ],
)
def test_non_loopback_http_is_refused(url: str) -> None:
    with pytest.raises(CloudConfigError, match="plain http"):
        connect(url)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1:8080/some/path", "https://"])
def test_malformed_endpoints_are_refused(url: str) -> None:
    with pytest.raises(CloudConfigError):
        connect(url)


def test_default_is_azure_with_real_credential() -> None:
    conn = connect(None)
    assert conn.endpoint == AZURE_ENDPOINT and not conn.is_local
    assert conn.auth_policy is None  # the SDKs' ARM challenge policy over the credential
    assert type(conn.credential).__name__ == "DefaultAzureCredential"
    assert conn.scope == "https://management.azure.com/.default"
    assert not is_loopback_host("management.azure.com")


def test_https_non_loopback_uses_real_credential() -> None:
    conn = connect("https://management.usgovcloudapi.net")
    assert not conn.is_local and conn.auth_policy is None
    assert conn.scope == "https://management.usgovcloudapi.net/.default"


def test_retry_backoff_override() -> None:
    conn = connect("http://127.0.0.1:1", retry_backoff=0.01)
    assert conn.retry_kwargs()["retry_backoff_factor"] == 0.01


def test_dev_token_never_sent_to_a_remote_host() -> None:
    """A nextLink or polling URL pointing away from loopback gets no token at all."""
    policy = connect("http://127.0.0.1:1").auth_policy
    request = SimpleNamespace(http_request=SimpleNamespace(url="https://evil.example.com/x", headers={}))
    with pytest.raises(ClientAuthenticationError):
        policy.on_request(request)
    assert "Authorization" not in request.http_request.headers
    ok = SimpleNamespace(http_request=SimpleNamespace(url="http://localhost:5/x", headers={}))
    policy.on_request(ok)
    assert ok.http_request.headers["Authorization"] == f"Bearer {DEV_TOKEN}"
