"""Azure's public region names, built in: a location outside this list is rejected at once,
as ARM does. The seed only says which Kubernetes versions each region offers."""

from __future__ import annotations

from collections.abc import Iterable

from .domain import normalize_region

# name → display name, as `az account list-locations` prints them (physical regions).
REGIONS: dict[str, str] = {
    "eastus": "East US",
    "eastus2": "East US 2",
    "southcentralus": "South Central US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "australiaeast": "Australia East",
    "southeastasia": "Southeast Asia",
    "northeurope": "North Europe",
    "swedencentral": "Sweden Central",
    "uksouth": "UK South",
    "westeurope": "West Europe",
    "centralus": "Central US",
    "southafricanorth": "South Africa North",
    "centralindia": "Central India",
    "eastasia": "East Asia",
    "indonesiacentral": "Indonesia Central",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "koreacentral": "Korea Central",
    "malaysiawest": "Malaysia West",
    "newzealandnorth": "New Zealand North",
    "canadacentral": "Canada Central",
    "austriaeast": "Austria East",
    "belgiumcentral": "Belgium Central",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "italynorth": "Italy North",
    "norwayeast": "Norway East",
    "polandcentral": "Poland Central",
    "spaincentral": "Spain Central",
    "switzerlandnorth": "Switzerland North",
    "mexicocentral": "Mexico Central",
    "uaenorth": "UAE North",
    "brazilsouth": "Brazil South",
    "chilecentral": "Chile Central",
    "israelcentral": "Israel Central",
    "qatarcentral": "Qatar Central",
    "northcentralus": "North Central US",
    "westus": "West US",
    "westcentralus": "West Central US",
    "jioindiawest": "Jio India West",
    "jioindiacentral": "Jio India Central",
    "southafricawest": "South Africa West",
    "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2",
    "australiasoutheast": "Australia Southeast",
    "koreasouth": "Korea South",
    "southindia": "South India",
    "westindia": "West India",
    "canadaeast": "Canada East",
    "francesouth": "France South",
    "germanynorth": "Germany North",
    "norwaywest": "Norway West",
    "switzerlandwest": "Switzerland West",
    "ukwest": "UK West",
    "uaecentral": "UAE Central",
    "brazilsoutheast": "Brazil Southeast",
    "swedensouth": "Sweden South",
    "taiwannorth": "Taiwan North",
    "taiwannorthwest": "Taiwan Northwest",
    "eastus2euap": "East US 2 EUAP",
    "centraluseuap": "Central US EUAP",
}


def known(region: str, extra: Iterable[str] = ()) -> bool:
    """True for a real Azure region name (or one of ``extra``), in any case and with or without spaces."""
    name = normalize_region(region)
    return name in REGIONS or name in extra


def listing() -> str:
    """The region names in ARM's error-message form: 'eastus, eastus2, ...'."""
    return ", ".join(REGIONS)
