"""Safety across machines, teams and failures, end to end: the CLI against the emulator, judged by its audit."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import tls_pair
from tests.builders import workspace as workspace_doc
from tests.e2e.conftest import attach_doc, attached_compute, seed
from tests.lock.conftest import DEV_ACCOUNT, DEV_KEY, azurite, running_azurite  # noqa: F401  (the session fixture)

WRITES = ("Compute_CreateOrUpdate", "Compute_Delete")


def no_writes(cloud) -> None:
    audit = cloud.audit()
    assert audit["operations"] == [] and not any(audit["requests"].get(op) for op in WRITES), audit
    assert audit["violations"] == []


def owned(owner: str, prune: bool = False) -> str:
    return workspace_doc(prune=prune) + f"  owner: {owner}\n"


def checkout(cloud, name: str, owner: str, **docs: str) -> Path:
    """A second working copy (another machine's checkout) applying to the same emulator."""
    where = cloud.dir.parent / name
    (where / "manifests").mkdir(parents=True)
    (where / "manifests" / "workspace.yaml").write_text(owned(owner))
    for file, text in docs.items():
        (where / "manifests" / f"{file}.yaml").write_text(text)
    return where


def start(cloud, where: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=where,
        env=cloud.env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def with_storage(seed_data: dict, blob_port: int, scheme: str = "http") -> dict:
    ws = seed_data["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["ml-prod-rg"][
        "workspaces"
    ]["ml-prod"]
    ws["storageAccount"] = {
        "name": DEV_ACCOUNT,
        "blobEndpoint": f"{scheme}://127.0.0.1:{blob_port}/{DEV_ACCOUNT}",
        "key": DEV_KEY,
    }
    return seed_data


@pytest.fixture(scope="module")
def https_azurite(tmp_path_factory):
    """Azurite over HTTPS (a trustme certificate) with OAuth on: the Entra token path is tried for real."""
    import trustme

    where = tmp_path_factory.mktemp("azurite-https")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    leaf.private_key_pem.write_to_path(str(where / "key.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(where / "cert.pem"))
    tls = ("--cert", str(where / "cert.pem"), "--key", str(where / "key.pem"), "--oauth", "basic")
    with running_azurite(where / "data", *tls) as (port, _):
        yield port, where / "ca.pem"


# -- one attachment across machines and teams ------------------------------------------------------
def test_two_checkouts_racing_for_one_cluster_never_attach_it_twice(make_cloud, azurite):  # noqa: F811
    cloud = make_cloud(with_storage(seed(), azurite.port))
    a = checkout(cloud, "laptop", "team-a", c=attach_doc("scoring-a", "scoring-aks"))
    b = checkout(cloud, "runner", "team-b", c=attach_doc("scoring-b", "scoring-aks"))
    for round_ in range(20):
        cloud.admin("reset", {})
        runs = [start(cloud, where, "apply", "--auto-approve") for where in (a, b)]
        results = [(p.wait(120), *p.communicate()) for p in runs]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 1], (round_, results)
        loser = next(out + err for code, out, err in results if code == 1)
        assert "locked" in loser.lower() or "AKS036" in loser, (round_, loser)
        assert "Traceback" not in loser
        assert cloud.audit()["violations"] == [], round_
        assert len([c for c in cloud.computes().values() if "scoring-aks" in c["properties"]["resourceId"]]) == 1


def test_default_lock_is_a_blob_lease_in_the_workspace_storage_account(make_cloud, azurite):  # noqa: F811
    from azure.storage.blob import BlobServiceClient

    cloud = make_cloud(with_storage(seed(), azurite.port))
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert cloud.audit()["requests"].get("StorageAccounts_ListKeys") == 1  # http Azurite: the account key path
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(
        "reconciler-locks"
    )
    assert [b.name for b in container.list_blobs()]
    assert DEV_KEY not in run.stdout + run.stderr


def test_default_lock_over_https_tries_the_entra_token_first_then_the_account_key(make_cloud, https_azurite):
    port, ca = https_azurite
    cloud = make_cloud(with_storage(seed(), port, "https"))
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("--log-format", "json", "apply", "--auto-approve", env=cloud.env(REQUESTS_CA_BUNDLE=str(ca)))
    assert run.code == 0, run.stdout + run.stderr
    # The emulator's development token is not a JWT Azurite accepts: the data plane refuses it,
    # and the account key from listKeys takes over.
    assert "Entra token refused" in run.stderr
    assert cloud.audit()["requests"].get("StorageAccounts_ListKeys") == 1
    assert DEV_KEY not in run.stdout + run.stderr


def test_no_usable_credential_for_the_lock_exits_1_naming_the_role_and_the_opt_out(make_cloud, https_azurite):
    port, ca = https_azurite
    world = with_storage(seed(), port, "https")
    wrong = "A" * 86 + "=="
    world["subscriptions"]["00000000-0000-0000-0000-000000000001"]["resourceGroups"]["ml-prod-rg"]["workspaces"][
        "ml-prod"
    ]["storageAccount"]["key"] = wrong
    cloud = make_cloud(world)
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("apply", "--auto-approve", env=cloud.env(REQUESTS_CA_BUNDLE=str(ca)))
    assert run.code == 1, run.stdout + run.stderr
    assert "Storage Blob Data Contributor" in run.stderr and "--lock file" in run.stderr
    assert wrong not in run.stdout + run.stderr and "Traceback" not in run.stderr
    no_writes(cloud)


def test_lock_file_opts_out_of_the_shared_lock(make_cloud, azurite):  # noqa: F811
    cloud = make_cloud(with_storage(seed(), azurite.port))
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("apply", "--auto-approve", "--lock", "file")
    assert run.code == 0, run.stdout + run.stderr
    assert not cloud.audit()["requests"].get("StorageAccounts_ListKeys")


def test_emulator_workspace_without_storage_account_warns_and_uses_the_file_lock(make_cloud):
    cloud = make_cloud()
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0 and "has no storage account" in run.stderr and "file lock" in run.stderr


def test_second_owner_never_detaches_the_first_owners_compute(make_cloud):
    cloud = make_cloud()
    cloud.write(c=attach_doc("scoring-a", "scoring-aks"))
    (cloud.manifests / "workspace.yaml").write_text(owned("team-a", prune=True))
    assert cloud.cli("apply", "--auto-approve").code == 0
    assert cloud.computes()["scoring-a"]["tags"]["reconciler-owner"] == "team-a"
    b = checkout(cloud, "team-b", "team-b", c=attach_doc("scoring-b", "scoring-aks"))
    (b / "manifests" / "workspace.yaml").write_text(owned("team-b", prune=True))
    before = len(cloud.audit()["operations"])
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", "--auto-approve"],
        cwd=b,
        env=cloud.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "AKS036" in run.stdout and "'scoring-a'" in run.stdout and "'team-a'" in run.stdout
    assert len(cloud.audit()["operations"]) == before  # no detach, no attach
    assert set(cloud.computes()) == {"scoring-a"}


def test_untagged_managed_compute_belongs_to_default_and_is_not_pruned_by_another_owner(make_cloud):
    cloud = make_cloud(seed({"legacy": attached_compute("scoring-aks", managed=True)}))
    cloud.write(c=attach_doc("other", "other-aks"))
    (cloud.manifests / "workspace.yaml").write_text(owned("team-b", prune=True))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 0, run.stdout + run.stderr
    assert "legacy" in cloud.computes()
    assert not [o for o in cloud.audit()["operations"] if o["kind"] == "detach"]


# -- nothing unread is pruned ----------------------------------------------------------------------
def _unreadable(kind: str, folder: Path) -> None:
    if kind == "dangling symlink":
        (folder / "scoring.yaml").symlink_to(folder / "submodule" / "scoring.yaml")
    elif kind == "fifo":
        os.mkfifo(folder / "scoring.yaml")
    else:
        sub = folder / "team"
        sub.mkdir()
        (sub / "scoring.yaml").write_text(attach_doc("scoring-prod", "scoring-aks"))
        sub.chmod(0)


@pytest.mark.parametrize(
    "kind",
    [
        "dangling symlink",
        "fifo",
        pytest.param("unreadable folder", marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")),
    ],
)
def test_unreadable_manifest_path_is_io002_and_nothing_is_pruned(make_cloud, kind):
    cloud = make_cloud(seed({"scoring-prod": attached_compute("scoring-aks", managed=True)}))
    cloud.write(prune=True)
    _unreadable(kind, cloud.manifests)
    try:
        run = cloud.cli("apply", "--auto-approve")
    finally:
        for p in cloud.manifests.iterdir():
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
    assert run.code == 1 and "IO002" in run.stdout + run.stderr, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    no_writes(cloud)
    assert "scoring-prod" in cloud.computes()


# -- preflight -------------------------------------------------------------------------------------
TLS_FILES = "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {file: tls/cert.pem}\n    key: {file: tls/key.pem}\n"


@pytest.mark.parametrize("problem", ["missing", "not pem", "wrong cname", "key mismatch", "expired"])
def test_bad_tls_secret_on_reattach_stops_before_any_operation(make_cloud, problem):
    cloud = make_cloud(seed({"scoring-prod": attached_compute("scoring-aks", managed=True)}))
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=TLS_FILES))
    tls = cloud.manifests / "tls"
    tls.mkdir()
    cert, key = tls_pair("api.example.com")
    if problem == "not pem":
        cert = "hunter2\n"
    elif problem == "wrong cname":
        cert, key = tls_pair("other.example.org")
    elif problem == "key mismatch":
        key = tls_pair("api.example.com")[1]
    if problem != "missing":
        (tls / "cert.pem").write_text(cert)
        (tls / "key.pem").write_text(key)
    if problem == "expired":
        import datetime as dt

        import trustme

        now = dt.datetime.now(dt.UTC)
        leaf = trustme.CA().issue_cert(
            "api.example.com", not_before=now - dt.timedelta(days=10), not_after=now - dt.timedelta(days=1)
        )
        (tls / "cert.pem").write_bytes(leaf.cert_chain_pems[0].bytes())
        (tls / "key.pem").write_bytes(leaf.private_key_pem.bytes())
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 1, run.stdout + run.stderr
    assert ("AKS037" if problem == "missing" else "AKS018") in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    no_writes(cloud)


def test_invalid_secret_from_environment_is_refused_by_preflight_before_any_operation(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": attached_compute("scoring-aks", managed=True)}))
    env_tls = (
        "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"
    )
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=env_tls))
    cert, _ = tls_pair("api.example.com")
    run = cloud.cli("apply", "--auto-approve", env=cloud.env(CERT=cert, KEY="hunter2"))
    assert run.code == 1 and "preflight failed" in run.stderr and "tls.key is not a PEM private key" in run.stderr
    no_writes(cloud)


def test_file_reference_outside_the_working_tree_is_refused(make_cloud):
    cloud = make_cloud(seed({"scoring-prod": attached_compute("scoring-aks", managed=True)}))
    outside = "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {file: ../../../etc/hostname}\n    key: {file: /etc/hostname}\n"
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=outside))
    run = cloud.cli("apply", "--auto-approve")
    assert run.code == 1 and "AKS037" in run.stdout
    no_writes(cloud)


