"""The newest stable azure-mgmt-machinelearningservices, unmodified: list, get, attach
(begin_create_or_update), create, and begin_delete (detach, delete), with its own LRO polling.

argv: EMULATOR_URL SUBSCRIPTION WS_RG WS ATTACH_CLUSTER_ID TOKEN
Prints one JSON line summarising what the SDK saw.
"""

import json
import sys
import time

from azure.core.credentials import AccessToken
from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
from azure.mgmt.machinelearningservices import __version__ as sdk_version
from azure.mgmt.machinelearningservices import models as ml

url, sub, rg, ws, cluster, token = sys.argv[1:7]


class Credential:
    def get_token(self, *scopes, **kw):
        return AccessToken(token, int(time.time()) + 3600)


c = MachineLearningServicesMgmtClient(Credential(), sub, base_url=url)
ops = c.machine_learning_compute
seen = {"sdk": sdk_version, "api_version": c._config.api_version}
seen["list"] = sorted(x.name for x in ops.list_by_workspace(rg, ws))
legacy = ops.get(rg, ws, "legacy-scoring")
seen["get_type"] = type(legacy.properties).__name__
seen["get_resource_id"] = legacy.properties.resource_id
attach = ml.ComputeResource(
    location="westeurope",
    properties=ml.AKS(resource_id=cluster, properties=ml.AKSProperties(cluster_purpose="DevTest")),
)
done = ops.begin_create_or_update(rg, ws, "stable-attached", attach, polling_interval=0.1).result()
seen["attached"] = [
    done.properties.provisioning_state,
    done.properties.is_attached_compute,
    done.properties.resource_id,
]
create = ml.ComputeResource(
    location="westeurope",
    properties=ml.AKS(
        properties=ml.AKSProperties(agent_count=3, agent_vm_size="Standard_D3_v2", cluster_purpose="FastProd")
    ),
)
done = ops.begin_create_or_update(rg, ws, "stable-created", create, polling_interval=0.1).result()
seen["created"] = [
    done.properties.provisioning_state,
    done.properties.is_attached_compute,
    done.properties.properties.agent_count,
]
seen["list_after"] = sorted(x.name for x in ops.list_by_workspace(rg, ws))
ops.begin_delete(rg, ws, "stable-attached", "Detach", polling_interval=0.1).result()
ops.begin_delete(rg, ws, "stable-created", "Delete", polling_interval=0.1).result()
seen["list_end"] = sorted(x.name for x in ops.list_by_workspace(rg, ws))
print(json.dumps(seen))
