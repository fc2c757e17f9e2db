"""The executor without a server: fake clients stand in for Azure."""

from __future__ import annotations

import threading
import time

from reconciler.cloud.arm import compute_from_rest
from reconciler.executor import ApplyResult, Executor, FreshListing
from reconciler.ids import cluster_key
from reconciler.planner import Action, Change, Plan, Step
from tests.builders import WS, aks_id, attach, cluster, desired, observed, workspace


def test_fresh_listing_shares_calls_but_never_returns_a_listing_older_than_the_ask():
    calls: list[float] = []
    gate = threading.Event()

    def fetch(ws):
        calls.append(time.monotonic())
        gate.wait(1)
        return [{"name": f"call{len(calls)}"}]

    listing = FreshListing(fetch)
    results: dict[int, list] = {}
    first = threading.Thread(target=lambda: results.__setitem__(0, listing(WS)))
    first.start()
    while not calls:
        time.sleep(0.001)
    # These ask while call 1 runs: call 1 began before they asked, so they must not get it.
    others = [threading.Thread(target=lambda i=i: results.__setitem__(i, listing(WS))) for i in range(1, 6)]
    for t in others:
        t.start()
    time.sleep(0.05)
    gate.set()
    for t in [first, *others]:
        t.join(5)
    assert results[0] == [{"name": "call1"}]
    assert all(results[i] == [{"name": "call2"}] for i in range(1, 6))
    assert len(calls) == 2


# -- the executor against fake clients ---------------------------------------------------------------------------


class FakePoller:
    def __init__(self, error: Exception | None = None, finishes: bool = True) -> None:
        self.error, self.finishes = error, finishes

    def result(self, timeout: float | None = None) -> None:
        if self.error:
            raise self.error

    def done(self) -> bool:
        return self.finishes


class FakeComputes:
    """The workspace computes client: a listing by name; chosen computes fail or never finish."""

    def __init__(
        self, *listing: dict, failing: dict[str, Exception] | None = None, unfinished: tuple[str, ...] = ()
    ) -> None:
        self.listing = {b["name"]: b for b in listing}
        self.failing, self.unfinished = failing or {}, unfinished
        self.calls: list[tuple[str, str]] = []

    def list(self, ws):
        return [compute_from_rest(b) for b in self.listing.values()]

    def get(self, ws, name):
        body = self.listing.get(name)
        return compute_from_rest(body) if body else None

    def begin_delete(self, ws, name, action):
        self.calls.append((action.lower(), name))
        return FakePoller(self.failing.get(name), name not in self.unfinished)

    def begin_create_or_update(self, ws, name, body):
        self.calls.append(("put", name))
        return FakePoller(self.failing.get(name), name not in self.unfinished)


class RecordedProgress:
    def __init__(self) -> None:
        self.finished_steps: dict[str, str] = {}

    def queued(self, step_id, op, compute):
        pass

    def started(self, step_id, op, compute):
        pass

    def finished(self, step_id, status, message=""):
        self.finished_steps[step_id] = status

    def close(self):
        pass


def rest_compute(name: str, cluster_name: str) -> dict:
    return {
        "name": name,
        "properties": {
            "computeType": "AKS",
            "resourceId": aks_id(cluster_name),
            "provisioningState": "Succeeded",
            "properties": {},
        },
    }


def attach_change(dc, *, depends_on: tuple[str, ...] = ()) -> Change:
    step = Step(f"attach:{dc.name}", "attach", dc.name, WS, cluster_key(dc.cluster_id), list(depends_on))
    return Change(dc.address, Action.ATTACH, WS, dc.name, dc.cluster_id, steps=[step], desired=dc)


def run(computes: FakeComputes, *changes: Change) -> tuple[ApplyResult, RecordedProgress]:
    progress = RecordedProgress()
    executor = Executor(
        computes,
        aks=None,
        observed=observed(clusters=[cluster("a-aks"), cluster("b-aks")]),
        progress=progress,
        resolve_secrets=lambda dc: None,
    )
    return executor.run(Plan(list(changes), [], [])), progress


