"""`reconciler migrate`'s decisions (pure): what is written for legacy InferenceClusters, and MIGRATION.md."""

from __future__ import annotations

from pathlib import Path

from reconciler import loader, rules
from reconciler.clusterside import certificate_from_jsonpath, parse_tls_secret, redact
from reconciler.migration import Backup, Strategy, namespace_of, new_name, plan_migration
from tests.builders import aks_id, attach, cluster, observed, workspace, write

OTHER_WS = workspace("staging", ws="ml-staging")


def migrate(tmp_path: Path, *docs: str, strategy=Strategy.SAME_CLUSTER, target=None, backups=None):
    (tmp_path / "in").mkdir(exist_ok=True)
    folder = write(tmp_path / "in", **{f"d{i}": d for i, d in enumerate(docs)})
    result = loader.load([folder])
    assert not [f for f in result.findings + rules.check(result) if f.is_error]
    obs = observed(clusters=[cluster("scoring-aks"), cluster("serving-aks"), cluster("tiny-aks", count=1)])
    return plan_migration(result, obs, strategy, target, tmp_path / "out", backups or {})


def test_names_and_namespaces_follow_the_old_compute():
    assert new_name("scoring-prod") == "scoring-prod-k8s" and len(new_name("a" * 24)) <= 24
    assert namespace_of("Scoring_Prod") == "scoring-prod"


def test_settings_that_conflict_between_workspaces_on_one_cluster_are_listed_and_marked_todo(tmp_path):
    internal = "  loadBalancer: {type: InternalLoadBalancer, subnet: aks-subnet}\n"
    out = migrate(
        tmp_path,
        workspace(),
        OTHER_WS,
        attach("scoring-prod", "scoring-aks", extra=internal),
        attach("scoring-stage", "scoring-aks", ws="staging", purpose="DevTest"),
    )
    ext = out.files["scoring-aks-extension.yaml"]
    assert "TODO(migrate)" in ext and "internalLoadBalancer: true   # TODO(migrate)" in ext
    md = out.markdown
    assert (
        "internal load balancer: prod/scoring-prod used an internal load balancer, staging/scoring-stage a public IP"
        in md
    )
    assert "high availability: DevTest compute(s) staging/scoring-stage share the cluster" in md
    assert "### staging/scoring-stage → staging/scoring-stage-k8s" in md


def test_new_cluster_keeps_the_legacy_documents_and_names_the_files_to_remove(tmp_path):
    out = migrate(
        tmp_path,
        workspace(),
        attach("scoring-prod", "scoring-aks"),
        strategy=Strategy.NEW_CLUSTER,
        target=aks_id("serving-aks"),
    )
    assert "legacy-scoring-prod.yaml" in out.files and "delete this file" in out.files["legacy-scoring-prod.yaml"]
    assert 'clusterId: "' + aks_id("serving-aks") in out.files["scoring-prod-k8s.yaml"]
    assert "removeLegacyFrontEnd" not in out.files["serving-aks-extension.yaml"]
    assert "None: both computes serve side by side" in out.markdown and "rm " in out.markdown


def test_a_leaf_label_backup_becomes_the_extension_certificate_with_the_same_name(tmp_path):
    tls = "  tls: {enabled: true, leafDomainLabel: fraud}\n"
    from reconciler.state import WorkspaceRef

    ref = WorkspaceRef("00000000-0000-0000-0000-000000000001", "ml-prod-rg", "ml-prod")
    backup = Backup(
        tmp_path / "b" / "cert.pem", tmp_path / "b" / "key.pem", ("fraud123456.westeurope.cloudapp.azure.net",)
    )
    out = migrate(
        tmp_path,
        workspace(),
        attach("scoring-prod", "scoring-aks", extra=tls),
        backups={(ref.key, "scoring-prod"): backup},
    )
    ext = out.files["scoring-aks-extension.yaml"]
    assert 'cname: "fraud123456.westeurope.cloudapp.azure.net"' in ext and "TODO" not in ext and "../b/cert.pem" in ext
    assert "the backup is used as a custom certificate with the same name" in out.markdown


def test_a_small_cluster_cannot_carry_the_ha_router_silently(tmp_path):
    out = migrate(
        tmp_path,
        workspace(),
        OTHER_WS,
        attach("tiny", "tiny-aks", ws="staging", purpose="DevTest"),
        attach("tiny-prod", "tiny-aks"),
    )
    assert (
        "HA router needs 3" in out.markdown
        and "highAvailability: true   # TODO(migrate)" in out.files["tiny-aks-extension.yaml"]
    )


def test_run_command_logs_never_show_pem_or_base64_material():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    text = redact(f"error: {pem} and data LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lVR")
    assert "MIIEvQ" not in text and "LS0tLS1" not in text and "(redacted)" in text


def test_the_tls_secret_is_parsed_and_its_repr_never_shows_the_key():
    import base64
    import json

    cert, key = (
        "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n",
    )
    logs = json.dumps(
        {
            "data": {
                "cert.pem": base64.b64encode(cert.encode()).decode(),
                "key.pem": base64.b64encode(key.encode()).decode(),
            }
        }
    )
    pair = parse_tls_secret(logs)
    assert pair.key == key and "BBB" not in repr(pair)
    assert certificate_from_jsonpath(base64.b64encode(cert.encode()).decode()) == cert
