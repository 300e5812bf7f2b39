// A background job's page (issue 17): polls the job's progress (JSON) every second, moves the
// <progress> bar and the counts, and reloads the page when the job has ended (the report is
// then on it). Without this script the page reloads itself every few seconds (meta refresh).
"use strict";
(function () {
  const box = document.querySelector("[data-progress-url]");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  const bar = box.querySelector("progress");
  const phase = box.querySelector("[data-phase-text]");
  const state = box.querySelector("[data-testid=job-state]");
  const url = box.dataset.progressUrl;

  function show(data) {
    if (data.finished) {
      window.location.replace(data.url);
      return;
    }
    if (bar) {
      bar.max = data.max || 1;
      bar.value = data.value;
      bar.textContent = data.value + " / " + data.max;
    }
    if (phase && data.phase_label) {
      phase.textContent = data.phase_label;
    }
    box.querySelectorAll("[data-count]").forEach((cell) => {
      const value = data[cell.dataset.count];
      cell.textContent = value === null || value === undefined ? "—" : String(value);
    });
    if (state) {
      state.textContent = data.state_label;
      state.dataset.state = data.state;
    }
    window.setTimeout(poll, 1000);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(show)
      .catch(() => window.setTimeout(poll, 5000));
  }

  window.setTimeout(poll, 1000);
})();
