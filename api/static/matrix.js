// The coverage matrix: tactics x techniques, coloured by rule count, per platform and vendor.

import { gql } from "./api.js";
import { csvLink, h, plural, route, table, vendorChips, VENDOR_LABELS, VENDORS } from "./dom.js";

const MATRIX = `
query Matrix($platform: String, $vendors: [Vendor!], $rollUp: Boolean) {
  coverageMatrix(platform: $platform, vendors: $vendors, includeSubtechniques: $rollUp) {
    tactic { id name }
    techniqueCount coveredCount
    techniques { ruleCount byVendor { vendor ruleCount } technique { id name isSubtechnique } }
  }
}`;

// ATT&CK Enterprise platforms (v18), as techniques name them.
const PLATFORMS = [
  "Windows", "Linux", "macOS", "Network Devices", "Containers", "IaaS", "SaaS",
  "Office Suite", "Identity Provider", "ESXi", "PRE",
];

/** Upper bounds of the colour buckets: 0, 1-2, 3-9, 10-29, 30-99, 100+. */
const BUCKETS = [0, 2, 9, 29, 99];

function bucket(count) {
  const index = BUCKETS.findIndex((top) => count <= top);
  return index === -1 ? BUCKETS.length : index;
}

/** The `vendors` value of a route in which the user unticked every vendor. */
const NO_VENDOR = "none";

/**
 * Renders #/matrix?platform=Windows&vendors=SIGMA,ELASTIC&sub=0&gap=ELASTIC.
 *
 * No `vendors` means every vendor; `vendors=none` (every box unticked) asks nothing and says to
 * pick one, rather than asking the API's empty list, which counts no rule at all. `gap` names a
 * vendor whose gaps are shown: the techniques the other chosen vendors cover and it does not.
 */
export async function matrixView(_id, params, signal) {
  // Route values in any case: `windows` is the Windows of the menu, `elastic` ELASTIC.
  const asked = (params.get("platform") || "").trim();
  const platform = PLATFORMS.find((name) => name.toLowerCase() === asked.toLowerCase()) || asked;
  const vendorsParam = params.get("vendors") || "";
  const noVendor = vendorsParam === NO_VENDOR;
  const chosen = vendorsParam.split(",").map((v) => v.trim().toUpperCase()).filter((v) => VENDORS.includes(v));
  const showSub = params.get("sub") !== "0";
  const gapParam = (params.get("gap") || "").toUpperCase();
  const gap = VENDORS.includes(gapParam) ? gapParam : "";
  const state = { platform, vendors: noVendor ? [NO_VENDOR] : chosen, sub: showSub, gap };
  const page = (...content) => h("div", { class: "matrix-page" }, h("h1", {}, "Coverage matrix"), controls(state), ...content);
  if (noVendor) {
    return page(
      h(
        "p",
        { class: "summary empty-state", id: "matrix-empty" },
        "No vendor selected: pick at least one vendor to see its coverage.",
      ),
    );
  }
  const vendors = chosen.length ? chosen : null;
  // The gap vendor is asked for with the others, so that each cell says whether it covers it;
  // unticked, its rules are then taken out of the counts, heads and colours (`withGap`).
  const unticked = Boolean(gap && vendors && !vendors.includes(gap));
  const askedVendors = unticked ? [...vendors, gap] : vendors;
  // Without sub-techniques, the API folds them into their parents: a parent counts the distinct
  // rules of itself and its sub-techniques, and heads and summary count only what is shown.
  const data = await gql(MATRIX, { platform: platform || null, vendors: askedVendors, rollUp: !showSub }, signal);
  const columns = withGap(data.coverageMatrix.filter((column) => column.techniqueCount > 0), gap, unticked);
  const compared = gap ? (vendors || VENDORS).filter((v) => v !== gap) : [];
  const counts = new Map();
  for (const entry of columns) {
    for (const cell of entry.techniques) counts.set(cell.technique.id, cell.ruleCount);
  }
  const covered = [...counts.values()].filter((n) => n > 0).length;
  const share = counts.size ? Math.round((100 * covered) / counts.size) : 0;
  return page(
    h(
      "p",
      { class: "summary", id: "matrix-summary" },
      `${plural(counts.size, "technique")} under ${plural(columns.length, "tactic")}`,
      `${platform ? ` on ${platform}` : ""}: ${covered.toLocaleString("en")} (${share}%) with at least `,
      `one rule${vendors ? ` from ${vendors.map((v) => VENDOR_LABELS[v]).join(" or ")}` : ""}.`,
    ),
    h(
      "p",
      {},
      compared.length
        ? [
            h("a", { id: "navigator-layer", href: layerUrl(platform, vendors, gap), download: "" }, `Download ${VENDOR_LABELS[gap]}’s gaps as an ATT&CK Navigator layer`),
            " (opens in Navigator 5.2 or later",
            showSub ? "" : "; it keeps sub-techniques apart, as Navigator shows them",
            ").",
          ]
        : [
            h("a", { id: "navigator-layer", href: layerUrl(platform, vendors, ""), download: "" }, "Download this view as an ATT&CK Navigator layer"),
            " (opens in Navigator 5.2 or later).",
          ],
    ),
    legend(compared.length ? gap : ""),
    showSub ? null : h("p", { class: "muted", id: "matrix-rolled" }, "Sub-techniques hidden: each technique counts its own rules and its sub-techniques’, each rule once."),
    gap ? gapSummary(gap, vendors, columns) : null,
    columns.length ? scrollBox(showSub, columns, compared.length ? gap : "") : h("p", { class: "muted" }, `No technique for platform “${platform}”.`),
    compared.length ? gapList(gap, columns, !showSub) : null,
  );
}

