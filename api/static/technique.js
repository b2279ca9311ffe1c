// The technique page: coverage, authoring guide and rules of one technique, from one request.

import { ApiError, gql } from "./api.js";
import {
  attackText,
  code,
  external,
  h,
  plural,
  reachRoute,
  route,
  section,
  severityBadge,
  table,
  VENDOR_LABELS,
} from "./dom.js";

const PAGE = `
query TechniquePage($id: String!, $sub: Boolean!) {
  technique(id: $id) {
    id name description url platforms isSubtechnique deprecated revoked revokedBy { id name }
    tactics { id name }
    parent { id name }
    subtechniques { id name }
    coverage(includeSubtechniques: $sub) {
      ruleCount eventCount
      eventUsage { ruleCount event { id name } }
      byVendor { vendor ruleCount rules { uid title severity status sourcePath sourceUrl } }
    }
    authoringGuide(includeSubtechniques: $sub) {
      distinctFieldCount distinctIndicatorCount distinctExclusionCount
      distinctEventSelectorCount distinctExcludedEventSelectorCount
      fields(first: 20) { field { name } ruleCount eventSelector operators { operator count } sampleValues(first: 5) }
      indicators(first: 40, includeEventSelectors: false) { field { name } operator value ruleCount corpusReach }
      exclusions(first: 50, includeEventSelectors: false) { field { name } operator value ruleCount corpusReach }
      eventSelectors(first: 20) { field { name } operator value negated ruleCount corpusReach }
    }
  }
  similarTechniques(id: $id, first: 6, includeEventSelectors: false) { jaccard sharedIndicators technique { id name } }
}`;

/** Renders #/technique/ID (?sub=1 rolls sub-techniques' rules up). */
export async function techniqueView(id, params, signal) {
  const sub = params.get("sub") === "1";
  let data;
  try {
    data = await gql(PAGE, { id, sub }, signal);
  } catch (error) {
    // similarTechniques rejects an unknown id where technique(id) would answer null.
    if (error instanceof ApiError && error.code === "UNKNOWN_TECHNIQUE") return notFound(id);
    throw error;
  }
  const technique = data.technique;
  if (!technique) return notFound(id);
  const coverage = technique.coverage;
  const guide = technique.authoringGuide;
  // The counts of what each card lists: event selectors have their own card.
  const indicatorTotal = guide.distinctIndicatorCount - guide.distinctEventSelectorCount;
  const exclusionTotal = guide.distinctExclusionCount - guide.distinctExcludedEventSelectorCount;
  const selectorTotal = guide.distinctEventSelectorCount + guide.distinctExcludedEventSelectorCount;
  return h(
    "div",
    { class: "technique-page", "data-title": `${technique.id} ${technique.name}` },
    header(technique, coverage, sub),
    jumpBar(),
    h(
      "div",
      { class: "grid" },
      eventsCard(technique, coverage, sub),
      similarCard(technique, data.similarTechniques),
    ),
    fieldsCard(technique, guide, sub),
    indicatorsCard(
      "indicators",
      `Top indicator values (${indicatorTotal} distinct)`,
      "(field, operator, value) ranked by how many rules under the technique check it; corpus " +
        "reach is how many rules in the whole catalog, any technique, check the same triple. " +
        "Event selectors are listed apart, below.",
      guide.indicators,
      indicatorTotal,
    ),
    indicatorsCard(
      "exclusions",
      `What the rules exclude (${exclusionTotal} distinct)`,
      "Indicators checked under negation: events matching them are filtered out.",
      guide.exclusions,
      exclusionTotal,
    ),
    indicatorsCard(
      "selectors",
      `Event selectors (${selectorTotal} distinct)`,
      "Checks that only say which events the rules read (event.code, event.category, " +
        "host.os.type, data_stream.dataset, an event.action such as exec…): most rules of a " +
        "vendor share them, whatever the " +
        "technique. “not” marks an excluded one.",
      guide.eventSelectors,
      selectorTotal,
    ),
    rulesCard(coverage),
  );
}

function notFound(id) {
  return h(
    "div",
    { class: "empty-state" },
    h("h1", {}, `No technique ${id}`),
    h("p", {}, `${id} is not in the loaded ATT&CK catalog. Search for a technique above.`),
  );
}

