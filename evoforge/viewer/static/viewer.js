// evoforge run viewer: draws RunView JSON (evoforge/viewer/run_data.py) for the static report and the
// live page alike. Live mode polls /api/runs with the tokens it has; the server answers only what changed.
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("evoforge-data").textContent);
  const root = document.getElementById("runs");
  const PLOT_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  const tokens = [];

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  function num(value, digits) {
    return value == null ? "–" : Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
  }

  // Cards keep this order whatever arrives first on a live page (charts appear once there is a score).
  const CARD_ORDER = ["summary", "kind-panels", "scores-samples", "scores-time", "rates", "throughput", "lineage", "islands",
    "errors", "details"];

  function skeleton(runEl) {
    if (runEl.dataset.built) return;
    CARD_ORDER.forEach((cls) => {
      const section = document.createElement(cls === "kind-panels" ? "div" : "section");
      section.className = cls === "kind-panels" ? cls : "card " + cls;
      section.hidden = cls !== "kind-panels";
      if (cls !== "kind-panels") section.innerHTML = '<div class="card-head"></div><div class="card-body"></div>';
      runEl.appendChild(section);
    });
    runEl.dataset.built = "1";
  }

  function card(parent, cls, title, hint) {
    let el = parent.querySelector(":scope > ." + cls);
    if (el) el.hidden = false;
    if (!el) {
      el = document.createElement("section");
      el.className = "card " + cls;
      el.innerHTML = '<div class="card-head"></div><div class="card-body"></div>';
      parent.appendChild(el);
    }
    el.querySelector(".card-head").innerHTML = (title ? "<h3>" + esc(title) + "</h3>" : "") +
      (hint ? '<p class="hint">' + hint + "</p>" : "");
    el.querySelector(".card-body").innerHTML = "";
    return el;
  }

  function fill(cardEl, html) {
    cardEl.querySelector(".card-body").innerHTML = html;
  }

  function chartIn(parent, cls, small) {
    let el = parent.querySelector(":scope > .chart-slot > ." + cls);
    if (!el) {
      const slot = document.createElement("div");
      slot.className = "chart-slot";
      el = document.createElement("div");
      el.className = "chart " + cls + (small ? " small" : "");
      slot.appendChild(el);
      parent.appendChild(slot);
    }
    return el;
  }

  function betterWord(fmt) {
    return fmt.higher_is_better ? "higher is better" : "lower is better";
  }

  function layout(xTitle, yTitle, extra) {
    return Object.assign({
      margin: { l: 64, r: 18, t: 34, b: 44 }, xaxis: { title: { text: xTitle }, zeroline: false },
      yaxis: { title: { text: yTitle }, zeroline: false },
      legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom" },
      uirevision: "keep", hovermode: "closest", paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    }, extra || {});
  }

  function stepLine(points, x, name, color) {
    return { x: points.map((p) => p[x]), y: points.map((p) => p.shown), name: name, mode: "lines",
      line: { shape: "hv", color: color, width: 2 }, type: "scatter" };
  }

  function scoreTraces(view, x) {
    const ev = view.evaluations, fmt = view.score_format;
    const valid = ev.ok.map((ok, i) => (ok ? i : -1)).filter((i) => i >= 0);
    const failed = ev.ok.map((ok, i) => (ok ? -1 : i)).filter((i) => i >= 0);
    const best = view.best_so_far.slice();
    if (best.length) best.push(Object.assign({}, best[best.length - 1], { samples: view.counts.samples,
      minutes: Math.max(best[best.length - 1].minutes, ev.minutes[ev.minutes.length - 1] || 0) }));
    const held = (view.held_out_history.points || []).filter((p) => p.held_out_shown != null);
    return [
      { x: valid.map((i) => ev[x][i]), y: valid.map((i) => ev.shown[i]), name: "training score (each valid evaluation)", uid: "valid",
        mode: "markers", type: "scatter", marker: { size: 6, color: "rgba(47,95,179,0.45)" },
        text: valid.map((i) => "candidate " + ev.candidate_id[i]), hovertemplate: "%{text}<br>%{y}<extra></extra>" },
      { x: failed.map((i) => ev[x][i]), y: failed.map(() => 0.03), yaxis: "y2", name: "failed evaluation", uid: "failed",
        mode: "markers", type: "scatter", marker: { symbol: "x-thin-open", size: 7, color: "#c62828" },
        text: failed.map((i) => "candidate " + ev.candidate_id[i] + ": " + ev.error[i]),
        hovertemplate: "%{text}<extra></extra>" },
      Object.assign(stepLine(best, x, "best so far, training", "#1d2430"), { uid: "best" }),
      { x: held.map((p) => p[x]), y: held.map((p) => p.held_out_shown), name: "best-so-far program on held-out", uid: "heldout",
        mode: "lines+markers", type: "scatter", line: { shape: "hv", dash: "dot", color: "#e07b00" },
        marker: { symbol: "diamond", size: 8, color: "#e07b00" } },
    ];
  }

  // The y range that keeps the best-so-far line readable: outliers (a program 20x worse) would flatten it.
  // Double-click the chart to see every point.
  function focusRange(view) {
    const values = view.evaluations.shown.filter((v) => v != null).sort((a, b) => a - b);
    if (values.length < 10) return null;
    const keep = view.best_so_far.map((p) => p.shown).concat(
      (view.held_out_history.points || []).map((p) => p.held_out_shown)).filter((v) => v != null);
    const q = (f) => values[Math.min(values.length - 1, Math.floor(f * (values.length - 1)))];
    const iqr = q(0.75) - q(0.25);
    const lo = Math.min(q(0.25) - 1.5 * iqr, ...keep), hi = Math.max(q(0.75) + 1.5 * iqr, ...keep);
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
    const outside = values.filter((v) => v < lo - pad || v > hi + pad).length;
    return outside ? { range: [lo - pad, hi + pad], outside: outside } : null;
  }

  function drawScores(el, view) {
    const fmt = view.score_format;
    const focus = focusRange(view);
    const extra = { yaxis2: { overlaying: "y", range: [0, 1], visible: false, fixedrange: true } };
    if (focus) extra.yaxis = { title: { text: fmt.axis_title }, zeroline: false, range: focus.range };
    const held = view.held_out_history || {};
    const failedHeld = (held.points || []).find((p) => p.error && p.held_out_shown == null);
    const heldNote = (failedHeld ? " Held-out scores unavailable: " + esc(failedHeld.error) + "." : "") +
      (held.pending ? " Scoring " + held.pending + " best-so-far programs on held-out inputs…" : "");
    const outsideNote = heldNote + (focus ? " " + focus.outside + " evaluations lie outside the focused range: double-click " +
      "the chart to see all." : "");
    const bySamples = card(el, "scores-samples", "Score vs samples drawn",
      esc(fmt.axis_title) + ", " + betterWord(fmt) + ". Dots: every valid evaluation on the training inputs; " +
      "crosses along the bottom: failed evaluations; orange: the best-so-far program scored on held-out inputs " +
      "evolution never saw." + outsideNote);
    Plotly.react(chartIn(bySamples, "score-vs-samples"), scoreTraces(view, "samples"),
      layout("samples drawn", fmt.axis_title, extra), PLOT_CONFIG);
    const byTime = card(el, "scores-time", "Score vs wall-clock time", esc(fmt.axis_title) + ", " + betterWord(fmt) + ".");
    Plotly.react(chartIn(byTime, "score-vs-time", true), scoreTraces(view, "minutes"),
      layout("minutes since the run started", fmt.axis_title, JSON.parse(JSON.stringify(extra))), PLOT_CONFIG);
  }

  function drawRates(el, view) {
    const c = card(el, "rates", "Outcome of samples over the run",
      "Share of each window of samples that was valid, a duplicate of an earlier program, an error " +
      "(unparsable or failed evaluation), or still waiting for the evaluators.");
    const r = view.rates;
    const colors = { valid: "#1a7f37", duplicate: "#8a94a6", error: "#c62828", pending: "#e0b000" };
    const traces = ["valid", "duplicate", "error", "pending"].map((k) => ({
      x: r.map((b) => b.samples), y: r.map((b) => 100 * b[k]), name: k, type: "scatter",
      mode: r.length > 1 ? "lines" : "markers",
      stackgroup: "one", line: { width: 0.5, color: colors[k] }, customdata: r.map((b) => b.minutes),
      hovertemplate: k + ": %{y:.0f}% (samples ≤ %{x}, %{customdata:.1f} min)<extra></extra>" }));
    Plotly.react(chartIn(c, "rates-chart", true), traces,
      layout("samples drawn", "share of samples (%)", { yaxis: { range: [0, 100], title: { text: "%" } } }),
      PLOT_CONFIG);
  }

  function figure(value, label) {
    return '<div class="figure"><b>' + value + "</b><span>" + esc(label) + "</span></div>";
  }

  // What the kinds' panel renderers (static/panels/*.js) draw with.
  window.EvoforgeUI = { esc: esc, figure: figure, layout: layout, PLOT_CONFIG: PLOT_CONFIG };

  function drawThroughput(el, view) {
    const t = view.throughput;
    const c = card(el, "throughput", "Throughput",
      "Evaluator utilisation: seconds spent in trials / (wall seconds × " + t.evaluators + " evaluator" +
      (t.evaluators === 1 ? "" : "s") + ").");
    fill(c, '<div class="figures">' +
      figure(num(t.samples_per_minute, 1), "samples / min") + figure(num(t.tokens_per_second, 1), "tokens / s") +
      figure(t.evaluator_utilisation == null ? "–" : (100 * t.evaluator_utilisation).toFixed(0) + "%",
        "evaluator utilisation") + figure(t.wall_seconds < 120 ? num(t.wall_seconds, 1) + " s" : num(t.wall_seconds / 60, 1) + " min",
        "search time") +
      figure(num(t.completion_tokens, 0), "completion tokens") + "</div>");
    if (!t.series.length) return;
    Plotly.react(chartIn(c, "throughput-chart", true), [
      { x: t.series.map((s) => s.minutes), y: t.series.map((s) => s.samples_per_minute), name: "samples / min",
        type: "scatter", mode: "lines+markers" },
      { x: t.series.map((s) => s.minutes), y: t.series.map((s) => s.tokens_per_second), name: "tokens / s",
        type: "scatter", mode: "lines", yaxis: "y2" },
    ], layout("minutes since the run started", "samples / min", { margin: { l: 64, r: 64, t: 34, b: 44 },
      yaxis2: { overlaying: "y", side: "right", title: { text: "tokens / s" } } }), PLOT_CONFIG);
  }

  function diffHtml(diff) {
    return diff.split("\n").map((line) => {
      const cls = line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
      return cls ? '<span class="' + cls + '">' + esc(line) + "</span>" : esc(line);
    }).join("\n");
  }

  function recorded(text) {
    return text === "not recorded" ? '<span class="not-recorded">not recorded</span>' : esc(text);
  }

  function drawLineage(el, view) {
    const fmt = view.score_format, steps = view.lineage;
    const c = card(el, "lineage", "Genealogy of the best program",
      "From the best program back to the seed. Each step's parent is the best-scoring of the programs its " +
      "prompt showed; the diff is against that parent. The prompt strategy column shows what the run recorded.");
    if (!steps.length) { fill(c, '<p class="empty">No valid program yet.</p>'); return; }
    const rows = steps.map((s, i) => {
      const parent = steps[i + 1];
      const delta = parent && s.shown != null && parent.shown != null ? s.shown - parent.shown : null;
      const change = s.seed ? "" : '<details data-key="diff-' + s.candidate_id + '"><summary>diff vs candidate ' +
        esc(s.parent_id) + "</summary><pre>" + diffHtml(s.diff) + "</pre></details>";
      const code = s.seed ? '<details data-key="code-' + s.candidate_id + '"><summary>seed code</summary><pre>' +
        esc(s.code) + "</pre></details>" : "";
      return '<tr class="lineage-step' + (s.seed ? " seed" : "") + '"><td class="num">' + (i + 1) + "</td><td>" +
        (s.seed ? '<span class="seed-tag">seed</span> ' : "") + "#" + s.candidate_id + '</td><td class="num">' +
        (s.sample == null ? "–" : s.sample) + '</td><td class="num">' + (s.island == null ? "all" : s.island) +
        '</td><td class="num">' + esc(s.text) + '</td><td class="num">' +
        (delta == null ? "" : (delta >= 0 ? "+" : "") + Number(delta.toPrecision(3))) + "</td><td>" + recorded(s.model) +
        '</td><td class="strategy">' + recorded(s.strategy) + "</td><td>" + change + code + "</td></tr>";
    });
    fill(c, '<table class="lineage-table"><thead><tr><th>step</th><th>candidate</th>' +
      "<th>sample</th><th>island</th><th>" + esc(fmt.axis_title) + "</th><th>Δ</th><th>model</th>" +
      "<th>prompt strategy</th><th>change</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>");
  }

  function drawIslands(el, view) {
    const fmt = view.score_format;
    const c = card(el, "islands", "Islands",
      "Diversity: distinct score signatures (FunSearch clusters) per valid program on the island.");
    if (!view.islands.length) { fill(c, '<p class="empty">No island holds a sampled program yet.</p>'); return; }
    const rows = view.islands.map((i) => '<tr><td class="num">' + i.island + '</td><td class="num">' + i.programs +
      '</td><td class="num">' + esc(i.best_text) + '</td><td class="num">#' + i.best_candidate_id +
      '</td><td class="num">' + i.clusters + '</td><td class="num">' + i.distinct_code + '</td><td class="num">' +
      (i.diversity == null ? "–" : i.diversity.toFixed(2)) + '</td><td class="num">' + i.resets + "</td></tr>");
    fill(c, "<table><thead><tr><th>island</th><th>valid programs</th><th>best " +
      esc(fmt.axis_title) + "</th><th>best program</th><th>clusters</th><th>distinct code</th><th>diversity</th>" +
      "<th>resets</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>");
  }

  function drawErrors(el, view) {
    const c = card(el, "errors", "Errors", "Each distinct failure, most frequent first, with the first candidate that hit it.");
    if (!view.errors.length) { fill(c, '<p class="empty">No errors.</p>'); return; }
    const rows = view.errors.map((e) => '<tr><td class="num">' + e.count + "</td><td>" + esc(e.stage) +
      '</td><td class="msg">' + esc(e.message) + '</td><td><details data-key="err-' + e.candidate_id +
      '"><summary>candidate #' + e.candidate_id + (e.input_key ? " on " + esc(e.input_key) : "") +
      "</summary><pre>" + esc(e.example) + "</pre>" + (e.output_tail ? "<pre>" + esc(e.output_tail) + "</pre>" : "") +
      "</details></td></tr>");
    fill(c, '<table class="error-table"><thead><tr><th>count</th><th>stage</th>' +
      "<th>message</th><th>example</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>");
  }

  function keyValueTable(data) {
    const keys = Object.keys(data || {});
    if (!keys.length) return '<p class="empty">Nothing recorded.</p>';
    return "<table><tbody>" + keys.map((k) => "<tr><th>" + esc(k) + '</th><td class="msg">' +
      esc(typeof data[k] === "string" ? data[k] : JSON.stringify(data[k], null, 1)) + "</td></tr>").join("") +
      "</tbody></table>";
  }

  function drawDetails(el, view) {
    const c = card(el, "details", "Best candidate's evaluation details",
      "What the problem's kind (" + esc(view.kind) + ") recorded beyond the score.");
    fill(c, keyValueTable(view.best_details));
  }

  // The kind's own panels (evoforge/viewer/panels.py), right under the run's summary.
  function drawPanels(el, view) {
    const box = el.querySelector(":scope > .kind-panels");
    view.panels.forEach((p) => {
      const panel = card(box, "panel-" + p.id, p.title, "");
      const draw = window.EvoforgePanels[p.id];
      if (draw && !(p.data && p.data.error)) draw(panel.querySelector(".card-body"), p.data, view);
      else fill(panel, keyValueTable(p.data));
    });
  }

  function drawHeader(el, view) {
    const fmt = view.score_format, n = view.counts;
    const best = view.best_so_far.length ? view.best_so_far[view.best_so_far.length - 1] : null;
    const heldKeys = Object.keys(view.held_out || {});
    const c = card(el, "summary", "");
    fill(c, "<h2>" + esc(view.problem) + '</h2><div class="path">' + esc(view.run_dir) +
      '</div><div class="figures">' + figure(n.samples + (n.budget ? " / " + n.budget : ""), "samples") +
      figure(n.evaluated, "evaluated") + figure(n.valid, "valid") + figure(n.duplicates, "duplicates") +
      figure(n.unparsed, "unparsable") + figure(n.pending, "pending") +
      figure(esc(best ? best.text : "-"), "best training " + fmt.axis_title + " (" + betterWord(fmt) + ")") +
      heldKeys.map((k) => figure(esc(view.held_out[k].shown || "error"), "final best on held-out input '" + k + "'")).join("") +
      figure(esc(n.models.join(", ") || "–"), "model") + "</div>");
    let note = el.querySelector(":scope > .explanation");
    if (view.explanation) {
      if (!note) { note = document.createElement("div"); note.className = "explanation"; c.after(note); }
      note.textContent = view.explanation;
    } else if (note) note.remove();
  }

  const drawnInputs = new WeakMap();
  const chartsDrawn = new WeakMap();
  const latestView = new WeakMap();
  const redrawTimers = new WeakMap();
  const CHART = "chart", CHART_MS = 3000;

  function redrawLater(el, ms) {
    if (redrawTimers.get(el)) return;
    redrawTimers.set(el, setTimeout(() => {
      redrawTimers.delete(el);
      renderRun(el, latestView.get(el));
    }, Math.max(ms, 50)));
  }

  function renderRun(el, view) {
    const open = new Set(Array.from(el.querySelectorAll("details[open]")).map((d) => d.dataset.key));
    skeleton(el);
    latestView.set(el, view);
    el.dataset.samples = view.counts.samples;
    el.dataset.evaluations = view.counts.evaluated;
    const parts = [
      [drawHeader, [view.counts, view.best_so_far.slice(-1), view.held_out, view.explanation]],
      // Without a valid program there is no score to chart; the explanation says why.
      [(e, v) => { if (v.best_so_far.length) drawScores(e, v); },
        [view.evaluations.candidate_id.length, view.best_so_far.length, view.counts.samples, view.held_out_history],
        CHART],
      [(e, v) => { if (v.rates.length) drawRates(e, v); }, [view.rates], CHART],
      [drawThroughput, [view.throughput], CHART],
      [drawLineage, [view.lineage.map((s) => s.candidate_id)]],
      [drawIslands, [view.islands]],
      [drawErrors, [view.errors.map((x) => [x.message, x.count])]],
      [drawDetails, [view.best_details]],
      [drawPanels, [view.panels]],
    ];
    // Redraw only what changed since the last poll, and charts (most of a redraw's cost) at most every
    // CHART_MS on a live page, with a trailing redraw so the last state is always drawn.
    const seen = drawnInputs.get(el) || new Map();
    const now = performance.now();
    const chartsDue = boot.mode !== "live" || now - (chartsDrawn.get(el) || -Infinity) >= CHART_MS;
    let drewChart = false;
    parts.forEach(([draw, inputs, kind], i) => {
      const key = JSON.stringify(inputs);
      if (seen.get(i) === key) return;
      if (kind === CHART && !chartsDue) { redrawLater(el, CHART_MS - (now - chartsDrawn.get(el))); return; }
      draw(el, view);
      seen.set(i, key);
      drewChart = drewChart || kind === CHART;
    });
    if (drewChart) chartsDrawn.set(el, now);
    drawnInputs.set(el, seen);
    el.querySelectorAll("details").forEach((d) => { if (open.has(d.dataset.key)) d.open = true; });
  }

  function drawComparison(views) {
    const box = document.getElementById("compare");
    if (views.filter(Boolean).length < 2) { box.hidden = true; return; }
    box.hidden = false;
    const c = card(box, "comparison", "Best training score of each run",
      "Runs side by side (arms, seeds): best so far against samples drawn.");
    const traces = views.filter(Boolean).map((v) => stepLine(v.best_so_far.concat(v.best_so_far.length ?
      [Object.assign({}, v.best_so_far[v.best_so_far.length - 1], { samples: v.counts.samples })] : []),
      "samples", v.run_dir.split("/").slice(-1)[0] + " · " + v.problem));
    const fmt = views.find(Boolean).score_format;
    Plotly.react(chartIn(c, "compare-chart", true), traces, layout("samples drawn", fmt.axis_title), PLOT_CONFIG);
  }

  const current = [];
  function runSlot(i) {
    let el = document.getElementById("run-" + i);
    if (!el) { el = document.createElement("div"); el.className = "run"; el.id = "run-" + i; root.appendChild(el); }
    return el;
  }

  function show(entry, i) {
    const el = runSlot(i);
    if (entry.error) {
      el.innerHTML = '<section class="card load-error"><p class="explanation">' + esc(entry.error) +
        (boot.mode === "live" ? " Waiting for it…" : "") + "</p></section>";
      return;
    }
    el.querySelectorAll(":scope > .load-error").forEach((e) => e.remove());
    current[i] = entry.view;
    tokens[i] = entry.view.token;
    renderRun(el, entry.view);
  }

  boot.runs.forEach(show);
  drawComparison(current);
  document.body.dataset.ready = "1";
  if (boot.mode !== "live") return;

  const status = document.getElementById("page-status");
  let nextPoll = boot.poll_ms;
  async function poll() {
    try {
      const query = tokens.map((t) => encodeURIComponent(t || "")).join(",");
      const reply = await (await fetch("api/runs?tokens=" + query, { cache: "no-store" })).json();
      const started = performance.now();
      let changed = false;
      reply.runs.forEach((entry, i) => { if (!entry.unchanged) { show(entry, i); changed = true; } });
      if (changed) drawComparison(current);
      // The next poll waits at least three times what drawing took (at most 5 s), so that the page
      // cannot take over a busy machine and still follows the run.
      const drawMs = performance.now() - started;
      document.body.dataset.drawMs = String(Math.round(drawMs));
      nextPoll = Math.min(5000, Math.max(boot.poll_ms, 3 * drawMs));
      status.innerHTML = '<span class="live-dot"></span>live · updated ' + new Date().toLocaleTimeString();
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    } catch (error) {
      status.innerHTML = '<span class="live-dot stale"></span>server not answering (' + esc(error.message) + ")";
    }
    setTimeout(poll, nextPoll);
  }
  setTimeout(poll, boot.poll_ms);
})();
