// The expression kind's panel (evoforge/viewer/expression_panel.py): best formula, constants, verdict.
window.EvoforgePanels["formula"] = function (body, data) {
  const ui = window.EvoforgeUI, esc = ui.esc;
  const sci = (v) => (v == null ? "–" : Number(v).toExponential(3));
  const math = data.latex_image
    ? '<img class="latex" alt="' + esc(data.latex) + '" src="' + data.latex_image + '">'
    : (data.latex ? "<code>" + esc(data.latex) + "</code>" : "");
  const constants = Object.keys(data.constants || {}).map((k) =>
    '<tr><th>' + esc(k) + '</th><td class="num">' + esc(Number(data.constants[k]).toPrecision(10)) + "</td></tr>").join("");
  const v = data.held_out || {};
  const verdict = v.source == null ? '<p class="empty">' + esc(v.note) + "</p>" :
    '<div class="figures">' +
    ui.figure(v.recovered == null ? "no ground truth" : (v.recovered ? "recovered" : "not recovered") +
      (v.recovered_how ? " (" + esc(v.recovered_how) + ")" : ""), "verdict") +
    ui.figure(sci(v.nmse_in_domain), "NMSE in domain (held-out)") +
    ui.figure(sci(v.nmse_out_of_domain), "NMSE out of domain") + "</div>" +
    '<p class="hint">From ' + esc(v.source) + ".</p>";
  const history = (data.history || []).map((h) => '<tr><td class="num">#' + h.candidate_id + '</td><td class="num">' +
    h.samples + '</td><td class="num">' + esc(h.text) + '</td><td class="msg">' + esc(h.formula || "–") + "</td></tr>").join("");
  body.innerHTML = '<div class="formula-text">' + esc(data.formula || data.formula_error || "not a formula sympy can follow") +
    "</div>" + '<div class="formula-math">' + math + "</div>" +
    '<div class="figures">' + ui.figure(sci(data.nmse_train), "NMSE train") + ui.figure(sci(data.nmse_valid), "NMSE validation") +
    ui.figure(data.complexity == null ? "–" : data.complexity, "complexity (sympy nodes)") + "</div>" +
    "<h4>Fitted constants</h4>" + (constants ? '<table class="constants">' + constants + "</table>" :
      '<p class="empty">No constants.</p>') + (data.skeleton ? '<p class="hint">skeleton: <code>' + esc(data.skeleton) +
      "</code></p>" : "") + "<h4>Held-out</h4>" + verdict +
    "<h4>Formula at the last improvements</h4><table><thead><tr><th>candidate</th><th>sample</th><th>score</th>" +
    "<th>formula</th></tr></thead><tbody>" + history + "</tbody></table>";
};