def declared(tmp_path, *clusters: tuple[str, str]) -> dict:
    docs = [attach(name=name, cluster=cl) for name, cl in clusters]
    return {dc.name: dc for dc in desired(tmp_path, workspace(), *docs).clusters}


def test_a_failed_step_skips_only_its_dependents(tmp_path):
    dcs = declared(tmp_path, ("new-name", "a-aks"), ("b-scoring", "b-aks"))
    detach = Step("detach:old-name", "detach", "old-name", WS, cluster_key(aks_id("a-aks")))
    rename = Change("old-name", Action.DETACH, WS, "old-name", aks_id("a-aks"), steps=[detach])
    computes = FakeComputes(rest_compute("old-name", "a-aks"), failing={"old-name": RuntimeError("Message: conflict")})

    result, progress = run(
        computes, rename, attach_change(dcs["new-name"], depends_on=(detach.id,)), attach_change(dcs["b-scoring"])
    )

    statuses = {sid: r.status for sid, r in result.results.items()}
    assert statuses == {"detach:old-name": "failed", "attach:new-name": "skipped", "attach:b-scoring": "succeeded"}
    assert result.results["detach:old-name"].message == "conflict"
    assert ("put", "new-name") not in computes.calls and ("put", "b-scoring") in computes.calls
    assert progress.finished_steps == statuses
    assert not result.ok


def test_attach_is_refused_when_the_fresh_listing_shows_another_attachment(tmp_path):
    dcs = declared(tmp_path, ("new-name", "a-aks"))
    # Not in the plan's observation: someone attached the cluster after plan ran.
    computes = FakeComputes(rest_compute("someone-else", "a-aks"))

    result, _ = run(computes, attach_change(dcs["new-name"]))

    (outcome,) = result.results.values()
    assert outcome.status == "failed"
    assert "already attached as 'someone-else'" in outcome.message and "second attachment" in outcome.message
    assert computes.calls == []


def test_a_timeout_says_the_operation_may_still_run_in_azure(tmp_path):
    dcs = declared(tmp_path, ("new-name", "a-aks"))
    computes = FakeComputes(unfinished=("new-name",))

    result, _ = run(computes, attach_change(dcs["new-name"]))

    (outcome,) = result.results.values()
    assert outcome.status == "failed"
    assert "did not finish within" in outcome.message and "it may still be running in Azure" in outcome.message


class AttachedMeanwhile(FakeComputes):
    """Another machine attaches the same cluster while our attach runs."""

    def begin_create_or_update(self, ws, name, body):
        poller = super().begin_create_or_update(ws, name, body)
        self.listing[name] = rest_compute(name, "a-aks")
        self.listing["their-name"] = rest_compute("their-name", "a-aks")
        return poller


def test_workspace_is_listed_again_after_attach_and_a_second_attachment_fails_the_run_with_the_repair(tmp_path):
    dcs = declared(tmp_path, ("new-name", "a-aks"))
    result, _ = run(AttachedMeanwhile(), attach_change(dcs["new-name"]))
    failure = result.results["attach:new-name"]
    assert failure.status == "failed" and "'their-name'" in failure.message
    assert "Repair: detach 'their-name'" in failure.message and "reconciler apply" in failure.message


