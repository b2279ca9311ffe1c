// One canonical field: the names each vendor gives it, the operators used on it, and the values
// the whole catalog looks for and excludes in it.

import { gql } from "./api.js";
import {
  code,
  fieldLink,
  h,
  indicatorRoute,
  plural,
  route,
  section,
  table,
  VENDOR_LABELS,
  vendorChips,
  VENDORS,
} from "./dom.js";

const FIELD = `
query FieldPage($name: String!) {
  field(name: $name) {
    name ruleCount byVendor { vendor ruleCount }
    aliases { vendor name }
    operators { operator count }
    indicatorCount exclusionCount: indicatorCount(negated: true)
    indicators(first: 50) { ...Row }
    exclusions: indicators(first: 30, negated: true) { ...Row }
  }
}
fragment Row on IndicatorUsage { field { name } operator value negated ruleCount byVendor { vendor ruleCount } }`;

/** Renders #/field/NAME. */
export async function fieldView(name, _params, signal) {
  const { field } = await gql(FIELD, { name: name || "" }, signal);
  if (!field) return unknownField(name || "", signal);
  const counts = Object.fromEntries(field.byVendor.map((count) => [count.vendor, count.ruleCount]));
  return h(
    "div",
    { class: "field-page", "data-title": field.name },
    h("h1", { id: "field-name" }, h("span", { class: "field" }, field.name === "*" ? "* (keywords, no field)" : field.name)),
    h(
      "p",
      { class: "summary", id: "field-rules" },
      h("a", { href: route("rules", null, { field: field.name }), id: "field-rule-count" }, plural(field.ruleCount, "current rule")),
      ` filter${field.ruleCount === 1 ? "s" : ""} on it: `,
      VENDORS.map((vendor, i) => [
        i ? ", " : "",
        h(
          "a",
          { href: route("rules", null, { field: field.name, vendor }), class: `vendor-count vendor-text-${vendor.toLowerCase()}`, "data-vendor": vendor },
          `${VENDOR_LABELS[vendor]} ${(counts[vendor] || 0).toLocaleString("en")}`,
        ),
      ]),
      ".",
    ),
    h(
      "div",
      { class: "grid" },
      section("field-aliases", "As the rules write it", "The field names in the rule files that mean this field, per vendor.", aliasList(field)),
      section(
        "field-operators",
        "Operators",
        "Rules per operator used on the field (a rule using two counts under both).",
        field.operators.length
          ? h("p", { class: "chips" }, field.operators.map((op) => h("span", { class: "chip", "data-operator": op.operator }, `${op.operator} ${op.count.toLocaleString("en")}`)))
          : h("p", { class: "muted" }, "None."),
      ),
    ),
    valuesCard("field-values", `Values looked for (${field.indicatorCount.toLocaleString("en")} distinct)`, field.indicators, field.indicatorCount, "No current rule looks for a value in it."),
    valuesCard("field-exclusions", `Values excluded (${field.exclusionCount.toLocaleString("en")} distinct)`, field.exclusions, field.exclusionCount, "No current rule excludes a value of it."),
  );
}

const WRITTEN_AS = `
query FieldsWrittenAs($name: String!) {
  fieldsWrittenAs(name: $name) { name aliases { vendor name } }
}`;

/** No canonical field of that name: perhaps a vendor's own name for one (Sigma's ParentImage). */
async function unknownField(name, signal) {
  const { fieldsWrittenAs: found } = name ? await gql(WRITTEN_AS, { name }, signal) : { fieldsWrittenAs: [] };
  const writers = (field) => {
    const vendors = VENDORS.filter((v) => field.aliases.some((a) => a.vendor === v && a.name.toLowerCase() === name.toLowerCase()));
    return vendors.map((v) => VENDOR_LABELS[v]).join(", ");
  };
  return h(
    "div",
    { class: "field-page", "data-title": found.length ? name : "Unknown field" },
    h("h1", {}, found.length ? name : "Unknown field"),
    found.length
      ? [
          h("p", { id: "field-written-as" }, `“${name}” is how rules write ${found.length === 1 ? "this canonical field" : "these canonical fields"}:`),
          h("ul", { class: "plain", id: "field-canonical" }, found.map((f) => h("li", { "data-field": f.name }, fieldLink(f.name), h("span", { class: "muted" }, ` (${writers(f)})`)))),
        ]
      : h("p", { class: "error-text", id: "field-unknown" }, `No rule checks a field “${name}”.`),
  );
}

function aliasList(field) {
  const byVendor = VENDORS.map((vendor) => [vendor, field.aliases.filter((alias) => alias.vendor === vendor)]).filter(([, names]) => names.length);
  if (!byVendor.length) return h("p", { class: "muted" }, "No rule names it.");
  return h(
    "dl",
    { class: "aliases" },
    byVendor.map(([vendor, names]) => [
      h("dt", { class: `vendor-text-${vendor.toLowerCase()}` }, VENDOR_LABELS[vendor]),
      h("dd", { "data-vendor": vendor }, names.map((alias, i) => [i ? " " : "", code(alias.name)])),
    ]),
  );
}

function valuesCard(id, title, rows, total, empty) {
  const shown = rows.length < total ? `The ${rows.length} checked by most rules are shown.` : null;
  return section(
    id,
    title,
    ["Each value with the current rules of the whole catalog checking it (its corpus reach), per vendor.", shown].filter(Boolean).join(" "),
    rows.length
      ? table(
          `data ${id}`,
          ["op", "value", "rules", "vendors"],
          rows.map((usage) => [
            h("span", { class: "op" }, usage.negated ? `not ${usage.operator}` : usage.operator),
            { cell: h("a", { href: indicatorRoute(usage, usage.negated) }, code(usage.value)), class: "value" },
            { cell: String(usage.ruleCount), class: "num rules" },
            { cell: vendorChips(usage.byVendor), class: "chips vendors" },
          ]),
          (i) => ({ "data-key": `${rows[i].field.name}|${rows[i].operator}|${rows[i].value}` }),
        )
      : h("p", { class: "muted" }, empty),
  );
}