# -- saved plans are bound -------------------------------------------------------------------------
ENV_TLS = "  tls:\n    enabled: true\n    cname: api.example.com\n    certificate: {env: CERT}\n    key: {env: KEY}\n"


def _saved(cloud):
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=ENV_TLS), d=attach_doc("batch", "other-aks"))
    cert, key = tls_pair("api.example.com")
    env = cloud.env(CERT=cert, KEY=key)
    made = cloud.cli("plan", "--out", "plan.json", env=env)
    assert made.code == 0, made.stdout + made.stderr
    return env, json.loads((cloud.dir / "plan.json").read_text())


@pytest.mark.parametrize("tamper", ["options injected", "changes edited", "secret rotated"])
def test_tampered_saved_plan_is_refused_before_any_operation(make_cloud, tamper):
    cloud = make_cloud()
    env, doc = _saved(cloud)
    if tamper == "options injected":
        doc["options"]["replace"] = ["scoring-prod"]
        what = "options"
    elif tamper == "changes edited":
        doc["changes"] = [c for c in doc["changes"] if c["computeName"] != "batch"]
        what = "planned changes"
    else:
        env["CERT"], env["KEY"] = tls_pair("api.example.com")
        what = "TLS secrets"
    (cloud.dir / "plan.json").write_text(json.dumps(doc))
    run = cloud.cli("apply", "--plan", "plan.json", env=env)
    assert run.code == 1 and "refusing" in run.stderr and what in run.stderr, run.stderr
    no_writes(cloud)


