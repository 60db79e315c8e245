/* ECharts for pages that show charts. A page loads vendor/echarts.min.js and this file in its
   extra_head block, renders the options with json_script, and marks the chart element:

     {{ options|json_script:"pipeline-chart-data" }}
     <div class="chart" data-chart="pipeline-chart-data" role="img" aria-label="Pipeline by stage"></div>

   The options are plain ECharts options (no functions: the CSP forbids eval); colours, fonts and
   tooltips default to the design system's. Content swapped in by htmx is picked up too. */
(function () {
  "use strict";

  var PALETTE = ["#5b5bd6", "#2ea55f", "#e5a000", "#2f80ed", "#e5484d", "#9d9df2", "#868896", "#19703f"];
  var FONT = '"Inter Variable", Inter, ui-sans-serif, system-ui, sans-serif';

  var THEME = {
    color: PALETTE,
    textStyle: { fontFamily: FONT, color: "#4a4c58", fontSize: 12 },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    legend: { textStyle: { color: "#656775" }, icon: "roundRect", itemWidth: 10, itemHeight: 10 },
    tooltip: {
      backgroundColor: "#ffffff",
      borderColor: "#e3e3e8",
      borderWidth: 1,
      padding: [8, 12],
      textStyle: { color: "#1b1c21", fontSize: 12 },
      extraCssText: "box-shadow: 0 12px 32px -8px rgba(16,17,26,.18); border-radius: 8px;",
    },
    categoryAxis: {
      axisLine: { lineStyle: { color: "#d2d3da" } },
      axisTick: { show: false },
      axisLabel: { color: "#868896" },
      splitLine: { show: false },
    },
    valueAxis: {
      axisLine: { show: false },
      axisTick: { show: false },
      axisLabel: { color: "#868896" },
      splitLine: { lineStyle: { color: "#ebebef" } },
    },
    bar: { itemStyle: { borderRadius: [4, 4, 0, 0] }, barMaxWidth: 36 },
    line: { symbol: "circle", symbolSize: 6, lineStyle: { width: 2 }, smooth: false },
  };

  function render(el) {
    if (el.dataset.chartReady || !window.echarts) return;
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var options;
    try {
      options = JSON.parse(source.textContent);
    } catch (e) {
      return;
    }
    el.dataset.chartReady = "1";
    window.echarts.registerTheme("crm", THEME);
    var chart = window.echarts.init(el, "crm", { renderer: "canvas" });
    chart.setOption(options);
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
  }

  function renderAll(scope) {
    (scope || document).querySelectorAll("[data-chart]").forEach(render);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { renderAll(); });
  else renderAll();
  document.addEventListener("htmx:load", function (event) { renderAll(event.target); });
})();
