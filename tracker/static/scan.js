// The scan box in the header (issue 12). "/" outside a text field, or Alt+S anywhere, puts the
// cursor in it with its text selected, so the next scan replaces the last one. Pages where a
// scan usually comes next give the box `autofocus`; this only repeats that if the browser
// left the focus on the page itself (e.g. after restoring a page from its cache).
"use strict";
(() => {
  const box = document.getElementById("scan-q");
  if (!box) {
    return;
  }
  const TEXT_TYPES = new Set(["text", "search", "password", "email", "number", "tel", "url", "date"]);
  const isTyping = (element) =>
    element instanceof HTMLElement &&
    (element.isContentEditable ||
      element instanceof HTMLTextAreaElement ||
      element instanceof HTMLSelectElement ||
      (element instanceof HTMLInputElement && TEXT_TYPES.has(element.type)));

  const focusBox = () => {
    box.focus();
    box.select();
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    const slash = event.key === "/" && plain && !isTyping(event.target);
    const altS = event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyS";
    if (slash || altS) {
      event.preventDefault();
      focusBox();
    }
  });

  if (!box.hasAttribute("autofocus")) {
    return;
  }
  if (!document.activeElement || document.activeElement === document.body) {
    focusBox();
  }
  // A link that opens in another tab (the receipt PDF) leaves this page as it was: the cursor
  // goes back to the scan box for the next person instead of staying on the link.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[target="_blank"]') : null;
    if (link) {
      window.setTimeout(focusBox, 0);
    }
  });
})();
