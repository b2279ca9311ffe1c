// The overlap view: indicators that two or more techniques' rules both check.

import { ApiError, gql } from "./api.js";
import { code, fieldLink, h, indicatorRoute, reachRoute, route, section, table } from "./dom.js";

const OVERLAP = `
query Overlap($ids: [String!]!, $first: String!, $sub: Boolean!) {
  indicatorOverlap(techniqueIds: $ids, first: 100, includeSubtechniques: $sub, includeEventSelectors: false) {
    field { name } operator value corpusReach
    ruleCountByTechnique { ruleCount technique { id name } }
  }
  similarTechniques(id: $first, first: 10, includeSubtechniques: $sub, includeEventSelectors: false) {
    jaccard sharedIndicators indicatorCount technique { id name }
  }
}`;

const SIMILAR = `
query Similar($id: String!, $sub: Boolean!) {
  technique(id: $id) { id name }
  similarTechniques(id: $id, first: 10, includeSubtechniques: $sub, includeEventSelectors: false) {
    jaccard sharedIndicators indicatorCount technique { id name }
  }
}`;

/** Technique ids as typed: split on commas and spaces, upper-cased, first occurrence kept. */
export function parseIds(text) {
  const ids = (text || "").split(/[\s,;]+/).map((id) => id.trim().toUpperCase()).filter(Boolean);
  return [...new Set(ids)];
}

/** Renders #/overlap?ids=T1546.003,T1047 (&sub=1 rolls sub-techniques up). */
export async function overlapView(_id, params, signal) {
  const ids = parseIds(params.get("ids"));
  const sub = params.get("sub") === "1";
  const form = idsForm(ids, sub);
  const intro = h(
    "div",
    {},
    h("h1", {}, "Indicator overlap"),
    h(
      "p",
      { class: "note" },
      "Indicators (field, operator, value) that rules of at least two of the techniques check, " +
        "with how many rules of each technique check them. Event selectors (host.os.type, " +
        "event.category, a process start…), which most rules share whatever the technique, are " +
        "left out.",
    ),
    form,
  );
  if (!ids.length) {
    return h(
      "div",
      { class: "overlap-page" },
      intro,
      h("p", { class: "muted", id: "overlap-hint" }, "Enter two or more technique ids, e.g. T1546.003, T1047."),
    );
  }
  let data;
  try {
    data = await gql(ids.length === 1 ? SIMILAR : OVERLAP, ids.length === 1 ? { id: ids[0], sub } : { ids, first: ids[0], sub }, signal);
  } catch (error) {
    // A mistyped id keeps the form, so that it can be corrected in place.
    if (!(error instanceof ApiError && error.code === "UNKNOWN_TECHNIQUE")) throw error;
    return h("div", { class: "overlap-page" }, intro, h("p", { class: "error-text", id: "overlap-error" }, `${error.message}. Correct it above.`));
  }
  if (ids.length === 1) {
    // One id (the technique page's "compare with…"): suggest what to compare it with.
    return h(
      "div",
      { class: "overlap-page" },
      intro,
      h(
        "p",
        { class: "muted", id: "overlap-hint" },
        `Add a technique id to compare ${ids[0]}${data.technique ? ` ${data.technique.name}` : ""} with, ` +
          "or pick one of its most similar techniques below.",
      ),
      similarSection(ids[0], data.similarTechniques, ids, sub),
    );
  }
  const shared = data.indicatorOverlap;
  const names = new Map();
  for (const row of shared) {
    for (const entry of row.ruleCountByTechnique) names.set(entry.technique.id, entry.technique.name);
  }
  const rows = shared.map((row) => [
    fieldLink(row.field.name),
    h("span", { class: "op" }, row.operator),
    { cell: h("a", { href: indicatorRoute(row, false) }, code(row.value)), class: "value" },
    ...row.ruleCountByTechnique.map((entry) => ({
      cell: String(entry.ruleCount),
      class: entry.ruleCount ? "num hit" : "num miss",
    })),
    {
      cell: h("a", { href: reachRoute(row, false) }, String(row.corpusReach)),
      class: "num reach",
    },
  ]);
  const headings = ["field", "op", "value", ...ids.map((id) => techniqueHeading(id, names)), "corpus reach"];
  return h(
    "div",
    { class: "overlap-page" },
    intro,
    comparedList(ids, names, shared),
    section(
      "shared",
      `Shared indicators (${shared.length}${shared.length === 100 ? "+" : ""})`,
      shared.length ? null : "These techniques' rules share no indicator.",
      shared.length
        ? table("data overlap", headings, rows, (i) => ({
            "data-key": `${shared[i].field.name}|${shared[i].operator}|${shared[i].value}`,
          }))
        : null,
    ),
    similarSection(ids[0], data.similarTechniques, ids, sub),
  );
}

