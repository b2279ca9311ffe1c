// The covgraph page: hash routing, the technique search box, loading and error states.

import { ApiError, gql, stats } from "./api.js";
import { external, h, plural, replace, route, section, table, VENDOR_LABELS } from "./dom.js";
import { collectView } from "./collect.js";
import { eventView } from "./event.js";
import { fieldView } from "./field.js";
import { indicatorView } from "./indicator.js";
import { indicatorsView } from "./indicators.js";
import { matrixView } from "./matrix.js";
import { overlapView } from "./overlap.js";
import { ruleView, rulesView } from "./rule.js";
import { techniqueView } from "./technique.js";

const HOME = `
query Home {
  catalog {
    ruleCount deprecatedRuleCount techniqueCount coveredTechniqueCount eventCount fieldCount
    indicatorCount currentIndicatorCount attackVersion
    sources { name vendor ref commit commitDate ruleCount currentRuleCount url }
  }
}`;

const SEARCH = `
query Search($search: String!) {
  techniques(search: $search, first: 12, includeDeprecated: true) {
    totalCount nodes { id name revoked deprecated revokedBy { id } tactics { name } }
  }
}`;

const VIEWS = {
  "": homeView,
  technique: techniqueView,
  event: eventView,
  field: fieldView,
  indicator: indicatorView,
  indicators: indicatorsView,
  matrix: matrixView,
  overlap: overlapView,
  rule: ruleView,
  rules: rulesView,
  collect: collectView,
};

const TITLES = { "": "Home", matrix: "Coverage matrix", overlap: "Overlap", rules: "Rules", indicator: "Indicator", indicators: "Values", collect: "Log collection" };

/** #/view/id?params -> {view, id, params}. */
function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const mark = raw.indexOf("?");
  const path = mark === -1 ? raw : raw.slice(0, mark);
  const [view, ...rest] = path.split("/");
  return {
    view: view || "",
    id: rest.length ? decoded(rest.join("/")) : null,
    params: new URLSearchParams(mark === -1 ? "" : raw.slice(mark + 1)),
  };
}

/** The id as the hash encodes it; a malformed escape (`%zz`) is taken as written. */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

let current = null;
let renders = 0;

/** Shows the view the hash names: loading first, then the page or an error banner. */
async function render() {
  const main = document.getElementById("main");
  const { view, id, params } = parseHash();
  if (current) current.abort();
  const controller = new AbortController();
  current = controller;
  const show = VIEWS[view];
  renders += 1;
  main.dataset.render = String(renders);
  main.dataset.view = view || "home";
  main.dataset.state = "loading";
  main.setAttribute("aria-busy", "true");
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.view === view);
  }
  replace(main, h("div", { class: "loading", role: "status" }, h("span", { class: "spinner" }), "Loading…"));
  try {
    if (!show) throw new ApiError(`There is no page “${view}” here.`, "NOT_FOUND", 0);
    const node = (await nothingLoaded(controller.signal)) ? nothingLoadedBanner() : await show(id, params, controller.signal);
    if (controller.signal.aborted) return;
    replace(main, node);
    main.dataset.state = "ready";
    document.title = `${node.dataset.title || id || TITLES[view] || view} · covgraph`;
  } catch (error) {
    if (controller.signal.aborted || error.name === "AbortError") return;
    replace(main, errorBanner(error, render));
    main.dataset.state = "error";
    document.title = "Error · covgraph";
  } finally {
    if (current === controller) main.removeAttribute("aria-busy");
  }
}

/** Set once /healthz has said that sources are loaded: from then on, no more checks. */
let loaded = false;

/**
 * Whether the API's graph holds no source at all (/healthz "empty").
 *
 * Every view would otherwise draw zeros, or call a technique unknown, without saying why. An
 * unreachable API or Neo4j is not "empty": the view then fails with its own banner.
 */
async function nothingLoaded(signal) {
  if (loaded) return false;
  try {
    const response = await fetch("healthz", { headers: { accept: "application/json" }, signal });
    const body = await response.json();
    loaded = body.status === "ok";
    return body.status === "empty";
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return false;
  }
}

function nothingLoadedBanner() {
  return h(
    "div",
    { class: "banner empty", role: "status", id: "nothing-loaded", "data-title": "Nothing loaded" },
    h("strong", {}, "Nothing is loaded yet"),
    h(
      "p",
      { class: "message" },
      "Neo4j answers, but its graph holds no ATT&CK catalog and no rules, so there is nothing to " +
        "show. Load them, then reload this page:",
    ),
    h(
      "ul",
      { class: "plain" },
      h("li", {}, h("code", {}, "covgraph load"), " loads the corpus (",
        h("code", {}, "--corpus DIR"), " or ", h("code", {}, "COVGRAPH_CORPUS"),
        ", else the cache ", h("code", {}, "covgraph sync"), " fills) into this Neo4j;"),
      h("li", {}, "or ", h("code", {}, "make run"),
        " in the project: it starts Neo4j, loads the corpus and serves this page."),
    ),
    h("p", { class: "muted" }, "The API says the same at ", h("a", { href: "healthz" }, "/healthz"), "."),
  );
}

