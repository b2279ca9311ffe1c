// One indicator across the catalog: the rules of each vendor checking it, the techniques and
// events of those rules, and what else they look for.

import { gql } from "./api.js";
import {
  code,
  fieldLink,
  h,
  indicatorRoute,
  plural,
  reachRoute,
  route,
  section,
  table,
  VENDOR_LABELS,
  vendorChips,
} from "./dom.js";

const INDICATOR = `
query IndicatorPage($field: String!, $operator: String!, $value: String!, $negated: Boolean!) {
  indicator(field: $field, operator: $operator, value: $value, negated: $negated) {
    field { name } operator value negated eventSelector
    corpusReach oppositeReach techniqueCount untaggedRuleCount eventCount
    checkedWithCount(includeEventSelectors: false)
    byVendor { vendor ruleCount }
    techniques(first: 20) { ruleCount technique { id name } }
    events(first: 15) { ruleCount event { id name } }
    checkedWith(first: 30, includeEventSelectors: false) {
      field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount }
    }
  }
}`;

/** Renders #/indicator?field=&operator=&value=&negated=true. */
export async function indicatorView(_id, params, signal) {
  const asked = {
    field: params.get("field") || "",
    operator: params.get("operator") || "",
    value: params.get("value"),
    negated: ["true", "1"].includes(params.get("negated")),
  };
  if (!asked.field || !asked.operator || asked.value === null) {
    return unknown("An indicator page needs a field, an operator and a value.");
  }
  const { indicator } = await gql(INDICATOR, asked, signal);
  if (!indicator) {
    return unknown(`No rule checks ${asked.field} ${asked.operator} “${asked.value}”.`);
  }
  const one = indicator.corpusReach === 1;
  const verb = indicator.negated ? (one ? "excludes" : "exclude") : one ? "looks for" : "look for";
  // The rules list behind a count: this check, narrowed by vendor, technique or event.
  const rulesOf = (narrow) =>
    route("rules", null, {
      field: indicator.field.name,
      operator: indicator.operator,
      value: indicator.value,
      negated: String(indicator.negated),
      ...narrow,
    });
  return h(
    "div",
    { class: "indicator-page", "data-title": `${indicator.field.name} ${indicator.operator} ${indicator.value}` },
    h(
      "h1",
      { id: "indicator-title" },
      fieldLink(indicator.field.name),
      " ",
      h("span", { class: "op" }, indicator.negated ? `not ${indicator.operator}` : indicator.operator),
      " ",
      code(indicator.value),
      indicator.eventSelector
        ? h("span", { class: "chip selector", title: "an event selector: says which events the rules read" }, "selector")
        : null,
    ),
    h(
      "p",
      { class: "summary", id: "indicator-reach" },
      h("a", { href: reachRoute(indicator, indicator.negated), id: "indicator-rules" }, plural(indicator.corpusReach, "current rule")),
      ` ${verb} it`,
      indicator.corpusReach
        ? [
            ": ",
            indicator.byVendor.map((count, i) => [
              i ? ", " : "",
              h(
                "a",
                { href: rulesOf({ vendor: count.vendor }), class: `vendor-count vendor-text-${count.vendor.toLowerCase()}`, "data-vendor": count.vendor },
                `${VENDOR_LABELS[count.vendor]} ${count.ruleCount.toLocaleString("en")}`,
              ),
            ]),
          ]
        : "",
      ". ",
      opposite(indicator),
    ),
    h(
      "p",
      { class: "muted", id: "indicator-spread" },
      `Tagged with ${plural(indicator.techniqueCount, "current technique")}`,
      indicator.untaggedRuleCount
        ? `; ${plural(indicator.untaggedRuleCount, "rule")} tag${indicator.untaggedRuleCount === 1 ? "s" : ""} none`
        : "",
      ". ",
      // The same text under other fields and operators: Image, OriginalFileName, command lines.
      [...indicator.value].length >= 2
        ? h("a", { href: route("indicators", null, { search: indicator.value }), id: "indicator-values" }, `Every value containing “${indicator.value}”`)
        : null,
    ),
    h(
      "div",
      { class: "grid" },
      techniquesCard(indicator, rulesOf),
      eventsCard(indicator, rulesOf),
    ),
    checkedWithCard(indicator),
  );
}