/**
 * Each cell with `gapRules`, the gap vendor's rules in it; when that vendor was not ticked, its
 * rules are taken out of the cell's count and split, and the heads count again what is covered.
 */
function withGap(columns, gap, unticked) {
  return columns.map((column) => {
    const techniques = column.techniques.map((cell) => {
      const gapRules = gap ? cell.byVendor.filter((v) => v.vendor === gap).reduce((sum, v) => sum + v.ruleCount, 0) : 0;
      if (!unticked) return { ...cell, gapRules };
      return {
        ...cell,
        gapRules,
        ruleCount: cell.ruleCount - gapRules,
        byVendor: cell.byVendor.filter((v) => v.vendor !== gap),
      };
    });
    const coveredCount = unticked ? techniques.filter((cell) => cell.ruleCount > 0).length : column.coveredCount;
    return { ...column, techniques, coveredCount };
  });
}

/** The rules of a cell from vendors other than `gap`. */
function othersCount(cell, gap) {
  return cell.byVendor.filter((v) => v.vendor !== gap).reduce((sum, v) => sum + v.ruleCount, 0);
}

/** A gap of `gap`: a technique the other vendors cover and `gap` does not. */
function isGap(cell, gap) {
  return othersCount(cell, gap) > 0 && !cell.gapRules;
}

/** Each technique once (a technique sits under each of its tactics), in matrix order. */
function distinctCells(columns) {
  const seen = new Map();
  for (const entry of columns) {
    for (const cell of entry.techniques) if (!seen.has(cell.technique.id)) seen.set(cell.technique.id, cell);
  }
  return [...seen.values()];
}

function gapSummary(gap, vendors, columns) {
  const others = (vendors || VENDORS).filter((v) => v !== gap);
  const cells = distinctCells(columns);
  const byOthers = cells.filter((cell) => othersCount(cell, gap) > 0);
  const gaps = byOthers.filter((cell) => isGap(cell, gap));
  const names = others.map((v) => VENDOR_LABELS[v]).join(" or ");
  const verb = others.length === 1 ? "covers" : "cover";
  let text = `Tick another vendor to compare ${VENDOR_LABELS[gap]} with.`;
  if (others.length && !gaps.length) {
    text = `${VENDOR_LABELS[gap]} has a rule for every one of the ${plural(byOthers.length, "technique")} that ${names} ${verb}.`;
  } else if (others.length) {
    text =
      `${VENDOR_LABELS[gap]} has no rule for ${plural(gaps.length, "technique")} of the ` +
      `${byOthers.length.toLocaleString("en")} that ${names} ${verb} (outlined in red, listed below the matrix); ` +
      `the techniques it covers are dimmed.`;
  }
  return h("p", { class: "summary", id: "matrix-gaps" }, text);
}

