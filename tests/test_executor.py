"""Executor pieces that need no server."""

from __future__ import annotations

import threading
import time

from reconciler.executor import FreshListing
from tests.planning import WS


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