def test_untouched_saved_plan_applies(make_cloud):
    cloud = make_cloud()
    env, _ = _saved(cloud)
    run = cloud.cli("apply", "--plan", "plan.json", env=env)
    assert run.code == 0, run.stdout + run.stderr


def test_saved_plan_with_target_or_replace_is_a_usage_error(make_cloud):
    cloud = make_cloud()
    env, _ = _saved(cloud)
    for flag in ("--target", "--replace"):
        run = cloud.cli("apply", "--plan", "plan.json", flag, "batch", env=env)
        assert run.code == 64 and "cannot be used with --plan" in run.stderr
    no_writes(cloud)


# -- targets ---------------------------------------------------------------------------------------
def test_target_naming_nothing_declared_is_an_error_with_a_suggestion(make_cloud):
    cloud = make_cloud()
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks"))
    for command in (["plan", "--detailed-exitcode"], ["apply", "--auto-approve"]):
        for flag in ("--target", "--replace"):
            run = cloud.cli(*command, flag, "scoring-prd")
            assert run.code == 1, run.stdout + run.stderr
            assert "did you mean 'scoring-prod'?" in run.stderr and "prod/scoring-prod" in run.stderr
            assert "No changes" not in run.stdout
    no_writes(cloud)


# -- secrets never shown ---------------------------------------------------------------------------
def test_canary_secret_never_appears_nor_its_hash_in_any_output_log_or_plan_file(make_cloud):
    cloud = make_cloud()
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=ENV_TLS))
    cert, key = tls_pair("api.example.com")
    env = cloud.env(CERT=cert, KEY=key)
    canaries = {key.splitlines()[2], cert.splitlines()[2]}
    for value in (cert, key):
        for text in (value, value.strip()):
            canaries |= {hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(text.encode()).hexdigest()[:16]}
    seen = []
    for log in ("console", "json"):
        for fmt in ("text", "json", "markdown"):
            run = cloud.cli("--log-format", log, "plan", "--format", fmt, "--out", f"plan-{log}-{fmt}.json", env=env)
            seen += [run.stdout, run.stderr, (cloud.dir / f"plan-{log}-{fmt}.json").read_text()]
    run = cloud.cli("--log-format", "json", "apply", "--plan", "plan-json-json.json", env=env)
    assert run.code == 0, run.stdout + run.stderr
    seen += [run.stdout, run.stderr]
    env["CERT"], env["KEY"] = tls_pair("api.example.com")  # a rotation: shown as (sensitive, changed)
    run = cloud.cli("--log-format", "console", "apply", "--auto-approve", env=env)
    seen += [run.stdout, run.stderr]
    assert "(sensitive, changed)" in run.stdout
    seen += [p.read_text(errors="replace") for p in (cloud.dir / ".reconciler").rglob("*") if p.is_file()]
    blob = "\n".join(seen)
    for canary in canaries:
        assert canary not in blob


def test_hunter2_in_an_environment_variable_is_neither_sent_nor_shown(make_cloud):
    cloud = make_cloud()
    cloud.write(c=attach_doc("scoring-prod", "scoring-aks", extra=ENV_TLS))
    env = cloud.env(CERT="hunter2", KEY="hunter2")
    digest = hashlib.sha256(b"hunter2").hexdigest()
    outputs = []
    for fmt in ("text", "json", "markdown"):
        run = cloud.cli("plan", "--format", fmt, env=env)
        outputs += [run.stdout, run.stderr]
    run = cloud.cli("apply", "--auto-approve", env=env)
    outputs += [run.stdout, run.stderr]
    assert run.code == 1 and "not a PEM" in run.stderr
    assert not any("hunter2" in o or digest in o for o in outputs)
    no_writes(cloud)
