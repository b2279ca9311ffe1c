// Searching the values rules check: every indicator whose value contains a text, in any field.

import { gql } from "./api.js";
import { code, csvLink, fieldLink, h, indicatorRoute, plural, route, section, table, vendorChips } from "./dom.js";

const SEARCH = `
query IndicatorSearch($search: String!, $negated: Boolean!, $selectors: Boolean!) {
  indicators(search: $search, negated: $negated, includeEventSelectors: $selectors, first: 200) {
    totalCount ruleCount
    nodes { field { name } operator value negated eventSelector ruleCount byVendor { vendor ruleCount } }
  }
}`;

/**
 * Renders #/indicators?search=procdump (&negated=true for exclusions, &selectors=1 with event
 * selectors: host.os.type windows would otherwise answer most of a search for "windows").
 */
export async function indicatorsView(_id, params, signal) {
  const search = (params.get("search") || "").trim();
  const negated = params.get("negated") === "true";
  const selectors = params.get("selectors") === "1";
  const intro = h(
    "div",
    {},
    h("h1", {}, "Values"),
    h(
      "p",
      { class: "note" },
      "Indicators whose value contains the text, in any field and under any operator (any " +
        "case): a tool, a path, a registry key, a command-line switch. Each with the current " +
        "rules checking it, per vendor. Event selectors (host.os.type windows, event.type " +
        "start…) only with the box ticked.",
    ),
    searchForm(search, negated, selectors),
  );
  // Characters as the API counts them (code points: an emoji is one).
  if ([...search].length < 2) {
    return h(
      "div",
      { class: "indicators-page" },
      intro,
      h("p", { class: "muted", id: "indicators-hint" }, "Type at least two characters, e.g. procdump, \\wbem\\, -encodedcommand."),
    );
  }
  const { indicators } = await gql(SEARCH, { search, negated, selectors }, signal);
  const one = indicators.ruleCount === 1;
  const verb = negated ? (one ? "excludes" : "exclude") : one ? "looks for" : "look for";
  const rows = indicators.nodes.map((usage) => [
    [
      fieldLink(usage.field.name),
      usage.eventSelector ? h("span", { class: "chip selector", title: "an event selector: says which events the rules read" }, "selector") : null,
    ],
    h("span", { class: "op" }, negated ? `not ${usage.operator}` : usage.operator),
    { cell: h("a", { href: indicatorRoute(usage, negated) }, code(usage.value)), class: "value" },
    { cell: String(usage.ruleCount), class: "num rules" },
    { cell: vendorChips(usage.byVendor), class: "chips vendors" },
  ]);
  const shown = indicators.nodes.length;
  return h(
    "div",
    { class: "indicators-page", "data-title": `Values containing ${search}` },
    intro,
    h(
      "p",
      { class: "summary", id: "indicators-summary" },
      `${plural(indicators.totalCount, "indicator")} ${indicators.totalCount === 1 ? "contains" : "contain"} “${search}”; `,
      h(
        "a",
        { href: route("rules", null, { contains: search, negated: String(negated), selectors: selectors ? "" : "0" }), id: "indicators-rules" },
        plural(indicators.ruleCount, "current rule"),
      ),
      ` ${verb} ${indicators.totalCount === 1 ? "it" : "at least one of them"}.`,
    ),
    section(
      "indicators-found",
      negated ? "Values excluded" : "Values looked for",
      [
        shown < indicators.totalCount ? `The ${shown} checked by most rules are shown. ` : "",
        rows.length ? csvLink(() => document.querySelector("#indicators-found table"), `covgraph-values-${search.replace(/[^\w.-]+/g, "_")}.csv`) : null,
      ],
      rows.length
        ? table("data indicators-found", ["field", "op", "value", "rules", "vendors"], rows, (i) => ({
            "data-key": `${indicators.nodes[i].field.name}|${indicators.nodes[i].operator}|${indicators.nodes[i].value}`,
          }))
        : h("p", { class: "muted" }, `No current rule checks a value containing “${search}”${negated ? " under negation" : ""}.`),
    ),
  );
}

function searchForm(search, negated, selectors) {
  const input = h("input", {
    id: "indicators-search",
    type: "search",
    value: search,
    placeholder: "procdump",
    "aria-label": "text the values contain",
  });
  const exclusions = h("input", { type: "checkbox", id: "indicators-negated", checked: negated });
  const withSelectors = h("input", { type: "checkbox", id: "indicators-selectors", checked: selectors });
  return h(
    "form",
    {
      class: "controls",
      onsubmit: (event) => {
        event.preventDefault();
        window.location.hash = route("indicators", null, {
          search: input.value.trim(),
          negated: exclusions.checked ? "true" : "",
          selectors: withSelectors.checked ? "1" : "",
        });
      },
    },
    input,
    h("label", { class: "check" }, exclusions, " exclusions"),
    h("label", { class: "check" }, withSelectors, " event selectors"),
    h("button", { type: "submit" }, "Search"),
  );
}
