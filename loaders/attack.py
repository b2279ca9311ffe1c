"""Reads a MITRE ATT&CK STIX 2.1 bundle into an AttackCatalog.

ATT&CK v18 moved detection from data components to detection strategies: a strategy ``detects``
one technique (a relationship) and lists its analytics (``x_mitre_analytic_refs``); an analytic
names the data components and log sources it reads (``x_mitre_log_source_references``). Older
bundles link data components to techniques with ``detects`` relationships and list
``x_mitre_data_sources`` on techniques; both shapes are read. The bundle is read with the
standard library rather than stix2 or mitreattack-python: those build a full STIX object model
(with validation and every object type) when one pass over plain dicts is all the catalog needs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from covgraph.errors import Location, ParseError
from loaders.attack_events import log_source_events, misfiled
from loaders.attack_index import (
    ANALYTIC,
    DATA_COMPONENT,
    DATA_SOURCE,
    DETECTION_STRATEGY,
    TACTIC,
    TECHNIQUE,
    BundleIndex,
)
from loaders.attack_stix import StixObject, entries, flag, is_withdrawn, text, texts
from loaders.records import (
    Analytic,
    AttackCatalog,
    DataComponent,
    DataSource,
    DetectionStrategy,
    Event,
    LogSourceRef,
    SourceInfo,
    Tactic,
    Technique,
)

_KILL_CHAINS = frozenset({"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"})


def load_attack(path: Path, source: SourceInfo | None = None) -> AttackCatalog:
    """Read the ATT&CK STIX bundle at ``path`` into tactics, techniques and detection data.

    Raises ParseError when the file is not JSON or not a STIX bundle; objects that cannot be
    read are reported in ``problems``. Without ``source``, the Source is ``attack`` with the
    bundle's ATT&CK version.
    """
    return catalog_from_objects(read_bundle(path), str(path), source)


def read_bundle(path: Path) -> list[object]:
    """The ``objects`` list of the STIX bundle at ``path``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(
            f"cannot read the file: {exc.strerror or exc}", Location(str(path))
        ) from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"not JSON: {exc.msg}", Location(str(path), exc.lineno, exc.colno)
        ) from exc
    except UnicodeDecodeError as exc:
        raise ParseError(f"not JSON: not UTF-8 text ({exc.reason})", Location(str(path))) from exc
    return bundle_objects(data, str(path))


def bundle_objects(data: object, origin: str) -> list[object]:
    """The ``objects`` of a parsed STIX bundle; ParseError when ``data`` is not a bundle."""
    if not isinstance(data, dict) or data.get("type") != "bundle":
        found = type(data).__name__ if not isinstance(data, dict) else repr(data.get("type"))
        raise ParseError(
            f'not a STIX bundle: expected an object with "type": "bundle", found {found}',
            Location(origin),
        )
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise ParseError('not a STIX bundle: "objects" is missing or not a list', Location(origin))
    return objects


def catalog_from_objects(
    objects: Sequence[object], origin: str, source: SourceInfo | None = None
) -> AttackCatalog:
    """Turn the objects of one bundle into an AttackCatalog; ``origin`` names the file."""
    return _CatalogReader(BundleIndex.index(objects, origin)).read(source)