class RendezvousComputes(FakeComputes):
    """Every PUT waits until `parties` PUTs are in flight together: only a fully parallel start passes."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=20)

    def begin_create_or_update(self, ws, name, body):
        self.barrier.wait()
        return super().begin_create_or_update(ws, name, body)


def test_every_ready_step_starts_at_once_at_the_default_parallelism(tmp_path):
    from reconciler.throttling import DEFAULT_PARALLELISM

    n = 60  # six times the old default of 10, within the default
    assert n <= DEFAULT_PARALLELISM
    names = [(f"scoring{i:02d}", f"aks{i:02d}") for i in range(n)]
    dcs = declared(tmp_path, *names)
    computes = RendezvousComputes(n)
    progress = RecordedProgress()
    executor = Executor(
        computes,
        aks=None,
        observed=observed(clusters=[cluster(c) for _, c in names]),
        progress=progress,
        resolve_secrets=lambda dc: None,
    )

    result = executor.run(Plan([attach_change(dc) for dc in dcs.values()], [], []))

    assert result.ok, [r.message for r in result.failed][:3]
    assert len([c for c in computes.calls if c[0] == "put"]) == n


class CountedListings(FakeComputes):
    """A slow listing (so workers overlap it), and PUT pollers that end only once every PUT is sent."""

    def __init__(self, puts: int, *listing: dict) -> None:
        super().__init__(*listing)
        self.puts, self.all_sent = puts, threading.Event()
        self.listings_before_all_sent = 0
        self._guard = threading.Lock()

    def list(self, ws):
        if not self.all_sent.is_set():
            self.listings_before_all_sent += 1
        time.sleep(0.05)
        return super().list(ws)

    def begin_create_or_update(self, ws, name, body):
        super().begin_create_or_update(ws, name, body)
        with self._guard:
            if sum(c[0] == "put" for c in self.calls) == self.puts:
                self.all_sent.set()
        return AfterEveryPut(self.all_sent)


class AfterEveryPut(FakePoller):
    def __init__(self, all_sent: threading.Event) -> None:
        super().__init__()
        self.all_sent = all_sent

    def result(self, timeout: float | None = None) -> None:
        self.all_sent.wait(10)


def test_steps_that_become_ready_together_share_one_pre_attach_listing(tmp_path):
    names = [(f"scoring{i}", f"aks{i}") for i in range(6)]
    dcs = declared(tmp_path, *names)
    computes = CountedListings(len(names))

    result, _ = run(computes, *(attach_change(dc) for dc in dcs.values()))

    assert result.ok, [r.message for r in result.failed]
    # One listing, started after all six were ready; not one per worker as each got going.
    assert computes.listings_before_all_sent == 1


class AttachedWhileQueued(FakeComputes):
    """Someone attaches b-aks once our first attach is done and checked, before the queued second step starts."""

    def list(self, ws):
        listing = super().list(ws)
        if ("put", "new-name") in self.calls:  # the first attach's check after: the last listing before the step
            self.listing["their-name"] = rest_compute("their-name", "b-aks")
        return listing


def test_a_step_queued_behind_parallelism_lists_the_workspace_when_it_starts(tmp_path):
    dcs = declared(tmp_path, ("new-name", "a-aks"), ("b-scoring", "b-aks"))
    first = attach_change(dcs["new-name"])
    queued = attach_change(dcs["b-scoring"])
    computes = AttachedWhileQueued()
    executor = Executor(
        computes,
        aks=None,
        observed=observed(clusters=[cluster("a-aks"), cluster("b-aks")]),
        progress=RecordedProgress(),
        parallelism=1,
        resolve_secrets=lambda dc: None,
    )

    result = executor.run(Plan([first, queued], [], []))

    assert result.results[first.steps[0].id].status == "succeeded"
    refused = result.results[queued.steps[0].id]
    assert refused.status == "failed" and "already attached as 'their-name'" in refused.message
    assert ("put", "b-scoring") not in computes.calls


def test_default_parallelism_stays_within_arms_buckets_with_headroom():
    from reconciler import throttling

    p = throttling.DEFAULT_PARALLELISM
    assert p <= throttling.WRITE_BUCKET and p <= throttling.DELETE_BUCKET  # all may start in the same second
    assert p / throttling.POLL_INTERVAL_S <= throttling.READ_REFILL_PER_S  # their polls never outrun the read refill
    assert p == 100 and throttling.default_parallelism(poll_interval_s=1.0) == 20
