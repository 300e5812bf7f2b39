// Counter intake: a barcode scanner types the tracking number and presses Enter. Enter in a
// field marked data-enter-next moves to the next field instead of submitting half a form.
"use strict";
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || !(field instanceof HTMLInputElement) || !field.dataset.enterNext) {
    return;
  }
  event.preventDefault();
  const fields = Array.from(field.form.elements).filter(
    (el) => !el.disabled && el.type !== "hidden" && el.tabIndex >= 0,
  );
  const next = fields[fields.indexOf(field) + 1];
  if (next) {
    next.focus();
  }
});
