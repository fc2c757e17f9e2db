"""Which api-versions each resource provider answers, and ARM's errors for the others.

The lists hold the versions Microsoft publishes for the types the emulator serves, so
the product and Microsoft's SDKs and CLI (current and older) are all answered; anything
else gets the 400 that ARM sends, naming the versions it would accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from . import regions
from .errors import InvalidApiVersionParameter, NoRegisteredProviderFound

_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|privatepreview|alpha|beta))?$", re.IGNORECASE)


def _monthly(first: tuple[int, int], last: tuple[int, int], day: str, suffix: str = "") -> set[str]:
    out, (y, m) = set(), first
    while (y, m) <= last:
        out.add(f"{y:04d}-{m:02d}-{day}{suffix}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


MACHINE_LEARNING = frozenset(
    {
        "2018-03-01-preview",
        "2018-11-19",
        "2019-05-01",
        "2019-06-01",
        "2019-11-01",
        "2020-01-01",
        "2020-02-02",  # azureml-core's compute calls (attach, create, get, detach) send it, and Azure answers them
        "2020-02-18-preview",
        "2020-03-01",
        "2020-04-01",
        "2020-04-01-preview",
        "2020-05-01-preview",
        "2020-05-15-preview",
        "2020-06-01",
        "2020-08-01",
        "2020-09-01-preview",
        "2021-01-01",
        "2021-03-01-preview",
        "2021-04-01",
        "2021-07-01",
        "2021-10-01",
        "2022-01-01-preview",
        "2022-02-01-preview",
        "2022-05-01",
        "2022-06-01-preview",
        "2022-10-01",
        "2022-10-01-preview",
        "2022-12-01-preview",
        "2023-02-01-preview",
        "2023-04-01",
        "2023-04-01-preview",
        "2023-06-01-preview",
        "2023-08-01-preview",
        "2023-10-01",
        "2024-01-01-preview",
        "2024-04-01",
        "2024-04-01-preview",
        "2024-07-01-preview",
        "2024-10-01",
        "2024-10-01-preview",
        "2025-01-01-preview",
        "2025-04-01-preview",
        "2025-06-01",
        "2025-07-01-preview",
        "2025-09-01",
        "2025-10-01-preview",
        "2025-12-01",
        "2026-01-01-preview",
        "2026-04-01-preview",
        "2026-07-01",
    }
)

# AKS ships an api-version about monthly: stable YYYY-MM-01, previews YYYY-MM-02-preview.
CONTAINER_SERVICE = frozenset(
    {"2017-08-31", "2018-03-31", "2018-08-01-preview", "2019-02-01", "2019-04-01"}
    | _monthly((2019, 6), (2026, 8), "01")
    | _monthly((2021, 2), (2026, 8), "02", "-preview")
)

RESOURCES = frozenset(
    {
        "2014-04-01-preview",
        "2015-01-01",
        "2015-11-01",
        "2016-02-01",
        "2016-06-01",
        "2016-09-01",
        "2017-05-10",
        "2018-02-01",
        "2018-05-01",
        "2018-06-01",
        "2019-03-01",
        "2019-05-01",
        "2019-06-01",
        "2019-07-01",
        "2019-08-01",
        "2019-10-01",
        "2019-11-01",
        "2020-01-01",
        "2020-06-01",
        "2020-08-01",
        "2020-10-01",
        "2021-01-01",
        "2021-04-01",
        "2022-01-01",
        "2022-09-01",
        "2022-12-01",
        "2023-07-01",
        "2024-03-01",
        "2024-07-01",
        "2024-11-01",
        "2025-01-01",
        "2025-04-01",
    }
)


def check(
    version: str,
    supported: frozenset[str],
    namespace: str,
    resource_type: str,
    location: str | None,
    arm_builtin: bool,
    extra_regions: Iterable[str] = (),
    location_hint: Callable[[], str | None] = lambda: None,
) -> None:
    """Raise ARM's error when ``version`` is malformed or not served for this type, or ``location``
    (of a location-based route) is unknown. ``location_hint`` names the region in the message otherwise."""
    if not _FORMAT.match(version):
        raise InvalidApiVersionParameter(
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(sorted(supported, reverse=True))}'."
        )
    location_ok = location is None or regions.known(location, extra_regions)
    if version.lower() in supported and location_ok:
        return
    if arm_builtin:
        raise InvalidApiVersionParameter(
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(sorted(supported, reverse=True))}'."
        )
    raise NoRegisteredProviderFound(
        f"No registered resource provider found for location '{location or location_hint() or 'global'}' "
        f"and API version "
        f"'{version}' for type '{resource_type}'. The supported api-versions are "
        f"'{', '.join(sorted(supported))}'. The supported locations are '{regions.listing()}'."
    )