/** The techniques compared, with their names and how many of the listed indicators each checks. */
function comparedList(ids, names, shared) {
  const checks = ids.map((_, i) => shared.filter((row) => row.ruleCountByTechnique[i].ruleCount > 0).length);
  const inAll = shared.filter((row) => row.ruleCountByTechnique.every((entry) => entry.ruleCount > 0)).length;
  return h(
    "section",
    { class: "card", id: "compared" },
    h("h2", {}, `Comparing ${ids.length} techniques`),
    h(
      "ul",
      { class: "compared" },
      ids.map((id, i) =>
        h(
          "li",
          { "data-technique": id },
          h("a", { href: route("technique", id) }, h("span", { class: "tid" }, id), " ", names.get(id) || ""),
          " — ",
          h("span", { class: "checks" }, String(checks[i])),
          ` of the ${shared.length} listed indicators`,
        ),
      ),
    ),
    ids.length > 2
      ? h("p", { class: "note", id: "in-all" }, `${inAll} listed indicators are checked by rules of all ${ids.length}.`)
      : null,
  );
}

function techniqueHeading(id, names) {
  return h("a", { href: route("technique", id), title: names.get(id) || id }, id);
}

function idsForm(ids, sub) {
  const input = h("input", {
    id: "overlap-ids",
    type: "text",
    value: ids.join(", "),
    placeholder: "T1546.003, T1047",
    "aria-label": "technique ids",
  });
  const rollUp = h("input", { type: "checkbox", id: "overlap-sub", checked: sub });
  return h(
    "form",
    {
      class: "controls",
      onsubmit: (event) => {
        event.preventDefault();
        window.location.hash = route("overlap", null, {
          ids: parseIds(input.value).join(","),
          sub: rollUp.checked ? 1 : "",
        });
      },
    },
    input,
    h("label", { class: "check" }, rollUp, " include sub-techniques"),
    h("button", { type: "submit" }, "Compare"),
  );
}

function similarSection(id, similar, ids, sub) {
  const rows = similar.map((entry) => [
    h("a", { href: route("technique", entry.technique.id) }, entry.technique.id),
    entry.technique.name,
    { cell: `${(entry.jaccard * 100).toFixed(1)}%`, class: "num" },
    { cell: String(entry.sharedIndicators), class: "num" },
    { cell: String(entry.indicatorCount), class: "num" },
    ids.includes(entry.technique.id)
      ? h("span", { class: "muted" }, "compared")
      : h("a", { href: route("overlap", null, { ids: [...ids, entry.technique.id].join(","), sub: sub ? 1 : "" }) }, "add"),
  ]);
  return section(
    "similar",
    `Most similar to ${id}`,
    "Jaccard similarity of the sets of indicators (not exclusions, not event selectors) their rules check" +
      (sub ? ", each technique with its sub-techniques' rules; its own parent and sub-techniques are not offered." : "."),
    rows.length
      ? table("data similar", ["technique", "name", "jaccard", "shared", "its indicators", ""], rows)
      : h("p", { class: "muted" }, `No technique shares an indicator with ${id}.`),
  );
}
