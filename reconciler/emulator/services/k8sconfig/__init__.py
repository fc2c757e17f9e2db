"""Microsoft.KubernetesConfiguration: cluster extensions and extension type versions."""

# Published api-versions of extensions and extensionTypes (the extensions SDK 1.0.0 sends 2025-03-01,
# the extensiontypes SDK 1.0.0b2 sends 2024-11-01-preview; older SDKs and the Azure CLI send the others).
API_VERSIONS = frozenset(
    {
        "2020-07-01-preview",
        "2021-05-01-preview",
        "2021-09-01",
        "2021-11-01-preview",
        "2022-01-01-preview",
        "2022-01-15-preview",
        "2022-03-01",
        "2022-04-02-preview",
        "2022-07-01",
        "2022-11-01",
        "2023-05-01",
        "2023-05-01-preview",
        "2024-11-01",
        "2024-11-01-preview",
        "2025-03-01",
    }
)
