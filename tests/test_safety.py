"""Ownership, TLS checks, {file:} confinement and plan binding as units (no server)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

import pytest
import trustme

from reconciler import planfile, secrets, tlscheck
from reconciler.manifest import SecretRef
from reconciler.plan import Action
from reconciler.state import OWNER_TAG
from tests.builders import attach, attached, cluster, desired, observed, planned, tls_pair, workspace

NOW = dt.datetime.now(dt.UTC)


def owned(owner: str, prune: bool = True) -> str:
    return workspace(prune=prune) + f"  owner: {owner}\n"


def foreign(name: str, cluster_name: str, owner: str = "team-a"):
    c = attached(name, cluster_name)
    return replace(c, tags={**c.tags, OWNER_TAG: owner})


# -- ownership ---------------------------------------------------------------------------------------
def test_foreign_compute_is_never_pruned(tmp_path):
    p = planned(tmp_path, (owned("team-b"),), observed([foreign("scoring-a", "scoring-aks")], [cluster("scoring-aks")]))
    assert not p.actionable and not p.errors


def test_untagged_managed_compute_belongs_to_default(tmp_path):
    p = planned(tmp_path, (owned("team-b"),), observed([attached("legacy", "scoring-aks")], [cluster("scoring-aks")]))
    assert not p.actionable
    mine = planned(
        tmp_path, (owned("default"),), observed([attached("legacy", "scoring-aks")], [cluster("scoring-aks")])
    )
    assert [c.action for c in mine.actionable] == [Action.DETACH]


def test_attaching_a_cluster_a_foreign_compute_holds_is_aks036_naming_owner_and_compute(tmp_path):
    p = planned(
        tmp_path,
        (owned("team-b"), attach("scoring-b", "scoring-aks")),
        observed([foreign("scoring-a", "scoring-aks")], [cluster("scoring-aks")]),
    )
    [error] = p.errors
    assert error.rule == "AKS036" and "'scoring-a'" in error.message and "'team-a'" in error.message
    assert not p.actionable


def test_a_foreign_compute_of_the_declared_name_is_never_updated(tmp_path):
    p = planned(
        tmp_path,
        (owned("team-b"), attach("scoring-a", "scoring-aks", purpose="DevTest")),
        observed([foreign("scoring-a", "scoring-aks")], [cluster("scoring-aks")]),
    )
    assert [e.rule for e in p.errors] == ["AKS036"] and not p.actionable


def test_every_write_carries_the_owner_tag(tmp_path):
    from reconciler import bodies

    dc = desired(tmp_path, owned("team-b"), attach()).clusters[0]
    assert bodies.attach_body(dc, "x", None, None)["tags"][OWNER_TAG] == "team-b"


# -- TLS ---------------------------------------------------------------------------------------------
def _leaf(*names: str, days: int = 365, before: int = 1):
    leaf = trustme.CA().issue_cert(
        *names, not_before=NOW - dt.timedelta(days=before), not_after=NOW + dt.timedelta(days=days)
    )
    return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode()


def test_a_matching_pair_for_the_cname_passes():
    cert, key = _leaf("api.example.com")
    assert tlscheck.check(cert, key, "api.example.com", NOW) == []


def test_wildcard_covers_one_label_only():
    cert, key = _leaf("*.example.com")
    assert tlscheck.check(cert, key, "api.example.com", NOW) == []
    assert "does not cover" in tlscheck.check(cert, key, "a.b.example.com", NOW)[0].message


def test_key_of_another_certificate_is_refused():
    cert, _ = _leaf("api.example.com")
    _, other = _leaf("api.example.com")
    assert [p.message for p in tlscheck.check(cert, other, "api.example.com", NOW)] == [
        "tls.key does not match tls.certificate"
    ]


def test_expired_is_an_error_and_expiring_within_30_days_a_warning():
    old = _leaf("api.example.com", days=-1, before=30)
    assert tlscheck.check(*old, "api.example.com", NOW)[0].error
    soon = _leaf("api.example.com", days=10)
    [warning] = tlscheck.check(*soon, "api.example.com", NOW)
    assert not warning.error and "expires" in warning.message


@pytest.mark.parametrize(
    "cert,key",
    [("hunter2", None), (None, "hunter2"), ("-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----", None)],
)
def test_values_that_are_not_pem_are_refused_without_quoting_them(cert, key):
    [problem] = tlscheck.check(cert, key, "api.example.com", NOW)
    assert problem.error and "hunter2" not in problem.message and "xx" not in problem.message


# -- {file:} confinement -----------------------------------------------------------------------------
def test_file_reference_must_stay_inside_the_working_tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "ok.pem").write_text("x")
    (tmp_path / "m" / "out.pem").symlink_to("/etc/hostname")
    assert secrets.resolve(SecretRef(file="ok.pem"), tmp_path / "m") == "x"
    for bad in ("/etc/hostname", "../../etc/hostname", "out.pem", "~/.ssh/id_rsa"):
        with pytest.raises(secrets.SecretError, match=r"inside|outside|relative"):
            secrets.resolve(SecretRef(file=bad), tmp_path / "m")


def test_redact_never_shows_a_hash():
    assert secrets.redact("sha256:abc") == "(sensitive)" and secrets.redact(None) == "(sensitive)"


# -- binding -----------------------------------------------------------------------------------------
def _doc_and_desired(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cert, key = tls_pair("api.example.com")
    monkeypatch.setenv("CERT", cert)
    monkeypatch.setenv("KEY", key)
    tls = "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"
    docs = (workspace(), attach(extra=tls))
    plan = planned(tmp_path, docs, observed([], [cluster("scoring-aks")]))
    d = desired(tmp_path, *docs)
    import json

    return json.loads(planfile.to_json(plan, d)), d, plan


def test_binding_holds_no_plain_hash_of_a_secret(tmp_path, monkeypatch):
    import hashlib

    doc, _d, _ = _doc_and_desired(tmp_path, monkeypatch)
    text = str(doc)
    for name in ("CERT", "KEY"):
        value = os.environ[name]
        assert hashlib.sha256(value.strip().encode()).hexdigest() not in text and value.splitlines()[2] not in text
    assert doc["binding"]["secrets"].startswith("scrypt:")


def test_binding_names_each_difference(tmp_path, monkeypatch):
    doc, d, plan = _doc_and_desired(tmp_path, monkeypatch)
    saved = planfile.SavedPlan(tmp_path / "p.json", doc)
    planfile.check_binding(saved, d)
    planfile.check_binding(saved, d, plan)
    doc["options"]["replace"] = ["scoring-prod"]
    with pytest.raises(planfile.PlanFileError, match="options"):
        planfile.check_binding(saved, d)
    doc["options"]["replace"] = []
    rotated = replace(
        d, clusters=[replace(d.clusters[0], fingerprints={"certificate": "sha256:other", "key": "sha256:k"})]
    )
    with pytest.raises(planfile.PlanFileError, match="TLS secrets"):
        planfile.check_binding(saved, rotated)
    del doc["binding"]
    with pytest.raises(planfile.PlanFileError, match="no binding"):
        planfile.check_binding(saved, d)


def test_malformed_options_or_changes_are_a_clear_error(tmp_path, monkeypatch):
    doc, d, _ = _doc_and_desired(tmp_path, monkeypatch)
    for bad in ({"options": "x"}, {"changes": ["x"]}, {"binding": {"salt": "zz"}}):
        saved = planfile.SavedPlan(tmp_path / "p.json", {**doc, **bad})
        with pytest.raises(planfile.PlanFileError):
            planfile.check_binding(saved, d)


def test_a_folder_that_cannot_be_listed_is_io002(tmp_path, monkeypatch):
    from reconciler import loader

    (tmp_path / "m" / "team").mkdir(parents=True)
    (tmp_path / "m" / "ws.yaml").write_text(workspace())
    real = os.scandir

    def scandir(path="."):
        if str(path).endswith("team"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    findings = loader.load([tmp_path / "m"]).findings
    assert [f.rule for f in findings] == ["IO002"] and "team" in findings[0].message