/** The same triple with the other polarity, linked when some rule checks it that way. */
function opposite(indicator) {
  const count = indicator.oppositeReach;
  const [one, many] = indicator.negated ? ["looks for it", "look for it"] : ["excludes it", "exclude it"];
  if (!count) return `No current rule ${one}.`;
  return [
    h("a", { href: indicatorRoute(indicator, !indicator.negated), id: "indicator-opposite" }, plural(count, "current rule")),
    ` ${count === 1 ? one : many}.`,
  ];
}

function techniquesCard(indicator, rulesOf) {
  const rows = indicator.techniques.map((use) => [
    h("a", { href: route("technique", use.technique.id) }, use.technique.id),
    use.technique.name,
    { cell: h("a", { href: rulesOf({ technique: use.technique.id }) }, String(use.ruleCount)), class: "num" },
  ]);
  const shown = indicator.techniques.length;
  return section(
    "indicator-techniques",
    `Techniques (${indicator.techniqueCount.toLocaleString("en")})`,
    "Current techniques of the rules that check it, most rules first." +
      (shown < indicator.techniqueCount ? ` The first ${shown} are shown.` : ""),
    rows.length
      ? table("data indicator-techniques", ["technique", "name", "rules"], rows, (i) => ({ "data-technique": indicator.techniques[i].technique.id }))
      : h("p", { class: "muted" }, "No rule checking it is tagged with a current technique."),
  );
}

function eventsCard(indicator, rulesOf) {
  const rows = indicator.events.map((use) => [
    h("a", { href: route("event", use.event.id) }, use.event.id),
    use.event.name,
    { cell: h("a", { href: rulesOf({ event: use.event.id }) }, String(use.ruleCount)), class: "num" },
  ]);
  return section(
    "indicator-events",
    `Events (${indicator.eventCount.toLocaleString("en")})`,
    "Catalog events the rules that check it observe, most rules first." +
      (indicator.events.length < indicator.eventCount ? ` The first ${indicator.events.length} of ${indicator.eventCount} are shown.` : ""),
    rows.length
      ? table("data indicator-events", ["event", "name", "rules"], rows, (i) => ({ "data-event": indicator.events[i].event.id }))
      : h("p", { class: "muted" }, "The rules that check it name no catalog event."),
  );
}

function checkedWithCard(indicator) {
  const list = indicator.checkedWith;
  const rows = list.map((usage) => [
    fieldLink(usage.field.name),
    h("span", { class: "op" }, usage.operator),
    { cell: h("a", { href: indicatorRoute(usage, false) }, code(usage.value)), class: "value" },
    { cell: String(usage.ruleCount), class: "num rules" },
    { cell: vendorChips(usage.byVendor), class: "chips vendors" },
    { cell: h("a", { href: reachRoute(usage, false) }, String(usage.corpusReach)), class: "num reach" },
  ]);
  return section(
    "indicator-checked-with",
    `Checked with it (${indicator.checkedWithCount.toLocaleString("en")})`,
    `What the rules that ${indicator.negated ? "exclude" : "look for"} it also look for (event ` +
      "selectors aside): each indicator with how many of them check it, per vendor, and its own corpus reach." +
      (list.length < indicator.checkedWithCount ? ` The ${list.length} checked by most are shown.` : ""),
    rows.length
      ? table("data checked-with", ["field", "op", "value", "rules", "vendors", "corpus reach"], rows, (i) => ({
          "data-key": `${list[i].field.name}|${list[i].operator}|${list[i].value}`,
        }))
      : h("p", { class: "muted" }, "The rules check nothing else."),
  );
}

function unknown(message) {
  return h(
    "div",
    { class: "indicator-page", "data-title": "Unknown indicator" },
    h("h1", {}, "Unknown indicator"),
    h("p", { class: "error-text", id: "indicator-unknown" }, message),
  );
}
