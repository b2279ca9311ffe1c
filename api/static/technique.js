// The technique page: coverage, authoring guide and rules of one technique, from one request.

import { ApiError, gql } from "./api.js";
import {
  attackMarkdown,
  code,
  csvLink,
  external,
  fieldLink,
  h,
  indicatorRoute,
  plural,
  reachRoute,
  replace,
  route,
  section,
  severityBadge,
  table,
  VENDOR_LABELS,
  vendorChips,
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
      fields(first: 20) { field { name } ruleCount byVendor { vendor ruleCount } eventSelector operators { operator count } sampleValues(first: 5) }
      indicators(first: 40, includeEventSelectors: false) { field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount } }
      exclusions(first: 50, includeEventSelectors: false) { field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount } }
      eventSelectors(first: 20) { field { name } operator value negated ruleCount corpusReach byVendor { vendor ruleCount } }
      vendorAgreement(includeEventSelectors: false) { vendors indicatorCount }
    }
    detectionStrategies { id name url analytics { id platforms url logSources } }
    attackEvents(includeSubtechniques: $sub) { analytics ruleCount event { id name } }
  }
  similarTechniques(id: $id, first: 6, includeEventSelectors: false) { jaccard sharedIndicators technique { id name } }
}`;

/** The API's cap on `first`: a longer list is asked a page of this many rows at a time. */
const MAX_FIRST = 200;

const INDICATOR = "field { name } operator value negated ruleCount corpusReach byVendor { vendor ruleCount }";

/** One list of the guide, asked again with a larger `first` by its "Show all" button. */
const LISTS = {
  fields: `fields(first: $first, offset: $offset) { field { name } ruleCount byVendor { vendor ruleCount } eventSelector operators { operator count } sampleValues(first: 5) }`,
  indicators: `indicators(first: $first, offset: $offset, includeEventSelectors: false) { ${INDICATOR} }`,
  exclusions: `exclusions(first: $first, offset: $offset, includeEventSelectors: false) { ${INDICATOR} }`,
  selectors: `eventSelectors(first: $first, offset: $offset) { ${INDICATOR} }`,
};

async function fetchList(id, technique, sub, first, offset) {
  const query = `query GuideList($id: String!, $sub: Boolean!, $first: Int!, $offset: Int!) {
  technique(id: $id) { authoringGuide(includeSubtechniques: $sub) { list: ${LISTS[id]} } }
}`;
  const data = await gql(query, { id: technique.id, sub, first, offset });
  return data.technique.authoringGuide.list;
}

/** Renders #/technique/ID (?sub=1 rolls sub-techniques' rules up). */
export async function techniqueView(id, params, signal) {
  const sub = params.get("sub") === "1";
  if (!id) return noTechnique();
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
    attackCard(technique, sub),
    fieldsCard(technique, guide, sub),
    indicatorsCard(
      { technique, sub },
      "indicators",
      `Top indicator values (${indicatorTotal.toLocaleString("en")} distinct)`,
      [
        "(field, operator, value) ranked by how many rules under the technique check it; corpus " +
          "reach is how many rules in the whole catalog, any technique, check the same triple. " +
          "Event selectors are listed apart, below. ",
        agreement(guide.vendorAgreement),
      ],
      guide.indicators,
      indicatorTotal,
    ),
    indicatorsCard(
      { technique, sub },
      "exclusions",
      `What the rules exclude (${exclusionTotal.toLocaleString("en")} distinct)`,
      "Indicators checked under negation: events matching them are filtered out.",
      guide.exclusions,
      exclusionTotal,
    ),
    indicatorsCard(
      { technique, sub },
      "selectors",
      `Event selectors (${selectorTotal.toLocaleString("en")} distinct)`,
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

/** #/technique with no id: say what the page needs rather than ask the API. */
function noTechnique() {
  return h(
    "div",
    { class: "empty-state", id: "no-technique" },
    h("h1", {}, "No technique chosen"),
    h("p", {}, "This page shows one technique: search for one above, or open the ", h("a", { href: route("matrix") }, "coverage matrix"), "."),
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
    // What replaced a revoked technique is a note under the title, not part of it.
    technique.revokedBy
      ? h(
          "p",
          { class: "revoked-by" },
          "Replaced by ",
          h("a", { href: route("technique", technique.revokedBy.id) }, technique.revokedBy.id),
          ` ${technique.revokedBy.name}.`,
        )
      : null,
    h(
      "p",
      { class: "summary" },
      h("strong", { id: "rule-total" }, plural(coverage.ruleCount, "rule")),
      ` tagged with this technique${sub ? " or its sub-techniques" : ""}: `,
      coverage.byVendor.map((group, i) => [
        i ? ", " : "",
        h("span", { class: `vendor-count vendor-text-${group.vendor.toLowerCase()}` }, `${VENDOR_LABELS[group.vendor]} ${group.ruleCount.toLocaleString("en")}`),
      ]),
      " · ",
      `platforms: ${technique.platforms.join(", ") || "none"} · `,
      technique.url ? external(technique.url, "ATT&CK page") : null,
      " · ",
      h("a", { href: route("overlap", null, { ids: technique.id }) }, "compare with…"),
    ),
    technique.description ? h("p", { class: "description" }, attackMarkdown(technique.description, 420)) : null,
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
  ["attack", "ATT&CK strategy"],
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
    `Events covered (${coverage.eventCount.toLocaleString("en")})`,
    `${plural(coverage.eventCount, "catalog event")} ${coverage.eventCount === 1 ? "is" : "are"} ` +
      "needed by at least one rule tagged with this technique.",
    rows.length
      ? table("data events", ["event", "name", "rules"], rows)
      : h("p", { class: "muted" }, "No rule names an event."),
  );
}

/** ATT&CK's detection strategies for the technique: the events they read, beside its rules. */
function attackCard(technique, sub) {
  const events = technique.attackEvents;
  const missed = events.filter((usage) => usage.ruleCount === 0).length;
  const rows = events.map((usage) => [
    h("a", { href: route("event", usage.event.id), class: "event-id" }, usage.event.id),
    usage.event.name,
    usage.analytics.join(", "),
    {
      cell: usage.ruleCount
        ? h("a", { href: techniqueRules(technique, sub, { event: usage.event.id }) }, String(usage.ruleCount))
        : "0",
      class: usage.ruleCount ? "num hit" : "num miss",
    },
  ]);
  const strategies = technique.detectionStrategies.map((strategy) =>
    h(
      "li",
      { "data-strategy": strategy.id },
      external(strategy.url, strategy.id),
      ` ${strategy.name}`,
      h(
        "ul",
        {},
        strategy.analytics.map((analytic) =>
          h(
            "li",
            { "data-analytic": analytic.id },
            external(analytic.url, analytic.id),
            ` (${analytic.platforms.join(", ")}): `,
            analytic.logSources.map((source, i) => [i ? "; " : "", code(source)]),
          ),
        ),
      ),
    ),
  );
  return section(
    "attack",
    `ATT&CK detection strategy (${plural(events.length, "event")} named)`,
    "The catalog events ATT&CK's analytics for this technique read" +
      (sub ? " (its sub-techniques' too)" : "") +
      ", and how many of its rules observe each: 0 is an event ATT&CK says to watch that no " +
      "rule here reads. Log sources the catalog has no event for (macOS unified log, ESXi…) " +
      "name none." +
      (events.length ? ` ${missed} of ${events.length} read by no rule.` : ""),
    rows.length
      ? table("data attack-events", ["event", "name", "analytics", "rules"], rows)
      : h("p", { class: "muted" }, "ATT&CK's analytics for this technique name no catalog event."),
    strategies.length
      ? h("ul", { class: "strategies" }, strategies)
      : h("p", { class: "muted" }, "ATT&CK names no detection strategy for this technique."),
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
  const render = (fields) =>
    fields.length
      ? table("data fields", ["field", "rules", "vendors", "operators", "sample values"], fieldRows(technique, fields, sub))
      : h("p", { class: "muted" }, "The rules filter on no field.");
  return section(
    "fields",
    `Fields filtered most (${guide.distinctFieldCount.toLocaleString("en")} distinct)`,
    "For each field: how many rules filter on it, the operators they use (rules per operator) " +
      "and values they look for.",
    ...expandable("fields", { technique, sub }, guide.fields, guide.distinctFieldCount, "field", render),
  );
}

function fieldRows(technique, fields, sub) {
  return fields.map((usage) => [
    [
      h("a", { href: techniqueRules(technique, sub, { field: usage.field.name }), class: "field" }, usage.field.name),
      usage.eventSelector ? h("span", { class: "chip selector", title: "an event selector: says which events the rules read" }, "selector") : null,
    ],
    { cell: String(usage.ruleCount), class: "num" },
    { cell: vendorChips(usage.byVendor), class: "chips vendors" },
    { cell: operatorChips(usage.operators), class: "chips operators" },
    { cell: usage.sampleValues.map((value) => code(value)), class: "samples" },
  ]);
}

/** How many of the indicators all three vendors, two, or one alone check. */
function agreement(sets) {
  const label = (set) => set.vendors.map((v) => VENDOR_LABELS[v]).join(" + ");
  const count = (n) => n.toLocaleString("en");
  const bySize = (size) => sets.filter((set) => set.vendors.length === size);
  const sum = (list) => list.reduce((total, set) => total + set.indicatorCount, 0);
  const detail = (list) => list.map((set) => `${label(set)} ${count(set.indicatorCount)}`).join(", ");
  const [one, two, three] = [bySize(1), bySize(2), bySize(3)];
  if (!sum(sets)) return null;
  return h(
    "span",
    { id: "vendor-agreement" },
    `Checked by all three vendors: ${count(sum(three))}; by two: ${count(sum(two))} (${detail(two)}); ` +
      `by one alone: ${count(sum(one))} (${detail(one)}).`,
  );
}

function indicatorsCard(page, id, title, note, indicators, total) {
  return section(id, title, note, ...expandable(id, page, indicators, total, "indicator", (list) => indicatorTable(page, id, list)));
}

function indicatorTable(page, id, indicators) {
  const rows = indicators.map((usage) => {
    const excluded = id === "exclusions" || Boolean(usage.negated);
    // The technique's rules behind a row's count, of one vendor when asked.
    const check = { field: usage.field.name, operator: usage.operator, value: usage.value, negated: String(excluded) };
    const rulesOf = (vendor) => techniqueRules(page.technique, page.sub, { ...check, vendor });
    return [
      fieldLink(usage.field.name),
      h("span", { class: "op" }, usage.negated ? `not ${usage.operator}` : usage.operator),
      {
        cell: h("a", { href: indicatorRoute(usage, excluded), title: "this indicator across the catalog" }, code(usage.value)),
        class: "value",
      },
      { cell: h("a", { href: rulesOf(null), title: "this technique's rules that check it" }, String(usage.ruleCount)), class: "num rules" },
      { cell: vendorChips(usage.byVendor, rulesOf), class: "chips vendors" },
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
  return rows.length
    ? table(`data ${id}`, ["field", "op", "value", "rules", "vendors", "corpus reach"], rows, (i) => ({
        "data-key": `${indicators[i].field.name}|${indicators[i].operator}|${indicators[i].value}`,
      }))
    : h("p", { class: "muted" }, EMPTY_INDICATORS[id]);
}

const EMPTY_INDICATORS = {
  indicators: "No indicator.",
  exclusions: "The rules exclude nothing.",
  selectors: "The rules select their events by no field.",
};

/**
 * A list drawn by `render`, and below it "Showing N of M" with a button when the page asked
 * fewer rows than there are: "Show all" asks a list of up to the API's cap again whole; a
 * longer one pages on, 200 rows more a click (the guide's lists take an offset), appended in
 * the API's order.
 */
function expandable(id, page, rows, total, word, render) {
  let body = render(rows);
  let shown = rows;
  const footer = h("p", { class: "muted more", "data-list": id });
  const csv = () => (rows.length ? [" ", csvLink(() => body.querySelector("table") || (body.matches("table") ? body : null), `${page.technique.id}-${id}.csv`)] : null);
  const draw = () => {
    const left = total - shown.length;
    const label = total <= MAX_FIRST ? `Show all ${total.toLocaleString("en")}` : `Show ${Math.min(left, MAX_FIRST).toLocaleString("en")} more`;
    const button = left > 0 ? h("button", { type: "button", class: "show-all", onclick: () => showMore(button) }, label) : null;
    replace(footer, left > 0 ? `Showing ${shown.length.toLocaleString("en")} of ${plural(total, word)}. ` : "", button, csv());
  };
  async function showMore(button) {
    button.disabled = true;
    try {
      shown =
        total <= MAX_FIRST
          ? await fetchList(id, page.technique, page.sub, total, 0)
          : shown.concat(await fetchList(id, page.technique, page.sub, Math.min(total - shown.length, MAX_FIRST), shown.length));
      const next = render(shown);
      body.replaceWith(next);
      body = next;
      draw();
    } catch (error) {
      button.disabled = false;
      footer.append(h("span", { class: "error-text" }, ` ${error.message}`));
    }
  }
  draw();
  return [body, footer];
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
    `Rules (${coverage.ruleCount.toLocaleString("en")})`,
    "Every current rule tagged with the technique, by vendor; each links to its details and to " +
      "its file upstream at the loaded commit.",
    h("div", { class: "vendor-columns" }, columns),
  );
}
