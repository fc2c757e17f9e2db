"""The Azure ML how-to's own azureml-core code, unmodified, against the cloud named by
ARM_CLOUD_METADATA_URL (the SDK's documented way to reach a non-public cloud).

argv: EMULATOR_URL SUBSCRIPTION WS_RG WS AKS_RG ATTACH_CLUSTER TOKEN
Prints one JSON line summarising what the SDK saw.
"""

import json
import sys

url, subscription_id, resource_group, workspace_name, aks_rg, cluster_name, token = sys.argv[1:8]

from azureml.core import Workspace  # noqa: E402  (the cloud is read at import)
from azureml.core.authentication import TokenAuthentication  # noqa: E402
from azureml.core.compute import AksCompute, ComputeTarget  # noqa: E402

seen: dict = {}
auth = TokenAuthentication(lambda audience: token)
seen["arm"] = auth._get_arm_end_point()
ws = Workspace(subscription_id, resource_group, workspace_name, auth=auth)
seen["workspace"] = ws.name
seen["location"] = ws.location

# Attach an existing cluster (how-to: "Attach an existing AKS cluster").
attach_config = AksCompute.attach_configuration(resource_group=aks_rg, cluster_name=cluster_name)
aks_target = ComputeTarget.attach(ws, "howto-attached", attach_config)
aks_target.wait_for_completion(show_output=True)
seen["attached_state"] = aks_target.provisioning_state
seen["attached_resource_id"] = aks_target.cluster_resource_id
seen["targets"] = sorted(ws.compute_targets)
got = ComputeTarget(workspace=ws, name="howto-attached")
seen["get_type"] = type(got).__name__
seen["get_agent_count"] = got.agent_count

# Detach it again (how-to: "Detach the AKS cluster").
aks_target.detach()
seen["after_detach"] = {
    n: t.provisioning_state
    for n, t in Workspace(subscription_id, resource_group, workspace_name, auth=auth).compute_targets.items()
}

# Create a new DevTest cluster through the workspace (how-to: "Create a new AKS cluster").
prov_config = AksCompute.provisioning_configuration(cluster_purpose=AksCompute.ClusterPurpose.DEV_TEST)
aks_target = ComputeTarget.create(workspace=ws, name="howto-devtest", provisioning_configuration=prov_config)
aks_target.wait_for_completion(show_output=True)
seen["created_state"] = aks_target.provisioning_state
seen["created_purpose"] = aks_target.cluster_purpose
seen["created_agent_count"] = aks_target.agent_count
seen["at_end"] = sorted(Workspace(subscription_id, resource_group, workspace_name, auth=auth).compute_targets)
print(json.dumps(seen))
