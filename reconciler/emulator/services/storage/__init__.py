"""Microsoft.Storage: the storage accounts workspaces point at."""

# Published api-versions of storageAccounts (azure-mgmt-storage 25.x sends 2026-09-01).
API_VERSIONS = frozenset(
    {
        "2019-06-01",
        "2021-01-01",
        "2021-02-01",
        "2021-04-01",
        "2021-06-01",
        "2021-08-01",
        "2021-09-01",
        "2022-05-01",
        "2022-09-01",
        "2023-01-01",
        "2023-04-01",
        "2023-05-01",
        "2024-01-01",
        "2025-01-01",
        "2025-06-01",
        "2026-09-01",
    }
)
