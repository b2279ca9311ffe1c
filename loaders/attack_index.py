"""One pass over an ATT&CK bundle: the objects to convert, their ids and the relationships."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from covgraph.errors import Location
from loaders.attack_stix import StixObject, attack_reference, is_withdrawn, text, texts
from loaders.records import Problem

TACTIC = "x-mitre-tactic"
TECHNIQUE = "attack-pattern"
DATA_SOURCE = "x-mitre-data-source"
DATA_COMPONENT = "x-mitre-data-component"
DETECTION_STRATEGY = "x-mitre-detection-strategy"
ANALYTIC = "x-mitre-analytic"

#: The STIX types that become records; each must carry an ATT&CK id.
CONVERTED_TYPES = (TACTIC, TECHNIQUE, DATA_SOURCE, DATA_COMPONENT, DETECTION_STRATEGY, ANALYTIC)

#: Relationship types the catalog uses; ``uses``, ``mitigates`` and the rest are not read.
_RELATIONSHIP_TYPES = frozenset({"subtechnique-of", "detects", "revoked-by"})

Severity = Literal["error", "warning", "info"]


class BundleIndex:
    """The objects of one bundle by type and by STIX id, and the relationships between them.

    Built by ``index``; objects without an ATT&CK id are left out and reported in ``problems``.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[Problem] = []
        self.by_type: dict[str, list[StixObject]] = defaultdict(list)
        self.attack_ids: dict[str, str] = {}  # STIX id -> ATT&CK id
        self.urls: dict[str, str | None] = {}
        self.stix_types: dict[str, str] = {}
        self.version: str | None = None  # from x-mitre-collection
        self.matrix_order: dict[str, int] = {}  # tactic STIX id -> position, from 1
        self.parents: dict[str, str] = {}  # sub-technique STIX id -> parent STIX id
        self.detects: dict[str, list[str]] = defaultdict(list)  # detector -> technique STIX ids
        self.revoked_by: dict[str, str] = {}

    @classmethod
    def index(cls, objects: Sequence[object], origin: str) -> BundleIndex:
        """Index the objects of one bundle; ``origin`` names the file in problems."""
        bundle = cls(origin)
        for relationship in bundle._keep(objects):
            bundle._relate(relationship)
        return bundle

    def problem(self, reason: str, kind: str, severity: Severity = "error") -> None:
        """Report something found in the bundle."""
        self.problems.append(Problem(Location(self.origin), reason, kind, severity))

    def ref_id(self, obj: StixObject, ref: str, stix_type: str) -> str | None:
        """ATT&CK id of the ``stix_type`` object ``ref`` names; None, reported, when unknown."""
        if self.stix_types.get(ref) == stix_type:
            return self.attack_ids[ref]
        self.problem(
            f"{obj['id']} ({self.attack_ids[obj['id']]}) refers to unknown or skipped {ref!r}",
            "dangling-reference",
            "warning",
        )
        return None

    def _keep(self, objects: Sequence[object]) -> list[StixObject]:
        """Keep the objects to convert, by type, and return the relationships."""
        relationships: list[StixObject] = []
        seen: set[tuple[str, str]] = set()
        for position, obj in enumerate(objects):
            stix_type = text(obj, "type") if isinstance(obj, dict) else None
            stix_id = text(obj, "id") if isinstance(obj, dict) else None
            if not isinstance(obj, dict) or stix_type is None or stix_id is None:
                self.problem(
                    f"object #{position} is not a STIX object with a type and an id",
                    "malformed-object",
                )
                continue
            if stix_type == "relationship":
                relationships.append(obj)
            elif stix_type in CONVERTED_TYPES:
                reference = attack_reference(obj)
                if reference is None:
                    name = text(obj, "name") or "no name"
                    self.problem(
                        f"{stix_id} ({name}) has no ATT&CK id (no mitre-attack "
                        "external reference with an external_id); skipped",
                        "missing-attack-id",
                    )
                    continue
                attack_id, url = reference
                if (stix_type, attack_id) in seen:
                    self.problem(
                        f"{stix_id}: {attack_id} appears twice; the first is kept",
                        "duplicate-attack-id",
                        "warning",
                    )
                    continue
                seen.add((stix_type, attack_id))
                self.attack_ids[stix_id] = attack_id
                self.urls[stix_id] = url
                self.stix_types[stix_id] = stix_type
                self.by_type[stix_type].append(obj)
            elif stix_type == "x-mitre-matrix":
                for ref in texts(obj, "tactic_refs"):
                    self.matrix_order.setdefault(ref, len(self.matrix_order) + 1)
            elif stix_type == "x-mitre-collection":
                self.version = text(obj, "x_mitre_version") or self.version
        return relationships

    def _relate(self, relationship: StixObject) -> None:
        """Record one relationship the catalog uses; withdrawn relationships are ignored."""
        kind = text(relationship, "relationship_type")
        if kind not in _RELATIONSHIP_TYPES or is_withdrawn(relationship):
            return
        source_ref = text(relationship, "source_ref") or ""
        target_ref = text(relationship, "target_ref") or ""
        if source_ref.split("--", 1)[0] not in CONVERTED_TYPES:
            return  # e.g. revoked-by between intrusion sets
        missing = [ref for ref in (source_ref, target_ref) if ref not in self.attack_ids]
        if missing:
            self.problem(
                f"{text(relationship, 'id')} ({kind}) refers to unknown or skipped "
                f"{', '.join(repr(ref) for ref in missing)}",
                "dangling-reference",
                "warning",
            )
            return
        if kind == "subtechnique-of":
            self.parents[source_ref] = target_ref
        elif kind == "revoked-by":
            self.revoked_by[source_ref] = target_ref
        elif self.stix_types[target_ref] == TECHNIQUE:
            self.detects[source_ref].append(target_ref)