function header(technique, coverage, sub) {
  const flags = [];
  if (technique.deprecated) flags.push(h("span", { class: "flag" }, "deprecated"));
  if (technique.revoked) flags.push(h("span", { class: "flag" }, "revoked"));
  if (technique.revokedBy) {
    flags.push(
      h(
        "span",
        { class: "revoked-by" },
        "replaced by ",
        h("a", { href: route("technique", technique.revokedBy.id) }, technique.revokedBy.id),
        ` ${technique.revokedBy.name}`,
      ),
    );
  }
  const canRollUp = technique.subtechniques.length > 0;
  return h(
    "header",
    { class: "page-head" },
    h(
      "p",
      { class: "crumbs" },
      technique.tactics.map((tactic, i) => [i ? " · " : "", tactic.name]),
      technique.parent
        ? [" · sub-technique of ", h("a", { href: route("technique", technique.parent.id) },
            `${technique.parent.id} ${technique.parent.name}`)]
        : null,
    ),
    h("h1", {}, h("span", { class: "tid" }, technique.id), " ", technique.name, ...flags),
    h(
      "p",
      { class: "summary" },
      h("strong", { id: "rule-total" }, plural(coverage.ruleCount, "rule")),
      ` tagged with this technique${sub ? " or its sub-techniques" : ""}: `,
      coverage.byVendor.map((group, i) => [
        i ? ", " : "",
        h("span", { class: `vendor-count vendor-text-${group.vendor.toLowerCase()}` }, `${VENDOR_LABELS[group.vendor]} ${group.ruleCount}`),
      ]),
      " · ",
      `platforms: ${technique.platforms.join(", ") || "none"} · `,
      technique.url ? external(technique.url, "ATT&CK page") : null,
      " · ",
      h("a", { href: route("overlap", null, { ids: technique.id }) }, "compare with…"),
    ),
    technique.description ? h("p", { class: "description" }, attackText(technique.description, 420)) : null,
    canRollUp
      ? h(
          "p",
          { class: "rollup" },
          h(
            "a",
            { href: route("technique", technique.id, sub ? {} : { sub: 1 }) },
            sub ? "Show only rules tagged with this technique" : "Include the rules of its sub-techniques",
          ),
          " · sub-techniques: ",
          technique.subtechniques.map((child, i) => [
            i ? ", " : "",
            h("a", { href: route("technique", child.id), title: child.name }, child.id),
          ]),
        )
      : null,
  );
}

const SECTIONS = [
  ["events", "events"],
  ["fields", "fields"],
  ["indicators", "indicators"],
  ["exclusions", "exclusions"],
  ["selectors", "event selectors"],
  ["rules", "rules by vendor"],
];

/** Links to the page's sections; they scroll instead of changing the (routing) hash. */
function jumpBar() {
  return h(
    "nav",
    { class: "jump" },
    "Jump to: ",
    SECTIONS.map(([id, label], i) => [
      i ? " · " : "",
      h(
        "a",
        {
          href: "#",
          onclick: (event) => {
            event.preventDefault();
            document.getElementById(id).scrollIntoView({ behavior: "smooth", block: "start" });
          },
        },
        label,
      ),
    ]),
  );
}

/** The rules behind a count of this page: the technique's (rolled up as the page is). */
function techniqueRules(technique, sub, filters) {
  return route("rules", null, { technique: technique.id, sub: sub ? 1 : "", ...filters });
}

function eventsCard(technique, coverage, sub) {
  const rows = coverage.eventUsage.map((usage) => [
    h("a", { href: techniqueRules(technique, sub, { event: usage.event.id }), class: "event-id" }, usage.event.id),
    usage.event.name,
    { cell: String(usage.ruleCount), class: "num" },
  ]);
  return section(
    "events",
    `Events covered (${coverage.eventCount})`,
    `${plural(coverage.eventCount, "catalog event")} ${coverage.eventCount === 1 ? "is" : "are"} ` +
      "needed by at least one rule tagged with this technique.",
    rows.length
      ? table("data events", ["event", "name", "rules"], rows)
      : h("p", { class: "muted" }, "No rule names an event."),
  );
}

function similarCard(technique, similar) {
  const items = similar.map((entry) =>
    h(
      "li",
      {},
      h("a", { href: route("technique", entry.technique.id) }, entry.technique.id),
      ` ${entry.technique.name} `,
      h("span", { class: "muted" }, `${(entry.jaccard * 100).toFixed(1)}% · ${plural(entry.sharedIndicators, "shared indicator")} · `),
      h("a", { href: route("overlap", null, { ids: `${technique.id},${entry.technique.id}` }) }, "overlap"),
    ),
  );
  return section(
    "similar",
    "Similar techniques",
    "By Jaccard similarity of the indicators their rules check, event selectors left out.",
    items.length ? h("ol", { class: "similar" }, items) : h("p", { class: "muted" }, "No technique shares an indicator."),
  );
}