/** The gaps as a table, most rules from the other vendors first. */
function gapList(gap, columns, rolledUp) {
  const gaps = distinctCells(columns)
    .filter((cell) => isGap(cell, gap))
    .sort((a, b) => othersCount(b, gap) - othersCount(a, gap) || a.technique.id.localeCompare(b.technique.id));
  if (!gaps.length) return null;
  const rows = gaps.map((cell) => [
    h("a", { href: route("technique", cell.technique.id, rolledUp ? { sub: 1 } : null) }, cell.technique.id),
    cell.technique.name,
    {
      cell: vendorChips(cell.byVendor, (vendor) =>
        route("rules", null, { technique: cell.technique.id, vendor, ...(rolledUp ? { sub: 1 } : {}) }),
      ),
      class: "vendors",
    },
  ]);
  return h(
    "section",
    { class: "card", id: "gap-list" },
    h("h2", {}, `${VENDOR_LABELS[gap]} gaps (${gaps.length.toLocaleString("en")})`),
    h(
      "p",
      { class: "note" },
      `Techniques with rules from other vendors and none from ${VENDOR_LABELS[gap]}, most rules first. `,
      csvLink(() => document.querySelector("#gap-list table"), `covgraph-gaps-of-${gap.toLowerCase()}.csv`),
    ),
    table("data gap-table", ["technique", "name", "rules from the others"], rows),
  );
}

/** Space kept under the matrix box when it is fitted into the window. */
const FIT_MARGIN = 16;
/** The box is never made shorter than this: on a small window, the page scrolls to it instead. */
const MIN_HEIGHT = 360;

/** The matrix in a box that scrolls both ways, fitted to the window below what is above it. */
function scrollBox(showSub, columns, gap) {
  const box = h(
    "div",
    { class: `matrix${showSub ? "" : " no-sub"}${gap ? " gap-mode" : ""}`, id: "matrix" },
    h("div", { class: "matrix-columns" }, columns.map((entry) => column(entry, !showSub, gap))),
  );
  // Measured once the page has put the box in place, and again when the window changes size.
  requestAnimationFrame(() => fitToWindow(box));
  return box;
}

function fitToWindow(box) {
  if (!box.isConnected) return;
  const top = box.getBoundingClientRect().top + window.scrollY;
  let height = Math.max(MIN_HEIGHT, Math.floor(window.innerHeight - top - FIT_MARGIN));
  box.style.maxHeight = `${height}px`;
  // What the page puts below the box (its padding, the footer) would still scroll the body: take
  // it off the box too, so that the box's own scrollbar is the only vertical one.
  const overflow = document.documentElement.scrollHeight - window.innerHeight;
  if (overflow > 0 && height > MIN_HEIGHT) {
    height = Math.max(MIN_HEIGHT, height - overflow);
    box.style.maxHeight = `${height}px`;
  }
  box.dataset.fitted = "1";
}

window.addEventListener("resize", () => {
  const box = document.getElementById("matrix");
  if (box) fitToWindow(box);
});

/** The API's layer download for the matrix's platform and vendors (none: every vendor). */
function layerUrl(platform, vendors, gap) {
  const params = new URLSearchParams();
  if (platform) params.set("platform", platform);
  if (vendors) params.set("vendors", vendors.join(","));
  if (gap) params.set("gapsOf", gap);
  const query = params.toString();
  return `navigator-layer.json${query ? `?${query}` : ""}`;
}

