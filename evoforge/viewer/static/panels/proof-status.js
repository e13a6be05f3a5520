// The Lean kind's panel (evoforge/viewer/lean_panel.py): proof check outcomes over the run and per theorem.
window.EvoforgePanels["proof-status"] = function (body, data) {
  const ui = window.EvoforgeUI, esc = ui.esc;
  const colors = { VERIFIED: "#1a7f37", REJECTED: "#c62828", TIMEOUT: "#e0b000", BACKEND_UNAVAILABLE: "#8a94a6",
    INTERNAL_ERROR: "#6b3fa0" };
  const totals = data.statuses.map((s) => '<div class="figure status-count" data-status="' + esc(s) + '"><b>' +
    data.totals[s] + "</b><span>" + esc(s) + "</span></div>").join("");
  const head = data.statuses.map((s) => "<th>" + esc(s) + "</th>").join("");
  const rows = data.theorems.map((t) => '<tr class="theorem"><td>' + esc(t.theorem) + "</td>" +
    data.statuses.map((s) => '<td class="num">' + (t.counts[s] || 0) + "</td>").join("") + '<td class="num">' +
    (t.first_verified_sample == null ? "–" : t.first_verified_sample) + "</td></tr>").join("");
  body.innerHTML = '<div class="figures">' + totals + "</div>" +
    '<p class="hint">' + data.checks + " proof checks (candidates × theorems).</p>" +
    '<table class="theorem-table"><thead><tr><th>theorem</th>' + head + "<th>first verified at sample</th></tr></thead><tbody>" +
    rows + "</tbody></table>";
  const w = data.over_samples;
  const slot = document.createElement("div");
  slot.className = "chart small proof-chart";
  body.appendChild(slot);
  Plotly.react(slot, data.statuses.map((s) => ({ x: w.map((b) => b.samples), y: w.map((b) => b.counts[s] || 0), name: s,
    uid: s, type: "bar", marker: { color: colors[s] || "#444" } })),
  ui.layout("samples drawn (end of each window)", "proof checks", { barmode: "stack" }), ui.PLOT_CONFIG);
};