function operatorChips(operators) {
  return operators.map((op) => h("span", { class: "chip" }, `${op.operator} ${op.count}`));
}

function fieldsCard(technique, guide, sub) {
  const rows = guide.fields.map((usage) => [
    [
      h("a", { href: techniqueRules(technique, sub, { field: usage.field.name }), class: "field" }, usage.field.name),
      usage.eventSelector ? h("span", { class: "chip selector", title: "an event selector: says which events the rules read" }, "selector") : null,
    ],
    { cell: String(usage.ruleCount), class: "num" },
    { cell: operatorChips(usage.operators), class: "chips" },
    { cell: usage.sampleValues.map((value) => code(value)), class: "samples" },
  ]);
  return section(
    "fields",
    `Fields filtered most (${guide.distinctFieldCount} distinct)`,
    "For each field: how many rules filter on it, the operators they use (rules per operator) " +
      "and values they look for.",
    rows.length
      ? table("data fields", ["field", "rules", "operators", "sample values"], rows)
      : h("p", { class: "muted" }, "The rules filter on no field."),
    more(guide.fields.length, guide.distinctFieldCount, "field"),
  );
}

function indicatorsCard(id, title, note, indicators, total) {
  const rows = indicators.map((usage) => {
    const excluded = id === "exclusions" || Boolean(usage.negated);
    return [
      h("span", { class: "field" }, usage.field.name),
      h("span", { class: "op" }, usage.negated ? `not ${usage.operator}` : usage.operator),
      { cell: code(usage.value), class: "value" },
      { cell: String(usage.ruleCount), class: "num rules" },
      {
        cell: h(
          "a",
          {
            href: reachRoute(usage, excluded),
            title:
              excluded
                ? "current rules anywhere in the catalog that exclude this value"
                : "current rules anywhere in the catalog that look for this value",
          },
          String(usage.corpusReach),
        ),
        class: "num reach",
      },
    ];
  });
  return section(
    id,
    title,
    note,
    rows.length
      ? table(`data ${id}`, ["field", "op", "value", "rules", "corpus reach"], rows, (i) => ({
          "data-key": `${indicators[i].field.name}|${indicators[i].operator}|${indicators[i].value}`,
        }))
      : h("p", { class: "muted" }, EMPTY_INDICATORS[id]),
    more(indicators.length, total, "indicator"),
  );
}

const EMPTY_INDICATORS = {
  indicators: "No indicator.",
  exclusions: "The rules exclude nothing.",
  selectors: "The rules select their events by no field.",
};

function more(shown, total, word) {
  return shown < total ? h("p", { class: "muted" }, `Showing ${shown} of ${plural(total, word)}.`) : null;
}

/** The rule's file name, linked to the file upstream; the whole path shows on hover. */
function sourceLink(rule) {
  const name = h("span", { class: "path", title: rule.sourcePath }, rule.sourcePath.split("/").pop());
  return rule.sourceUrl ? external(rule.sourceUrl, name) : name;
}

function rulesCard(coverage) {
  const columns = coverage.byVendor.map((group) =>
    h(
      "div",
      { class: "vendor-rules", "data-vendor": group.vendor },
      h(
        "h3",
        {},
        h("span", { class: `vendor vendor-${group.vendor.toLowerCase()}` }, VENDOR_LABELS[group.vendor] || group.vendor),
        " ",
        h("span", { class: "count" }, String(group.ruleCount)),
      ),
      group.rules.length
        ? h(
            "ul",
            { class: "rules" },
            group.rules.map((rule) =>
              h(
                "li",
                { "data-uid": rule.uid },
                h("a", { href: route("rule", rule.uid), class: "rule-title" }, rule.title),
                " ",
                severityBadge(rule.severity),
                h("br", {}),
                sourceLink(rule),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No rule."),
    ),
  );
  return section(
    "rules",
    `Rules (${coverage.ruleCount})`,
    "Every current rule tagged with the technique, by vendor; each links to its details and to " +
      "its file upstream at the loaded commit.",
    h("div", { class: "vendor-columns" }, columns),
  );
}
