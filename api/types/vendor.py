"""The Vendor enum and the small shared count types."""

from collections.abc import Mapping
from enum import Enum

import strawberry


@strawberry.enum(description="Who publishes a rule catalog.")
class Vendor(Enum):
    SIGMA = "sigma"
    ELASTIC = "elastic"
    SPLUNK = "splunk"


#: Display order of vendors in every per-vendor list.
VENDOR_ORDER = (Vendor.SIGMA, Vendor.ELASTIC, Vendor.SPLUNK)


def vendor_of(name: object) -> Vendor | None:
    """The enum member for a Rule.vendor / Source.vendor string, None for anything else."""
    try:
        return Vendor(name)
    except ValueError:
        return None


def vendor_names(vendors: list[Vendor] | None) -> tuple[str, ...] | None:
    """Graph vendor strings for an optional vendor filter, sorted so equal filters batch."""
    if vendors is None or vendors is strawberry.UNSET:
        return None
    return tuple(sorted({v.value for v in vendors}))


@strawberry.type(description="How many rules one vendor has in some selection.")
class VendorCount:
    vendor: Vendor
    rule_count: int


def vendor_counts(counts: Mapping[str, int]) -> list[VendorCount]:
    """Every vendor, in display order, with its rules in `counts` (graph vendor name -> rules),
    0 for a vendor it does not name."""
    return [VendorCount(vendor=v, rule_count=counts.get(v.value, 0)) for v in VENDOR_ORDER]
