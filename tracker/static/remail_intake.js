// Intake: a tracking number that belongs to a re-mailed card (再送付中) is that card coming back.
// As soon as the number is scanned or typed (the field changes), ask the server; if it is one,
// go to the short return form instead of letting the clerk fill in a whole new envelope.
// Without JavaScript the same happens when the form is sent.
"use strict";
(() => {
  const script = document.currentScript;
  const lookup = script && script.dataset.lookup;
  const field = document.getElementById("tracking_no");
  if (!lookup || !field) {
    return;
  }
  field.addEventListener("change", async () => {
    const value = field.value.trim();
    if (!value) {
      return;
    }
    try {
      const response = await fetch(`${lookup}?tracking_no=${encodeURIComponent(value)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        return;
      }
      const answer = await response.json();
      if (answer.remailed && answer.url) {
        window.location.assign(answer.url);
      }
    } catch (error) {
      // offline or refused: the server checks again when the form is sent
    }
  });
})();
