"""The only package that talks to Azure.

Importing it is cheap: Azure libraries are imported inside the functions that use them.
`observe` itself is not re-exported here: it would shadow the `reconciler.cloud.observe`
module; use `from reconciler.cloud.observe import observe`.
"""

import logging

from reconciler.cloud.aks import AksClient
from reconciler.cloud.arm import CloudError, ComputesClient
from reconciler.cloud.auth import CloudConfigError, Connection, connect
from reconciler.cloud.observe import ObserveStats, observe_with_stats

__all__ = [
    "AksClient",
    "CloudConfigError",
    "CloudError",
    "ComputesClient",
    "Connection",
    "ObserveStats",
    "connect",
    "observe_with_stats",
]

# Azure SDK loggers are chatty and may print request bodies: keep them quiet; the errors
# that matter reach the user as one line through the CLI.
logging.getLogger("azure").setLevel(logging.ERROR)
