// Dashboard charts (issue 6). Reads the JSON block the page carries and draws each
// <canvas data-chart="…"> with the vendored Chart.js. Without Chart.js (file missing, old
// browser) nothing is drawn and the tables below each chart show the same figures.
"use strict";
(function () {
  const source = document.getElementById("dashboard-data");
  if (!source) {
    return;
  }
  const canvases = document.querySelectorAll("canvas[data-chart]");
  if (typeof window.Chart !== "function") {
    canvases.forEach((canvas) => {
      canvas.closest(".chart-box").hidden = true;
      const details = canvas.closest("section").querySelector("details");
      if (details) {
        details.open = true; // the table is then the only view of the figures
      }
    });
    return;
  }
  let data;
  try {
    data = JSON.parse(source.textContent);
  } catch (error) {
    return;
  }
  const colours = ["#0b5cad", "#1e7a3c", "#d08a00", "#6b3e8e"];
  const style = getComputedStyle(document.documentElement);
  Chart.defaults.font.family = style.fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#1d2329";

  canvases.forEach((canvas) => {
    const figure = data[canvas.dataset.chart];
    if (!figure) {
      return;
    }
    const kind = canvas.dataset.kind === "line" ? "line" : "bar";
    // "hbar": horizontal bars, for long category names such as location names.
    const horizontal = canvas.dataset.kind === "hbar";
    const valueAxis = horizontal ? "x" : "y";
    const categoryAxis = horizontal ? "y" : "x";
    // Long names wrap at their spaces (中央区役所1階 / 熊本市マイナンバーセンター).
    const labels = figure.labels.map((label) =>
      horizontal && label.includes(" ") ? label.split(/\s+/) : label,
    );
    const datasets = figure.series.map((series, index) => ({
      label: series.label,
      data: series.data,
      backgroundColor: kind === "line" ? colours[index % colours.length] + "33" : colours[index % colours.length],
      borderColor: colours[index % colours.length],
      borderWidth: kind === "line" ? 2 : 0,
      pointRadius: kind === "line" ? 3 : 0,
      tension: 0.2,
      maxBarThickness: 48,
    }));
    new Chart(canvas, {
      type: kind,
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: categoryAxis,
        animation: false,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: (context) =>
                `${context.dataset.label}: ${context.parsed[valueAxis].toLocaleString("ja-JP")}`,
            },
          },
        },
        scales: {
          [categoryAxis]: { ticks: { autoSkip: kind === "line", maxRotation: 45 } },
          [valueAxis]: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  });
})();