function controls(state) {
  const go = (next) => {
    const merged = { ...state, ...next };
    window.location.hash = route("matrix", null, {
      platform: merged.platform,
      vendors: merged.vendors.join(","),
      sub: merged.sub ? "" : "0",
      gap: merged.gap,
    });
  };
  const platformSelect = h(
    "select",
    { id: "platform", onchange: (event) => go({ platform: event.target.value }) },
    h("option", { value: "", selected: state.platform === "" }, "all platforms"),
    PLATFORMS.map((name) => h("option", { value: name, selected: state.platform === name }, name)),
  );
  const vendorBoxes = VENDORS.map((vendor) => {
    const checked = state.vendors.length === 0 || state.vendors.includes(vendor);
    return h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        name: "vendor",
        value: vendor,
        checked,
        onchange: () => {
          const boxes = [...document.querySelectorAll("input[name=vendor]")];
          const picked = boxes.filter((box) => box.checked).map((box) => box.value);
          // All ticked is the plain route (every vendor); none ticked is said so, never asked
          // as the API's empty vendors list (which counts no rule).
          if (picked.length === VENDORS.length) go({ vendors: [] });
          else go({ vendors: picked.length ? picked : [NO_VENDOR] });
        },
      }),
      ` ${VENDOR_LABELS[vendor]}`,
    );
  });
  return h(
    "form",
    { class: "controls", onsubmit: (event) => event.preventDefault() },
    h("label", {}, "Platform ", platformSelect),
    h("span", { class: "group" }, "Vendors ", vendorBoxes),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", id: "show-sub", checked: state.sub, onchange: (e) => go({ sub: e.target.checked }) }),
      " sub-techniques",
    ),
    h(
      "label",
      {},
      "Gaps of ",
      h(
        "select",
        { id: "gap", onchange: (event) => go({ gap: event.target.value }) },
        h("option", { value: "", selected: state.gap === "" }, "no vendor"),
        VENDORS.map((vendor) => h("option", { value: vendor, selected: state.gap === vendor }, VENDOR_LABELS[vendor])),
      ),
    ),
  );
}

function legend(gap) {
  const labels = ["0", "1–2", "3–9", "10–29", "30–99", "100+"];
  return h(
    "p",
    { class: "legend", id: "matrix-legend" },
    "Rules per technique: ",
    labels.map((label, i) => h("span", { class: `swatch c${i}` }, label)),
    gap
      ? [
          h("span", { class: "swatch c2 gap-swatch" }, `no ${VENDOR_LABELS[gap]} rule`),
          h("span", { class: "swatch c2 dim" }, `${VENDOR_LABELS[gap]} covers it`),
        ]
      : null,
  );
}

function column(entry, rolledUp, gap) {
  return h(
    "div",
    { class: "column", "data-tactic": entry.tactic.id },
    h(
      "div",
      { class: "column-head" },
      h("strong", {}, entry.tactic.name),
      h("span", { class: "muted" }, `${entry.coveredCount}/${entry.techniqueCount} covered`),
    ),
    entry.techniques.map((cell) => {
      const t = cell.technique;
      const split = cell.byVendor.map((v) => `${VENDOR_LABELS[v.vendor]} ${v.ruleCount.toLocaleString("en")}`).join(", ");
      const scope = rolledUp ? " with its sub-techniques" : "";
      let mark = "";
      if (gap) mark = isGap(cell, gap) ? " gap" : cell.gapRules ? " dim" : "";
      return h(
        "a",
        {
          class: `cell c${bucket(cell.ruleCount)}${t.isSubtechnique ? " sub" : ""}${mark}`,
          // Rolled up, the technique page counts the same rules as the cell.
          href: route("technique", t.id, rolledUp ? { sub: 1 } : null),
          title: `${t.id} ${t.name}${scope}: ${plural(cell.ruleCount, "rule")} (${split})`,
          "data-technique": t.id,
        },
        h("span", { class: "cell-name" }, h("span", { class: "tid" }, t.id), " ", t.name),
        h("span", { class: "cell-count" }, cell.ruleCount.toLocaleString("en")),
      );
    }),
  );
}
