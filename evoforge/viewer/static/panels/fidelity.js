// The surrogate kind's panel (evoforge/viewer/fidelity_panel.py): screen fidelity after each screened candidate.
window.EvoforgePanels["fidelity"] = function (body, data) {
  const ui = window.EvoforgeUI, esc = ui.esc, f = data.final;
  const two = (v) => (v == null ? "–" : Number(v).toFixed(2));
  body.innerHTML = '<p class="hint">Figures over the candidates the exact solver re-checked (screen: ' + esc(data.screen) +
    (data.surrogate_version != null ? ", surrogate version " + data.surrogate_version : "") + ").</p>" +
    '<div class="figures">' + ui.figure(two(f.spearman), "Spearman ρ (estimate vs exact)") +
    ui.figure(f.top_k_overlap == null ? "–" : Math.round(100 * f.top_k_overlap) + "%", "top-" + esc(f.top_k || "k") + " overlap") +
    ui.figure(f.mae == null ? "–" : Number(f.mae).toPrecision(3), "MAE") +
    ui.figure(f.solves_saved + " of " + f.candidates, "exact solves saved") + "</div>";
  const t = data.over_time;
  const slot = document.createElement("div");
  slot.className = "chart fidelity-chart";
  body.appendChild(slot);
  const line = (key, name, extra) => Object.assign({ x: t.map((p) => p.samples), y: t.map((p) => p[key]), name: name,
    uid: key, type: "scatter", mode: "lines+markers" }, extra || {});
  Plotly.react(slot, [
    line("spearman", "Spearman ρ"), line("top_k_overlap", "top-k overlap"),
    line("mae", "MAE", { yaxis: "y2", line: { dash: "dot" } }),
    line("solves_saved", "exact solves saved", { yaxis: "y3", line: { dash: "dash", color: "#8a94a6" } }),
  ], ui.layout("samples drawn", "ρ / overlap", { margin: { l: 64, r: 110, t: 34, b: 44 },
    yaxis: { title: { text: "ρ / overlap" }, range: [-1.05, 1.05] },
    xaxis: { title: { text: "samples drawn" }, domain: [0, 0.9] },
    yaxis2: { overlaying: "y", side: "right", title: { text: "MAE" } },
    yaxis3: { overlaying: "y", side: "right", anchor: "free", position: 1, title: { text: "solves saved" } } }),
  ui.PLOT_CONFIG);
};