/** A readable banner for an API or network error, with a retry button. */
function errorBanner(error, retry) {
  const code = error instanceof ApiError ? error.code : "CLIENT";
  const unavailable = code === "CATALOG_UNAVAILABLE";
  return h(
    "div",
    { class: "banner error", role: "alert", "data-code": code },
    h("strong", {}, unavailable ? "The coverage catalog is unavailable" : "The page could not be drawn"),
    h("p", { class: "message" }, error.message || String(error)),
    unavailable
      ? h(
          "p",
          { class: "hint" },
          "The API is up but cannot reach Neo4j. Start it (covgraph neo4j start, or docker compose " +
            "up neo4j), check ",
          h("a", { href: "healthz" }, "/healthz"),
          ", then retry: the API reconnects by itself.",
        )
      : null,
    h(
      "p",
      { class: "muted" },
      `code ${code}${error.status ? ` · HTTP ${error.status}` : ""} `,
      h("button", { type: "button", onclick: () => retry() }, "Retry"),
    ),
  );
}

async function homeView(_id, _params, signal) {
  const { catalog } = await gql(HOME, {}, signal);
  const share = catalog.techniqueCount ? Math.round((100 * catalog.coveredTechniqueCount) / catalog.techniqueCount) : 0;
  const sources = catalog.sources.map((source) => [
    source.vendor ? VENDOR_LABELS[source.vendor] : `ATT&CK ${catalog.attackVersion || ""}`,
    source.url ? external(source.url, source.ref || (source.commit || "").slice(0, 12) || "source") : source.ref || "",
    source.commitDate || "",
    { cell: source.currentRuleCount === null ? "" : source.currentRuleCount.toLocaleString("en"), class: "num" },
    { cell: source.ruleCount === null ? "" : source.ruleCount.toLocaleString("en"), class: "num" },
  ]);
  const n = (value) => value.toLocaleString("en");
  return h(
    "div",
    { class: "home" },
    h("h1", {}, "Detection coverage graph"),
    // Each figure says what it counts: current rules against all rules read, and the values
    // current rules check positively (the guide's indicators) against every value in the graph.
    h(
      "p",
      { class: "summary", id: "home-summary" },
      `${plural(catalog.ruleCount, "current rule")} from Sigma, Elastic and Splunk `,
      `(${n(catalog.deprecatedRuleCount)} deprecated not counted) over `,
      `${plural(catalog.techniqueCount, "ATT&CK technique")}: ${n(catalog.coveredTechniqueCount)} `,
      `(${share}%) have at least one current rule. ${plural(catalog.eventCount, "event")}, `,
      `${plural(catalog.fieldCount, "field")}; ${plural(catalog.currentIndicatorCount, "indicator")} `,
      `(values current rules check positively) of ${n(catalog.indicatorCount)} values in the graph `,
      "(negated checks and deprecated rules included).",
    ),
    section(
      "start",
      "Start here",
      null,
      h(
        "ul",
        { class: "plain" },
        h("li", {}, "Search a technique by id or name in the box above, or open ",
          h("a", { href: route("technique", "T1546.003") }, "T1546.003 WMI Event Subscription"), "."),
        h("li", {}, h("a", { href: route("matrix", null, { platform: "Windows" }) }, "The coverage matrix"),
          ": tactics × techniques, coloured by rule count, per platform and vendor; ",
          h("a", { href: route("matrix", null, { gap: "ELASTIC" }) }, "a vendor’s gaps"), ": what the other catalogs cover and it does not."),
        h("li", {}, h("a", { href: route("collect", null, { platform: "windows" }) }, "Log collection"),
          ": what the rules detect with the events you collect, and which event to add next."),
        h("li", {}, h("a", { href: route("overlap", null, { ids: "T1546.003,T1047" }) }, "Indicator overlap"),
          ": what two or more techniques' rules check in common."),
        h("li", {}, h("a", { href: route("indicator", null, { field: "process.name", operator: "eq", value: "wmic.exe" }) }, "The indicator process.name eq wmic.exe"),
          ": its rules per vendor, techniques and events, and what they check with it; ",
          h("a", { href: route("field", "process.name") }, "the field process.name"), ": each vendor's names for it and its values."),
        h("li", {}, h("a", { href: route("indicators", null, { search: "procdump" }) }, "Values containing procdump"),
          ": every indicator and rule that mentions a tool, path or string."),
        h("li", {}, "The GraphQL API and its documentation: ", h("a", { href: "graphql" }, "GraphiQL at /graphql"), "."),
      ),
    ),
    section("sources", "Loaded sources", null, table("data sources", ["source", "ref", "date", "current rules", "rules read (deprecated included)"], sources)),
  );
}

