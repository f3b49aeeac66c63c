// Progressive enhancement of the server-rendered pages: sortable and filterable tables,
// selectors that apply at once, expand/collapse of the score card, and ECharts charts drawn
// from the JSON the page carries. Every page works without this file.
(function () {
  "use strict";

  var TIER_COLOURS = { first: "#c0392b", second: "#2e6da4", third: "#d97706", excellent: "#c0392b", competent: "#2e6da4", incompetent: "#6b4c3b" };
  var RISK_COLOURS = { high: "#b8281d", medium: "#d97706", low: "#6b8e23" };
  var FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) return kind === "num" ? Infinity : "";
    var raw = cell.getAttribute("data-value");
    if (raw === null) raw = cell.textContent.trim();
    if (kind === "num") {
      var n = parseFloat(raw.replace(/[^0-9.\-]/g, ""));
      return isNaN(n) ? Infinity : n;
    }
    return raw;
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-sort");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
      var c = kind === "num" ? x - y : String(x).localeCompare(String(y), "zh-CN");
      if (isNaN(c)) c = 0;
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function applyFilters(table) {
    var text = "", band = "";
    document.querySelectorAll('[data-filter="' + table.id + '"]').forEach(function (i) { text = i.value.trim(); });
    document.querySelectorAll('[data-band-filter="' + table.id + '"]').forEach(function (s) { band = s.value; });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var okText = !text || row.textContent.indexOf(text) !== -1;
      var okBand = !band || row.getAttribute("data-band") === band;
      row.hidden = !(okText && okBand);
    });
  }

  function setUpTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th[data-sort]").forEach(function (th) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortBy(table, th); });
        th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(table, th); });
      });
    });
    document.querySelectorAll("[data-filter], [data-band-filter]").forEach(function (input) {
      var id = input.getAttribute("data-filter") || input.getAttribute("data-band-filter");
      var table = document.getElementById(id);
      if (!table) return;
      input.addEventListener("input", function () { applyFilters(table); });
      input.addEventListener("change", function () { applyFilters(table); });
    });
  }

  function setUpPickers() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      var ruleset = form.querySelector('select[name="ruleset"]');
      var period = form.querySelector('select[name="period"]');
      function showPeriods() {
        if (!ruleset || !period) return;
        var year = ruleset.value, chosen = null;
        Array.prototype.forEach.call(period.options, function (o) {
          var fits = o.getAttribute("data-year") === year;
          o.hidden = !fits; o.disabled = !fits;
          if (fits && (o.selected || chosen === null)) chosen = o;
        });
        if (chosen && period.selectedOptions[0] && period.selectedOptions[0].disabled) chosen.selected = true;
      }
      showPeriods();
      if (ruleset) ruleset.addEventListener("change", function () { showPeriods(); form.submit(); });
      if (period) period.addEventListener("change", function () { form.submit(); });
    });
  }

  function setUpCards() {
    document.querySelectorAll("[data-expand-all], [data-collapse-all]").forEach(function (b) {
      b.addEventListener("click", function () {
        var open = b.hasAttribute("data-expand-all");
        var id = b.getAttribute(open ? "data-expand-all" : "data-collapse-all");
        document.querySelectorAll("#" + id + " details").forEach(function (d) { d.open = open; });
      });
    });
    if (location.hash) {
      var target = document.getElementById(location.hash.slice(1));
      if (target && target.tagName === "DETAILS") target.open = true;
    }
  }

  function options(kind, data) {
    var base = { textStyle: { fontFamily: FONT }, animation: false, grid: { left: 50, right: 20, top: 30, bottom: 60, containLabel: true }, tooltip: { trigger: "axis" } };
    if (kind === "ranking") {
      base.xAxis = { type: "category", data: data.map(function (d) { return d.name; }), axisLabel: { rotate: data.length > 12 ? 45 : 0, interval: 0 } };
      base.yAxis = { type: "value", name: "最终得分", min: function (v) { return Math.max(0, Math.floor(v.min / 10) * 10 - 10); } };
      base.tooltip = { trigger: "item", formatter: function (p) { var d = data[p.dataIndex]; return d.name + "<br>最终得分 " + d.final + (d.label && d.label !== "—" ? "<br>" + d.label : ""); } };
      base.series = [{ type: "bar", data: data.map(function (d) { return { value: Number(d.final), itemStyle: { color: TIER_COLOURS[d.band] || "#8a94a3" } }; }), label: { show: data.length <= 30, position: "top", formatter: function (p) { return data[p.dataIndex].final; } } }];
      return base;
    }
    if (kind === "trend") {
      var periods = [], finals = [];
      data = data.filter(function (d) { return !d.annual; });
      data.forEach(function (d) { periods.push(d.label); finals.push(d.final === null ? null : Number(d.final)); });
      base.xAxis = { type: "category", data: periods };
      base.yAxis = { type: "value", name: "最终得分", scale: true };
      base.series = [{ type: "line", data: finals, symbolSize: 8, label: { show: true, formatter: function (p) { return data[p.dataIndex].final; } }, itemStyle: { color: "#1d4e89" } }];
      return base;
    }
    if (kind === "lost") {
      base.xAxis = { type: "category", data: data.map(function (d) { return d[0] + " " + d[1]; }), axisLabel: { interval: 0, rotate: data.length > 6 ? 30 : 0 } };
      base.yAxis = { type: "value", name: "失分" };
      base.series = [{ type: "bar", data: data.map(function (d) { return Number(d[2]); }), itemStyle: { color: "#b8281d" }, label: { show: true, position: "top", formatter: function (p) { return data[p.dataIndex][2]; } } }];
      return base;
    }
    if (kind === "risk") {
      var names = { high: "高", medium: "中", low: "低" };
      base.legend = { top: 0 };
      base.xAxis = { type: "category", data: data.map(function (d) { return d.code + " " + d.title; }), axisLabel: { interval: 0, rotate: data.length > 6 ? 30 : 0 } };
      base.yAxis = { type: "value", name: "对象数", minInterval: 1 };
      base.series = ["high", "medium", "low"].map(function (g) {
        return { name: names[g], type: "bar", stack: "grade", data: data.map(function (d) { return d[g]; }), itemStyle: { color: RISK_COLOURS[g] } };
      });
      return base;
    }
    if (kind === "histogram") {
      base.xAxis = { type: "category", data: data.labels, name: "最终得分变化（新 − 原）", nameLocation: "middle", nameGap: 32 };
      base.yAxis = { type: "value", name: "对象数", minInterval: 1 };
      base.series = [{ type: "bar", data: data.counts, itemStyle: { color: "#2e6da4" }, label: { show: true, position: "top" } }];
      return base;
    }
    return null;
  }

  function setUpCharts() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var script = el.nextElementSibling;
      if (!script || !script.classList.contains("chart-data")) return;
      var opts = options(el.getAttribute("data-chart"), JSON.parse(script.textContent));
      if (!opts) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(opts);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function start() {
    setUpTables();
    setUpPickers();
    setUpCards();
    setUpCharts();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
