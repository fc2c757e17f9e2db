"""The emulated cloud's own login endpoint (named by its cloud metadata): Entra ID v2.0
OIDC discovery and client-credentials tokens, served without a token, all on loopback."""

from __future__ import annotations

import base64
import json

import requests

from .conftest import Arm

TENANT = "00000000-0000-0000-0000-00000000e7a1"


def _claims(jwt: str) -> dict[str, object]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_cloud_metadata_names_a_cloud_of_its_own_not_a_public_one(arm: Arm) -> None:
    (listed,) = requests.get(arm.base + "/metadata/endpoints", params={"api-version": "2019-05-01"}, timeout=10).json()
    current = requests.get(arm.base + "/metadata/endpoints", params={"api-version": "2022-09-01"}, timeout=10).json()
    assert listed["name"] == current["name"]
    assert listed["name"] not in ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment", "AzureGermanCloud")


def test_openid_configuration_is_public_and_on_the_emulator(arm: Arm) -> None:
    r = requests.get(f"{arm.base}/{TENANT}/v2.0/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert doc["token_endpoint"] == f"{arm.base}/{TENANT}/oauth2/v2.0/token"
    assert all(v.startswith(arm.base) for v in doc.values() if isinstance(v, str) and "://" in v)


def test_client_credentials_token_is_a_bearer_jwt_for_the_tenant(arm: Arm) -> None:
    r = requests.post(
        f"{arm.base}/{TENANT}/oauth2/v2.0/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": "app-1",
            "client_secret": "anything",
            "scope": arm.base + "/.default",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    claims = _claims(body["access_token"])
    assert claims["tid"] == TENANT and claims["appid"] == "app-1" and claims["aud"] == arm.base
    got = requests.get(
        arm.base + "/subscriptions",
        params={"api-version": "2022-12-01"},
        timeout=10,
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert got.status_code == 200


def test_other_grants_are_refused_as_entra_id_does(arm: Arm) -> None:
    r = requests.post(
        f"{arm.base}/{TENANT}/oauth2/v2.0/token",
        timeout=10,
        data={"grant_type": "password", "client_id": "app-1", "username": "u", "password": "p"},
    )
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