/** "revoked" (with what replaced it), "deprecated", or null for a current technique. */
function retired(t) {
  if (t.revoked) return t.revokedBy ? `revoked: use ${t.revokedBy.id}` : "revoked";
  return t.deprecated ? "deprecated" : null;
}

/** What the dropdown says of the matches it does not list. */
function moreHint(text, more) {
  // After an id, the rest are techniques whose descriptions mention it: more of a name is no help.
  if (/^T\d{4}(\.\d{3})?$/i.test(text)) {
    return `${more.toLocaleString("en")} more mention ${text.toUpperCase()} in their descriptions; press Enter to open ${text.toUpperCase()}.`;
  }
  return `${more.toLocaleString("en")} more; type more words to narrow the list.`;
}

/** The search box: techniques by id prefix or name (retired ones last, marked), as you type. */
function setUpSearch() {
  const form = document.getElementById("search-form");
  const input = document.getElementById("search");
  const results = document.getElementById("search-results");
  let timer = null;
  let controller = null;
  let active = -1;

  const links = () => [...results.querySelectorAll("a")];
  const close = () => {
    results.hidden = true;
    active = -1;
  };
  const highlight = (index) => {
    const items = links();
    active = Math.max(-1, Math.min(index, items.length - 1));
    items.forEach((link, i) => link.classList.toggle("active", i === active));
  };

  /** Fills the dropdown with the techniques matching `text`; false when overtaken or failed. */
  async function lookUp(text) {
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const { techniques } = await gql(SEARCH, { search: text }, controller.signal);
      const items = techniques.nodes.map((t) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: route("technique", t.id), "data-technique": t.id, class: retired(t) ? "retired" : null },
            h("span", { class: "tid" }, t.id),
            ` ${t.name} `,
            retired(t) ? h("span", { class: "chip retired" }, retired(t)) : null,
            h("span", { class: "muted" }, ` ${t.tactics.map((x) => x.name).join(", ")}`),
          ),
        ),
      );
      replace(
        results,
        items.length
          ? h("ul", {}, items)
          : h("p", { class: "muted", id: "no-match" }, `No technique matches “${text}”.`),
        techniques.totalCount > items.length
          ? h("p", { class: "muted", id: "search-more" }, moreHint(text, techniques.totalCount - items.length))
          : null,
        // The same text among the values rules check (a tool, a path): the last choice, and
        // what Enter opens when no technique matches.
        [...text].length >= 2 && !/^T\d{4}(\.\d{3})?$/i.test(text)
          ? h("p", { id: "search-values" }, h("a", { href: route("indicators", null, { search: text }) }, `Values rules check that contain “${text}”`))
          : null,
      );
      results.dataset.query = text;
      active = -1;
      results.hidden = false;
      return true;
    } catch (error) {
      if (error.name === "AbortError") return false;
      replace(results, h("p", { class: "error-text" }, error.message));
      delete results.dataset.query;
      results.hidden = false;
      return false;
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    active = -1;
    if (!text) return close();
    timer = setTimeout(() => lookUp(text), 180);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") highlight(active + 1);
    else if (event.key === "ArrowUp") highlight(active - 1);
    else if (event.key === "Escape") close();
    else return;
    event.preventDefault();
  });
  // Enter may come before the lookup of what was typed has answered (the 180 ms wait, or the
  // request itself): the dropdown then still lists the previous text's techniques, so Enter
  // looks the current text up and opens its first result, never a stale one.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const fresh = () => results.dataset.query === text;
    const items = fresh() ? links() : [];
    if (active >= 0 && items[active]) window.location.hash = items[active].getAttribute("href");
    else if (/^T\d{4}(\.\d{3})?$/i.test(text)) window.location.hash = route("technique", text.toUpperCase());
    else {
      if (!fresh() && !(await lookUp(text))) return;
      const first = links()[0];
      // Typing on while the lookup ran makes this Enter stale in its turn.
      if (!first || !fresh() || input.value.trim() !== text) return;
      window.location.hash = first.getAttribute("href");
    }
    close();
  });
  results.addEventListener("click", (event) => {
    if (event.target.closest("a")) close();
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) close();
  });
}

window.covgraph = { stats };
window.addEventListener("hashchange", render);
setUpSearch();
render();