class _CatalogReader:
    """Turns the indexed objects of one bundle into records."""

    def __init__(self, bundle: BundleIndex) -> None:
        self.bundle = bundle
        self.attack_ids = bundle.attack_ids
        self.urls = bundle.urls
        self.tactic_ids: dict[str, str] = {}  # shortname -> TA id
        self.tactic_order: dict[str, int] = {}  # shortname -> position in the matrix
        self.events: dict[str, Event] = {}  # catalog events the analytics name, by id

    def read(self, source: SourceInfo | None) -> AttackCatalog:
        by_type = self.bundle.by_type
        tactics = self._tactics()  # first: techniques look their tactics up by shortname
        catalog = AttackCatalog(
            source=self._source(source),
            tactics=tactics,
            techniques=[self._technique(obj) for obj in by_type[TECHNIQUE]],
            data_sources=[self._data_source(obj) for obj in by_type[DATA_SOURCE]],
            data_components=[self._data_component(obj) for obj in by_type[DATA_COMPONENT]],
            detection_strategies=[
                self._detection_strategy(obj) for obj in by_type[DETECTION_STRATEGY]
            ],
            analytics=[self._analytic(obj) for obj in by_type[ANALYTIC]],
        )
        catalog.events = sorted(self.events.values(), key=lambda event: event.id)
        for records in (
            catalog.techniques,
            catalog.data_sources,
            catalog.data_components,
            catalog.detection_strategies,
            catalog.analytics,
        ):
            records.sort(key=lambda record: record.id)
        catalog.problems = self.bundle.problems
        return catalog

    # --- conversion ------------------------------------------------------------------------

    def _tactics(self) -> list[Tactic]:
        tactics: list[Tactic] = []
        for obj in self.bundle.by_type[TACTIC]:
            stix_id = obj["id"]
            shortname = text(obj, "x_mitre_shortname")
            if shortname is None:
                self.bundle.problem(
                    f"{stix_id} ({self.attack_ids[stix_id]}) has no x_mitre_shortname;"
                    " techniques cannot refer to it",
                    "malformed-object",
                    "warning",
                )
                shortname = ""
            order = self.bundle.matrix_order.get(stix_id, 0)
            # A shortname belongs to the current tactic when a withdrawn one shares it.
            if shortname and (not is_withdrawn(obj) or shortname not in self.tactic_ids):
                self.tactic_ids[shortname] = self.attack_ids[stix_id]
                self.tactic_order[shortname] = order
            tactics.append(
                Tactic(
                    id=self.attack_ids[stix_id],
                    name=self._name(obj),
                    shortname=shortname,
                    description=text(obj, "description"),
                    url=self.urls[stix_id],
                    stix_id=stix_id,
                    order=order,
                    deprecated=flag(obj, "x_mitre_deprecated"),
                    revoked=flag(obj, "revoked"),
                )
            )
        # Tactics in no matrix (order 0) sort after those in one.
        tactics.sort(key=lambda tactic: (tactic.order == 0, tactic.order, tactic.id))
        return tactics

    def _technique(self, obj: StixObject) -> Technique:
        stix_id = obj["id"]
        attack_id = self.attack_ids[stix_id]
        is_subtechnique = "." in attack_id
        parent_id = attack_id.split(".", 1)[0] if is_subtechnique else None
        self._check_parent(obj, attack_id, parent_id)
        revoked_by = self.bundle.revoked_by.get(stix_id)
        return Technique(
            id=attack_id,
            name=self._name(obj),
            description=text(obj, "description"),
            platforms=texts(obj, "x_mitre_platforms"),
            is_subtechnique=is_subtechnique,
            parent_id=parent_id,
            tactics=self._technique_tactics(obj, attack_id),
            deprecated=flag(obj, "x_mitre_deprecated"),
            revoked=flag(obj, "revoked"),
            url=self.urls[stix_id],
            stix_id=stix_id,
            data_sources=texts(obj, "x_mitre_data_sources"),
            detection=text(obj, "x_mitre_detection"),
            revoked_by=self.attack_ids[revoked_by] if revoked_by else None,
        )

    def _check_parent(self, obj: StixObject, attack_id: str, parent_id: str | None) -> None:
        """Cross-check the parent read from the id with the subtechnique-of relationship."""
        stix_id = obj["id"]
        related = self.bundle.parents.get(stix_id)
        related_id = self.attack_ids[related] if related else None
        flagged = obj.get("x_mitre_is_subtechnique")
        if isinstance(flagged, bool) and flagged != (parent_id is not None):
            self.bundle.problem(
                f"{stix_id}: {attack_id} has x_mitre_is_subtechnique {flagged}",
                "subtechnique-mismatch",
                "warning",
            )
        if related_id is not None and related_id != parent_id:
            self.bundle.problem(
                f"{stix_id}: {attack_id} is a subtechnique-of {related_id} by its "
                f"relationship; its id says {parent_id}",
                "subtechnique-mismatch",
                "warning",
            )
        elif related_id is None and parent_id is not None and not is_withdrawn(obj):
            self.bundle.problem(
                f"{stix_id}: {attack_id} has no subtechnique-of relationship",
                "subtechnique-mismatch",
                "info",
            )

    def _technique_tactics(self, obj: StixObject, attack_id: str) -> tuple[str, ...]:
        """Tactic ids of the technique's kill-chain phases, in matrix order."""
        shortnames: list[str] = []
        for phase in entries(obj, "kill_chain_phases"):
            if phase.get("kill_chain_name") not in _KILL_CHAINS:
                continue
            shortname = text(phase, "phase_name")
            if shortname is None or shortname not in self.tactic_ids:
                self.bundle.problem(
                    f"{obj['id']}: {attack_id} names an unknown tactic {shortname!r}",
                    "unknown-tactic",
                    "warning",
                )
            elif shortname not in shortnames:
                shortnames.append(shortname)
        shortnames.sort(key=lambda name: self.tactic_order[name] or len(self.tactic_ids) + 1)
        return tuple(self.tactic_ids[name] for name in shortnames)

    def _data_source(self, obj: StixObject) -> DataSource:
        stix_id = obj["id"]
        return DataSource(
            id=self.attack_ids[stix_id],
            name=self._name(obj),
            description=text(obj, "description"),
            platforms=texts(obj, "x_mitre_platforms"),
            collection_layers=texts(obj, "x_mitre_collection_layers"),
            deprecated=flag(obj, "x_mitre_deprecated"),
            revoked=flag(obj, "revoked"),
            url=self.urls[stix_id],
            stix_id=stix_id,
        )

    def _data_component(self, obj: StixObject) -> DataComponent:
        stix_id = obj["id"]
        # v18 leaves x_mitre_data_source_ref empty: data sources are deprecated there.
        return DataComponent(
            id=self.attack_ids[stix_id],
            name=self._name(obj),
            description=text(obj, "description"),
            data_source_id=self._ref(obj, "x_mitre_data_source_ref", DATA_SOURCE),
            log_sources=tuple(
                dict.fromkeys(
                    self._log_source(obj, entry) for entry in entries(obj, "x_mitre_log_sources")
                )
            ),
            detects=self._detected(stix_id),
            deprecated=flag(obj, "x_mitre_deprecated"),
            revoked=flag(obj, "revoked"),
            url=self.urls[stix_id],
            stix_id=stix_id,
        )

    def _detection_strategy(self, obj: StixObject) -> DetectionStrategy:
        stix_id = obj["id"]
        analytics = (
            self.bundle.ref_id(obj, ref, ANALYTIC) for ref in texts(obj, "x_mitre_analytic_refs")
        )
        return DetectionStrategy(
            id=self.attack_ids[stix_id],
            name=self._name(obj),
            description=text(obj, "description"),
            techniques=self._detected(stix_id),
            analytics=tuple(dict.fromkeys(ref for ref in analytics if ref is not None)),
            deprecated=flag(obj, "x_mitre_deprecated"),
            revoked=flag(obj, "revoked"),
            url=self.urls[stix_id],
            stix_id=stix_id,
        )

    def _analytic(self, obj: StixObject) -> Analytic:
        stix_id = obj["id"]
        withdrawn = is_withdrawn(obj)
        log_sources: dict[LogSourceRef, None] = {}
        for entry in entries(obj, "x_mitre_log_source_references"):
            component = text(entry, "x_mitre_data_component_ref")
            component_id = self.bundle.ref_id(obj, component, DATA_COMPONENT) if component else None
            reference = self._log_source(obj, entry)
            # Revoked and deprecated analytics keep their log sources but name no events.
            events = []
            for event in [] if withdrawn else log_source_events(reference.name, reference.channel):
                if misfiled(event):
                    self.bundle.problem(
                        f"{stix_id} ({self.attack_ids[stix_id]}) reads {reference.name} "
                        f"{reference.channel!r}: event {event.event_id} is not a Security event, "
                        "so it names no catalog event",
                        "misfiled-event",
                        "warning",
                    )
                    continue
                events.append(event)
                self.events.setdefault(event.id, event)
            reference = dataclasses.replace(
                reference,
                data_component_id=component_id,
                events=tuple(event.id for event in events),
            )
            log_sources[reference] = None
        components = (ref.data_component_id for ref in log_sources)
        return Analytic(
            id=self.attack_ids[stix_id],
            name=self._name(obj),
            description=text(obj, "description"),
            platforms=texts(obj, "x_mitre_platforms"),
            data_components=tuple(dict.fromkeys(ref for ref in components if ref is not None)),
            log_sources=tuple(log_sources),
            deprecated=flag(obj, "x_mitre_deprecated"),
            revoked=flag(obj, "revoked"),
            url=self.urls[stix_id],
            stix_id=stix_id,
        )

    # --- helpers ---------------------------------------------------------------------------

    def _name(self, obj: StixObject) -> str:
        name = text(obj, "name")
        if name is None:
            attack_id = self.attack_ids[obj["id"]]
            self.bundle.problem(
                f"{obj['id']}: {attack_id} has no name; its id stands in",
                "malformed-object",
                "warning",
            )
            return attack_id
        return name

    def _detected(self, stix_id: str) -> tuple[str, ...]:
        """ATT&CK ids of the techniques an object ``detects``, sorted."""
        return tuple(sorted({self.attack_ids[ref] for ref in self.bundle.detects.get(stix_id, ())}))

    def _log_source(self, obj: StixObject, entry: StixObject) -> LogSourceRef:
        name = text(entry, "name")
        if name is None:
            self.bundle.problem(
                f"{obj['id']}: a log source entry has no name", "malformed-object", "warning"
            )
        return LogSourceRef(name=name or "", channel=text(entry, "channel") or "")

    def _ref(self, obj: StixObject, key: str, stix_type: str) -> str | None:
        """ATT&CK id of the object a ``*_ref`` property points to; None when empty."""
        ref = text(obj, key)
        return self.bundle.ref_id(obj, ref, stix_type) if ref else None

    def _source(self, source: SourceInfo | None) -> SourceInfo:
        """The Source of the catalog, its version from the provenance, else from the bundle.

        mitre/cti's bundles carry no x-mitre-collection object, so their version comes from
        where the bundle was taken: the sync record or the corpus MANIFEST.md ("ATT&CK v18"),
        the same SourceInfo the Source node and the API's catalog.attackVersion read. The
        version is unknown only when neither states one.
        """
        stated = self.bundle.version
        if source is None:
            source = SourceInfo(name="attack", version=stated, root=self.bundle.origin)
        elif source.version is None:
            source = dataclasses.replace(source, version=stated)
        elif stated is not None and stated != source.version:
            self.bundle.problem(
                f"the bundle's x-mitre-collection says ATT&CK {stated}, its provenance "
                f"{source.version}; the provenance's is kept",
                "version-mismatch",
                "warning",
            )
        if source.version is None:
            self.bundle.problem(
                "the bundle has no x-mitre-collection object with x_mitre_version, and no "
                "provenance (sync record or corpus MANIFEST.md) names a version: the ATT&CK "
                "version is unknown",
                "no-version",
                "info",
            )
        return source
