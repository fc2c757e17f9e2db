"""Leaf-label certificate backups: the files, and which plan steps would lose a certificate."""

from __future__ import annotations

import os
import stat

import pytest

from reconciler import tlsbackup
from reconciler.plan import Op
from reconciler.state import Tls
from tests.builders import WS, attach, attached, cluster, observed, planned, workspace

LEAF = Tls("Enabled", leaf_domain_label="fraud")


def test_backup_files_are_0600_and_never_overwritten(tmp_path):
    where = tlsbackup.write_backup(tmp_path, WS, "scoring-prod", "CERT", "KEY")
    assert stat.S_IMODE(os.stat(where / "key.pem").st_mode) == 0o600 and tlsbackup.has_backup(
        tmp_path, WS, "scoring-prod"
    )
    with pytest.raises(tlsbackup.BackupExistsError):
        tlsbackup.write_backup(tmp_path, WS, "scoring-prod", "OTHER", "OTHER")
    assert (where / "key.pem").read_text() == "KEY"


def test_a_symlink_planted_at_a_backup_name_is_refused(tmp_path):
    where = tlsbackup.backup_dir(tmp_path, WS, "scoring-prod")
    where.mkdir(parents=True)
    (where / "cert.pem").symlink_to(tmp_path / "elsewhere.pem")
    with pytest.raises(tlsbackup.BackupExistsError):
        tlsbackup.write_backup(tmp_path, WS, "scoring-prod", "CERT", "KEY")
    assert not (tmp_path / "elsewhere.pem").exists()


def test_a_reattach_that_keeps_the_leaf_label_is_at_risk_and_one_with_a_custom_certificate_is_not(
    tmp_path, monkeypatch
):
    obs = observed([attached("scoring-prod", "scoring-aks", tls=LEAF)], clusters=[cluster("scoring-aks")])
    leaf = attach("scoring-prod", purpose="DenseProd", extra="  tls: {enabled: true, leafDomainLabel: fraud}\n")
    risky = planned(tmp_path, (workspace(), leaf), obs)
    assert [r.compute for r in tlsbackup.at_risk(risky)] == ["scoring-prod"]
    assert "backup-tls scoring-prod" in (tlsbackup.refusal(risky, tmp_path / "none") or "")
    monkeypatch.setenv("LEAF_CERT", "c")
    monkeypatch.setenv("LEAF_KEY", "k")
    custom = attach(
        "scoring-prod",
        extra="  tls:\n    enabled: true\n    cname: fraud1.westeurope.cloudapp.azure.net\n"
        "    certificate: {env: LEAF_CERT}\n    key: {env: LEAF_KEY}\n",
    )
    assert tlsbackup.at_risk(planned(tmp_path, (workspace(), custom), obs)) == []


def test_backup_tls_adds_a_save_step_that_the_detach_waits_for(tmp_path):
    obs = observed([attached("scoring-prod", "scoring-aks", tls=LEAF)], clusters=[cluster("scoring-aks")])
    p = planned(tmp_path, (workspace(prune=True),), obs)
    assert tlsbackup.add_save_steps(p, tmp_path / "b") == 1 and tlsbackup.refusal(p, tmp_path / "b") is None
    save, detach = p.changes[0].steps
    assert (save.op, detach.op) == (Op.SAVE_TLS, Op.DETACH) and save.id in detach.depends_on


def test_the_save_step_runs_before_another_detach_of_the_same_cluster_in_its_chain(tmp_path):
    """The certificate lives in the cluster: a detach of another compute of that cluster, earlier in the
    chain, must wait for the save too."""
    obs = observed(
        [attached("aaa-old", "scoring-aks", tls=LEAF), attached("scoring-prod", "scoring-aks")],
        clusters=[cluster("scoring-aks")],
    )
    p = planned(tmp_path, (workspace(prune=True), attach("scoring-prod", purpose="DenseProd")), obs)
    steps = {s.id: s for s in p.steps()}
    assert "prod/aaa-old#1" in steps and "prod/scoring-prod#1" in steps["prod/aaa-old#1"].depends_on
    assert tlsbackup.add_save_steps(p, tmp_path / "b") == 1
    steps = {s.id: s for s in p.steps()}
    save = steps["prod/aaa-old#0"]
    assert save.op is Op.SAVE_TLS and save.depends_on == []
    assert save.id in steps["prod/scoring-prod#1"].depends_on and save.id in steps["prod/aaa-old#1"].depends_on


def test_two_certificates_on_one_cluster_are_saved_before_either_detach(tmp_path):
    """The second change's chain runs through the first one's save: the saves chain too, so neither detach
    of the cluster starts before both certificates are saved."""
    other = Tls("Enabled", leaf_domain_label="other")
    obs = observed(
        [attached("aaa-old", "scoring-aks", tls=LEAF), attached("scoring-prod", "scoring-aks", tls=other)],
        clusters=[cluster("scoring-aks")],
    )
    reattach = attach("scoring-prod", purpose="DenseProd", extra="  tls: {enabled: true, leafDomainLabel: other}\n")
    p = planned(tmp_path, (workspace(prune=True), reattach), obs)
    assert tlsbackup.add_save_steps(p, tmp_path / "b") == 2
    assert {s.id: (s.op, sorted(s.depends_on)) for s in p.steps()} == {
        "prod/aaa-old#0": (Op.SAVE_TLS, []),
        "prod/scoring-prod#0": (Op.SAVE_TLS, ["prod/aaa-old#0"]),
        "prod/scoring-prod#1": (Op.DETACH, ["prod/scoring-prod#0"]),
        "prod/aaa-old#1": (Op.DETACH, ["prod/aaa-old#0", "prod/scoring-prod#1"]),
        "prod/scoring-prod#2": (Op.ATTACH, ["prod/aaa-old#1", "prod/scoring-prod#1"]),
    }
