// One rule's details, and lists of rules by technique, event, field or value.

import { gql } from "./api.js";
import {
  code,
  external,
  fieldLink,
  h,
  indicatorRoute,
  plural,
  route,
  section,
  severityBadge,
  table,
  VENDOR_LABELS,
  vendorBadge,
  VENDORS,
} from "./dom.js";

const RULE = `
query Rule($uid: String!) {
  rule(uid: $uid) {
    uid vendor nativeId title description severity status deprecated ruleType language query
    sourcePath sourceUrl collection author date modified references falsePositives parseStatus
    vendorProperties
    techniques { id name }
    events { id name }
    predicates { field { name } vendorField operator value rawValue negated caseSensitive }
    ${VENDORS.map((v) => `${v.toLowerCase()}: similarRules(first: 3, vendors: [${v}]) { ...Similar }`).join("\n    ")}
  }
}
fragment Similar on RuleSimilarity {
  score sharedIndicators rule { uid title } shared(first: 3) { field { name } operator value }
}`;

const COUNTS = VENDORS.map(
  (vendor) => `${vendor.toLowerCase()}: rules(search: $search, vendor: ${vendor}, techniqueId: $technique,
    includeSubtechniques: $sub, eventId: $event, field: $field, value: $value, operator: $operator,
    negated: $negated, valueContains: $contains, includeEventSelectors: $selectors, first: 1) { totalCount }`,
).join("\n");

const RULES = `
query Rules($search: String, $vendor: Vendor, $technique: String, $sub: Boolean, $event: String,
            $field: String, $value: String, $operator: String, $negated: Boolean, $contains: String,
            $selectors: Boolean, $after: String) {
  rules(search: $search, vendor: $vendor, techniqueId: $technique, includeSubtechniques: $sub,
        eventId: $event, field: $field, value: $value, operator: $operator, negated: $negated,
        valueContains: $contains, includeEventSelectors: $selectors, first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { uid vendor title severity sourcePath sourceUrl techniques { id } }
  }
}`;

// The first page also asks each vendor's total, when no vendor is chosen.
const FIRST_PAGE = RULES.replace(/\}\s*$/, `${COUNTS}\n}`);

// The vendor's own scores, shown beside the severity when the rule has them: Splunk has no
// severity level but a risk score with the confidence and impact it is the product of, and
// Elastic has a risk score and marks building-block rules (which raise no alert of their own).
const VENDOR_SCORES = {
  SPLUNK: [["risk_score", "risk score"], ["confidence", "confidence"], ["impact", "impact"]],
  ELASTIC: [["risk_score", "risk score"], ["building_block", "building block"]],
  SIGMA: [],
};

/** [label, value] rows for the vendor-specific scores the rule carries. */
function vendorScores(rule) {
  const properties = rule.vendorProperties || {};
  return (VENDOR_SCORES[rule.vendor] || [])
    .filter(([key]) => properties[key] !== null && properties[key] !== undefined && properties[key] !== false)
    .map(([key, label]) => [label, h("span", { class: "vendor-score", "data-key": key }, properties[key] === true ? "yes" : String(properties[key]))]);
}

