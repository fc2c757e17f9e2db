"""End-to-end: `backup-tls` saves a leaf-label certificate; detaching without one is refused; a re-attach with it keeps the FQDN."""

from __future__ import annotations

import base64
import json
import stat

from tests.builders import seed_attached_compute
from tests.e2e.conftest import attach_doc, seed


def leaf_tls_compute() -> dict:
    compute = seed_attached_compute("scoring-aks", managed=True)
    compute["properties"]["properties"]["sslConfiguration"] = {"status": "Enabled", "leafDomainLabel": "fraud"}
    return compute


def secret_material(cloud) -> list[str]:
    """Chunks of the certificate and key the emulator generated (read through its own Run Command)."""
    cluster = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/scoring-aks"
    from reconciler.cloud.auth import connect
    from reconciler.cloud.kubernetes import KubernetesClient

    client = KubernetesClient(connect(cloud.url))
    try:
        code, logs = client.run_command(cluster, "kubectl get secret azuremlfessl -n default -o json", timeout=60)
    finally:
        client.close()
    assert code == 0, logs
    data = json.loads(logs)["data"]
    pems = [base64.b64decode(data[k]).decode() for k in ("cert.pem", "key.pem")]
    chunks = [line for pem in pems for line in pem.splitlines() if not line.startswith("-----") and len(line) > 20]
    return chunks + list(data.values())


def test_detaching_a_leaf_label_compute_without_a_backup_is_refused_then_allowed_after_backup_tls(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": leaf_tls_compute()}))
    cloud.write(prune=True)
    plan = cloud.cli("plan")
    assert plan.code == 0 and "MIG003" in plan.stdout and "leaf-label" in plan.stdout, plan.stdout + plan.stderr
    refused = cloud.cli("apply", "--auto-approve")
    assert refused.code == 1 and "refusing to apply" in refused.stderr and "backup-tls scoring-prod" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "scoring-prod" in cloud.computes()

    saved = cloud.cli("backup-tls", "scoring-prod", "--workspace", "prod", "--out", "tls-backups")
    assert saved.code == 0, saved.stdout + saved.stderr
    folder = cloud.dir / "tls-backups" / "ml-prod" / "scoring-prod"
    for name in ("cert.pem", "key.pem"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert "-----BEGIN" in (folder / "key.pem").read_text()
    assert "fraud" in saved.stdout and ".westeurope.cloudapp.azure.net" in saved.stdout
    again = cloud.cli("backup-tls", "scoring-prod", "--workspace", "prod", "--out", "tls-backups")
    assert again.code == 1 and "never overwritten" in again.stderr

    applied = cloud.cli("apply", "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert cloud.computes() == {} and cloud.audit()["clusterDeletions"] == []
    material = secret_material_from_files(folder)
    for run in (plan, refused, saved, applied):
        for chunk in material:
            assert chunk not in run.stdout + run.stderr


def secret_material_from_files(folder) -> list[str]:
    return [
        line
        for name in ("cert.pem", "key.pem")
        for line in (folder / name).read_text().splitlines()
        if not line.startswith("-----") and len(line) > 20
    ]


def test_accept_new_domain_detaches_without_a_backup(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": leaf_tls_compute()}))
    cloud.write(prune=True)
    run = cloud.cli("apply", "--auto-approve", "--accept-new-domain")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.computes() == {}


def test_reattach_with_the_backup_as_custom_certificate_keeps_the_fqdn(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": leaf_tls_compute()}))
    material = secret_material(cloud)
    saved = (
        cloud.cli(
            "backup-tls", "scoring-prod", "--workspace", "prod", "--out", "tls-backups", "--manifests", "manifests"
        )
        if (cloud.write() or True)
        else None
    )
    assert saved.code == 0, saved.stderr
    fqdn = saved.stdout.split("certificate for: ")[1].split()[0].rstrip(",")
    tls = (
        f"  tls:\n    enabled: true\n    cname: {fqdn}\n"
        f"    certificate: {{file: ../tls-backups/ml-prod/scoring-prod/cert.pem}}\n"
        f"    key: {{file: ../tls-backups/ml-prod/scoring-prod/key.pem}}\n"
    )
    cloud.write(scoring=attach_doc("scoring-prod", "scoring-aks", extra=tls))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    ssl = cloud.computes()["scoring-prod"]["properties"]["properties"]["sslConfiguration"]
    assert ssl.get("cname") == fqdn and not ssl.get("leafDomainLabel")
    assert fqdn.startswith("fraud") and fqdn.endswith(".westeurope.cloudapp.azure.net")
    assert cloud.cli("plan", "--detailed-exitcode").code == 0
    for out in (saved, run):
        for chunk in material:
            assert chunk not in out.stdout + out.stderr


def test_apply_with_backup_tls_saves_the_certificate_as_a_step_before_the_detach(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": leaf_tls_compute()}))
    material = secret_material(cloud)
    cloud.write(prune=True)
    plan = cloud.cli("plan", "--backup-tls", "--format", "json")
    steps = [s for c in json.loads(plan.stdout)["changes"] for s in c["steps"]]
    assert [s["op"] for s in steps] == ["save-tls", "detach"] and steps[0]["id"] in steps[1]["dependsOn"]
    run = cloud.cli("apply", "--auto-approve", "--backup-tls")
    assert run.code == 0, run.stdout + run.stderr
    folder = cloud.dir / "tls-backups" / "ml-prod" / "scoring-prod"
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    assert cloud.computes() == {}
    timeline = sorted(cloud.audit()["operations"], key=lambda o: o["startedAt"])
    read = next(o for o in timeline if o["kind"] == "runCommand")
    detach = next(o for o in timeline if o["kind"] == "detach")
    assert read["endedAt"] <= detach["startedAt"]
    for chunk in material:
        assert chunk not in plan.stdout + plan.stderr + run.stdout + run.stderr


def test_a_saved_plan_with_backup_tls_applies_with_its_save_step(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": leaf_tls_compute()}))
    cloud.write(prune=True)
    assert cloud.cli("plan", "--backup-tls", "--out", "tfplan.json").code == 0
    run = cloud.cli("apply", "--plan", "tfplan.json")
    assert run.code == 0, run.stdout + run.stderr
    assert (cloud.dir / "tls-backups" / "ml-prod" / "scoring-prod" / "cert.pem").is_file() and cloud.computes() == {}
