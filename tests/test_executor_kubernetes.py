"""The executor's Kubernetes steps against fake clients: what is called, and what never is."""

from __future__ import annotations

from reconciler.executor import Executor
from reconciler.plan import Action, Op
from reconciler.planner import plan
from reconciler.state import Extension
from tests.builders import WS, aks_id, cluster, desired, extension, kubernetes, observed, workspace
from tests.test_executor import FakeComputes, FakePoller, RecordedProgress

SERVING = aks_id("serving-aks")


class FakeKube:
    def __init__(self, ext: Extension | None = None, namespace_exists: bool = False) -> None:
        self.ext, self.namespace_exists = ext, namespace_exists
        self.calls: list[tuple] = []

    def get_extension(self, cluster_id, name):
        return self.ext

    def begin_install(self, cluster_id, name, body):
        self.calls.append(("install", name, body))
        return FakePoller()

    def begin_upgrade(self, cluster_id, name, patch):
        self.calls.append(("upgrade", name, patch))
        return FakePoller()

    def begin_uninstall(self, cluster_id, name):
        self.calls.append(("uninstall", name))
        return FakePoller()

    def run_command(self, cluster_id, command, *, timeout):
        self.calls.append(("run", command))
        if self.namespace_exists:
            return 1, 'Error from server (AlreadyExists): namespaces "team-a" already exists\n'
        return 0, "namespace/team-a created\n"


def installed(tmp_path, **settings) -> Extension:
    from reconciler import extension_body

    de = desired(tmp_path, workspace(), extension()).extensions[0]
    return Extension(
        SERVING + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml",
        "azureml",
        "Microsoft.AzureML.Kubernetes",
        SERVING,
        {**extension_body.configuration_settings(de, cluster("serving-aks")), **settings},
    )


def run(tmp_path, docs, kube: FakeKube, computes: FakeComputes, obs=None):
    obs = obs or observed(clusters=[cluster("serving-aks")])
    if kube.ext is not None:
        obs.extensions[cluster("serving-aks").key] = (kube.ext,)
    p = plan(desired(tmp_path, workspace(prune=True), *docs), obs)
    assert not p.errors, [e.format() for e in p.errors]
    result = Executor(computes, None, obs, RecordedProgress(), kube=kube).run(p)  # type: ignore[arg-type]
    return p, result


def test_an_upgrade_is_one_patch_and_never_an_install_or_uninstall(tmp_path):
    kube = FakeKube(installed(tmp_path, inferenceRouterHA="false"))
    _, result = run(tmp_path, (extension(),), kube, FakeComputes())
    assert result.ok and [c[0] for c in kube.calls] == ["upgrade"]
    patch = kube.calls[0][2]["properties"]
    assert patch["configurationSettings"] == {"inferenceRouterHA": "true"}
    assert "configurationProtectedSettings" not in patch


def test_an_existing_namespace_is_success_so_namespace_creation_is_idempotent(tmp_path):
    kube = FakeKube(installed(tmp_path), namespace_exists=True)
    computes = FakeComputes()
    _, result = run(tmp_path, (extension(), kubernetes()), kube, computes)
    assert result.ok, result.failed
    assert ("run", "kubectl create namespace team-a") in kube.calls
    assert computes.calls == [("put", "k8s-team-a")]  # the attach PUT followed


def test_a_pruned_kubernetes_compute_is_always_detached_never_deleted(tmp_path):
    body = {
        "name": "old",
        "properties": {"computeType": "Kubernetes", "resourceId": SERVING, "properties": {"namespace": "old"}},
        "tags": {"reconciler-managed": "true"},
    }
    from reconciler.cloud.arm import compute_from_rest

    obs = observed(clusters=[cluster("serving-aks")])
    obs.workspaces[WS.key].kubernetes = {"old": compute_from_rest(body)}
    computes = FakeComputes(body)
    p, result = run(tmp_path, (extension(),), FakeKube(installed(tmp_path)), computes, obs)
    assert [c.action for c in p.actionable] == [Action.DETACH] and p.actionable[0].steps[0].op is Op.K8S_DETACH
    assert result.ok and computes.calls == [("detach", "old")]


# -- migration: the azureml-fe clean-up by Run Command ------------------------------------------------
class CleanupKube(FakeKube):
    def __init__(self, code: int = 0, logs: str = 'deployment.apps "azureml-fe" deleted\n') -> None:
        super().__init__(None)
        self.code, self.logs = code, logs

    def run_command(self, cluster_id, command, *, timeout):
        self.calls.append(("run", command))
        return (self.code, self.logs) if "delete" in command else (0, "namespace/x created\n")


def leftovers_world():
    from reconciler.state import ClusterInside

    obs = observed(clusters=[cluster("serving-aks")])
    obs.extensions[cluster("serving-aks").key] = ()
    obs.insides[cluster("serving-aks").key] = ClusterInside(("deployment.apps/azureml-fe",))
    return obs


def test_cleanup_runs_before_the_install_and_deletes_only_legacy_objects_in_default(tmp_path):
    kube = CleanupKube()
    _p, result = run(
        tmp_path, (extension(extra="  removeLegacyFrontEnd: true\n"),), kube, FakeComputes(), leftovers_world()
    )
    assert result.ok, result.failed
    assert [c[0] for c in kube.calls] == ["run", "install"]
    command = kube.calls[0][1]
    assert "-n default" in command and "azureml-fe" in command and "namespace" not in command.split("-n default")[0]


def test_cleanup_is_refused_while_a_legacy_compute_is_attached_again_and_the_install_is_skipped(tmp_path):
    from tests.test_executor import rest_compute

    kube = CleanupKube()
    computes = FakeComputes(rest_compute("someone-else", "serving-aks"))
    _p, result = run(tmp_path, (extension(extra="  removeLegacyFrontEnd: true\n"),), kube, computes, leftovers_world())
    assert not result.ok and kube.calls == []
    message = next(r.message for r in result.failed if r.status == "failed")
    assert "someone-else" in message and "still attached" in message


def test_a_failed_cleanup_reports_its_exit_code_and_never_secret_material(tmp_path):
    kube = CleanupKube(
        1, "error: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    )
    _p, result = run(
        tmp_path, (extension(extra="  removeLegacyFrontEnd: true\n"),), kube, FakeComputes(), leftovers_world()
    )
    failed = next(r for r in result.failed if r.status == "failed")
    assert "exit code 1" in failed.message and "MIIEvQ" not in failed.message
    assert ("install",) not in [c[:1] for c in kube.calls]