/** Renders #/rule/UID. */
export async function ruleView(uid, _params, signal) {
  const { rule } = await gql(RULE, { uid }, signal);
  if (!rule) {
    return h("div", { class: "empty-state" }, h("h1", {}, "No such rule"), h("p", {}, `No rule has the uid ${uid}.`));
  }
  const facts = [
    ["vendor", vendorBadge(rule.vendor)],
    ["id", code(rule.nativeId)],
    ["status", [rule.status || "—", rule.deprecated ? " (deprecated)" : ""]],
    ["severity", severityBadge(rule.severity) || "—"],
    ...vendorScores(rule),
    ["type", [rule.ruleType || "—", rule.language && rule.language !== rule.ruleType ? ` · ${rule.language}` : ""]],
    ["file", rule.sourceUrl ? external(rule.sourceUrl, rule.sourcePath) : rule.sourcePath],
    ["author", rule.author || "—"],
    ["dates", [rule.date || "—", rule.modified ? ` · modified ${rule.modified}` : ""]],
    ["parse", rule.parseStatus || "—"],
  ];
  const predicates = rule.predicates.map((p) => [
    p.field.name === "*" ? h("a", { href: route("field", "*"), class: "muted" }, "any field") : fieldLink(p.field.name),
    p.vendorField ? code(p.vendorField) : "",
    h("span", { class: "op" }, p.operator),
    {
      cell: p.value === null ? "" : h("a", { href: indicatorRoute(p, p.negated), title: "this indicator across the catalog" }, code(p.value)),
      class: "value",
    },
    [
      p.negated ? h("span", { class: "flag exclusion" }, "excluded") : "",
      p.caseSensitive ? h("span", { class: "flag case", title: `compared with case: ${p.rawValue}` }, "case-sensitive") : "",
    ],
  ]);
  return h(
    "div",
    { class: "rule-page", "data-title": rule.title },
    h("header", { class: "page-head" }, h("h1", {}, rule.title), rule.description ? h("p", { class: "description" }, rule.description) : null),
    h(
      "div",
      { class: "grid" },
      section("facts", "Rule", null, h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
      section(
        "links",
        "Techniques and events",
        null,
        h("h3", {}, "Techniques"),
        list(rule.techniques, (t) => [h("a", { href: route("technique", t.id) }, t.id), ` ${t.name}`]),
        h("h3", {}, "Events"),
        list(rule.events, (e) => [h("a", { href: route("rules", null, { event: e.id }) , class: "event-id" }, e.id), ` ${e.name}`]),
      ),
    ),
    section(
      "predicates",
      `Checks (${rule.predicates.length})`,
      "Every (field, operator, value) the rule checks, with the field as the rule wrote it; exclusions last.",
      predicates.length
        ? table("data predicates", ["field", "as written", "op", "value", ""], predicates, (i) =>
            rule.predicates[i].negated ? { class: "negated" } : {},
          )
        : h("p", { class: "muted" }, "No predicate was read from this rule."),
    ),
    similarCard(rule),
    rule.query ? section("query", "Detection", null, h("pre", { class: "query" }, rule.query)) : null,
    textList("references", "References", rule.references, (ref) => external(ref, ref)),
    textList("false-positives", "False positives", rule.falsePositives, (text) => text),
  );
}

/** Per catalog, the rules that look for most of what this one looks for (rare checks weigh most). */
function similarCard(rule) {
  const columns = VENDORS.map((vendor) => {
    const similar = rule[vendor.toLowerCase()];
    return h(
      "div",
      { class: "vendor-rules", "data-vendor": vendor },
      h("h3", {}, vendorBadge(vendor)),
      similar.length
        ? h(
            "ol",
            { class: "similar-rules" },
            similar.map((s) =>
              h(
                "li",
                { "data-uid": s.rule.uid },
                h("a", { href: route("rule", s.rule.uid) }, s.rule.title),
                " ",
                h("span", { class: "score", title: "cosine similarity of what the two rules look for, rare indicators weighing most" }, `${Math.round(s.score * 100)}%`),
                h(
                  "div",
                  { class: "shared muted" },
                  `${plural(s.sharedIndicators, "shared indicator")}: `,
                  s.shared.map((c, i) => [
                    i ? ", " : "",
                    h("a", { href: indicatorRoute(c, false), title: `${c.field.name} ${c.operator} ${c.value}` }, h("span", { class: "field" }, c.field.name), " ", code(c.value)),
                  ]),
                  s.sharedIndicators > s.shared.length ? ", …" : "",
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, `No ${VENDOR_LABELS[vendor]} rule looks for what it looks for (event selectors aside).`),
    );
  });
  return section(
    "similar-rules",
    "Closest rules in each catalog",
    "The current rules that look for the most of what this rule looks for, rare indicators " +
      "weighing most and event selectors aside: this rule's equivalents in the other catalogs, " +
      "and its neighbours in its own.",
    h("div", { class: "vendor-columns" }, columns),
  );
}

function list(items, render) {
  return items.length ? h("ul", { class: "plain" }, items.map((item) => h("li", {}, render(item)))) : h("p", { class: "muted" }, "none");
}

function textList(id, title, items, render) {
  return items.length ? section(id, title, null, list(items, render)) : null;
}

/** The #/rules route of a list's filters, with some changed (a vendor chosen). */
function listRoute(filters, changes) {
  const f = { ...filters, ...changes };
  return route("rules", null, {
    search: f.search,
    vendor: f.vendor,
    technique: f.technique,
    sub: f.sub ? 1 : null,
    event: f.event,
    field: f.field,
    value: f.value,
    operator: f.operator,
    negated: f.negated === null ? null : String(f.negated),
    contains: f.contains,
    selectors: f.selectors === false ? "0" : null,
  });
}

/** What a rules list is filtered by, in words. */
function describe(filters) {
  const parts = [];
  if (filters.technique) {
    parts.push(`tagged with ${filters.technique}${filters.sub ? " or one of its sub-techniques" : ""}`);
  }
  if (filters.event) parts.push(`needing ${filters.event}`);
  const how = filters.operator ? ` with ${filters.operator}` : " (any operator)";
  const polarity =
    filters.negated === true ? ", as an exclusion" : filters.negated === false ? ", as an indicator" : ", as indicator or exclusion";
  if (filters.field && filters.value !== null) {
    parts.push(`checking ${filters.field} for “${filters.value}”${how}${polarity}`);
  }
  else if (filters.field && filters.contains) {
    parts.push(`checking ${filters.field} for a value containing “${filters.contains}”${how}${polarity}`);
  }
  else if (filters.field) parts.push(`filtering on ${filters.field}`);
  else if (filters.value !== null) parts.push(`checking “${filters.value}” in any field${how}${polarity}`);
  else if (filters.contains) parts.push(`checking a value containing “${filters.contains}” in any field${how}${polarity}`);
  if (filters.selectors === false) parts.push("event selectors aside");
  if (filters.search) parts.push(`matching “${filters.search}”`);
  if (filters.vendor) parts.push(`from ${VENDOR_LABELS[filters.vendor]}`);
  return parts.join(", ");
}

/** Renders #/rules?technique=&sub=1&event=&field=&value=&operator=&negated=&vendor=&search=. */
export async function rulesView(_id, params, signal) {
  const filters = {
    search: params.get("search") || null,
    vendor: VENDORS.includes(params.get("vendor")) ? params.get("vendor") : null,
    technique: params.get("technique") || null,
    // The roll-up of the technique page's ?sub=1: its current sub-techniques' rules too.
    sub: params.get("sub") === "1",
    event: params.get("event") || null,
    field: params.get("field") || null,
    value: params.has("value") ? params.get("value") : null,
    // Text the checked value contains (the Values page's rule count).
    contains: params.get("contains") || null,
    // selectors=0: the check is no event selector (the Values page's count).
    selectors: params.get("selectors") === "0" ? false : null,
    // With an operator and a polarity the list is one indicator's corpus reach, exactly.
    operator: params.get("operator") || null,
    negated: params.get("negated") === "true" ? true : params.get("negated") === "false" ? false : null,
  };
  const first = await gql(filters.vendor ? RULES : FIRST_PAGE, { ...filters, after: null }, signal);
  const page = first.rules;
  const body = h("tbody", {});
  const addRows = (nodes) => {
    for (const rule of nodes) {
      body.appendChild(
        h(
          "tr",
          { "data-uid": rule.uid },
          h("td", {}, vendorBadge(rule.vendor)),
          h("td", {}, h("a", { href: route("rule", rule.uid) }, rule.title), " ", severityBadge(rule.severity)),
          h("td", {}, rule.techniques.map((t, i) => [i ? ", " : "", h("a", { href: route("technique", t.id) }, t.id)])),
          h("td", {}, rule.sourceUrl ? external(rule.sourceUrl, "source") : ""),
        ),
      );
    }
  };
  addRows(page.nodes);
  const shown = h("span", {}, String(page.nodes.length));
  let cursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  const moreButton = h("button", { type: "button", id: "more-rules" }, "Show more");
  moreButton.addEventListener("click", async () => {
    moreButton.disabled = true;
    const next = (await gql(RULES, { ...filters, after: cursor })).rules;
    addRows(next.nodes);
    shown.textContent = String(body.children.length);
    cursor = next.pageInfo.hasNextPage ? next.pageInfo.endCursor : null;
    moreButton.disabled = false;
    if (!cursor) moreButton.remove();
  });
  return h(
    "div",
    { class: "rules-page" },
    h("h1", {}, "Rules"),
    h(
      "p",
      { class: "summary" },
      h("strong", { id: "rules-total" }, plural(page.totalCount, "current rule")),
      describe(filters) ? ` ${describe(filters)}` : "",
      filters.vendor
        ? ""
        : [
            ": ",
            VENDORS.map((v, i) => [
              i ? ", " : "",
              h(
                "a",
                { href: listRoute(filters, { vendor: v }), class: `vendor-count vendor-text-${v.toLowerCase()}`, "data-vendor": v },
                `${VENDOR_LABELS[v]} ${first[v.toLowerCase()].totalCount.toLocaleString("en")}`,
              ),
            ]),
          ],
    ),
    filters.field && filters.operator && filters.value !== null
      ? h("p", { class: "muted", id: "rules-indicator" }, h("a", { href: indicatorRoute({ field: { name: filters.field }, operator: filters.operator, value: filters.value }, filters.negated === true) }, "This indicator across the catalog"), ": its rules per vendor, technique and event, and what they check with it.")
      : null,
    filters.event
      ? h("p", { class: "muted", id: "rules-event" }, h("a", { href: route("event", filters.event) }, `The event ${filters.event}`), ": the techniques its rules detect and those ATT&CK reads it for.")
      : null,
    h(
      "table",
      { class: "data rules-list" },
      h("thead", {}, h("tr", {}, ["vendor", "title", "techniques", ""].map((t) => h("th", {}, t)))),
      body,
    ),
    h("p", { class: "muted" }, "Showing ", shown, ` of ${page.totalCount.toLocaleString("en")}. `, cursor ? moreButton : null),
  );
}
