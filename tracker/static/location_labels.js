// Location page: envelopes ticked for labels stay ticked across pages (kept in this tab's
// sessionStorage per location) and are all sent with the form. Without JavaScript the
// ticks of the page shown are sent, and the range form covers several pages.
"use strict";
(() => {
  const form = document.getElementById("label-selection");
  if (!form) {
    return;
  }
  const key = `tracker.labels.${form.dataset.location}`;
  const boxes = Array.from(form.querySelectorAll('input[type="checkbox"][name="id"]'));
  const all = document.getElementById("select-page");
  const count = form.querySelector('[data-testid="selection-count"]');
  const clear = document.getElementById("clear-selection");
  const load = () => new Set(JSON.parse(sessionStorage.getItem(key) || "[]"));
  const save = (ids) => sessionStorage.setItem(key, JSON.stringify(Array.from(ids)));

  const show = () => {
    const ids = load();
    if (ids.size) {
      count.textContent = count.dataset.template.replace("{n}", ids.size.toLocaleString());
    }
    clear.hidden = ids.size === 0;
    all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
  };
  const ids = load();
  for (const box of boxes) {
    box.checked = ids.has(box.value);
    box.addEventListener("change", () => {
      const chosen = load();
      if (box.checked) {
        chosen.add(box.value);
      } else {
        chosen.delete(box.value);
      }
      save(chosen);
      show();
    });
  }
  all.hidden = false;
  all.addEventListener("change", () => {
    const chosen = load();
    for (const box of boxes) {
      box.checked = all.checked;
      if (all.checked) {
        chosen.add(box.value);
      } else {
        chosen.delete(box.value);
      }
    }
    save(chosen);
    show();
  });
  clear.addEventListener("click", () => {
    save(new Set());
    for (const box of boxes) {
      box.checked = false;
    }
    window.location.reload();
  });
  form.addEventListener("submit", () => {
    form.querySelectorAll("input[data-other-page]").forEach((el) => el.remove());
    const onPage = new Set(boxes.map((box) => box.value));
    for (const id of load()) {
      if (!onPage.has(id)) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "id";
        hidden.value = id;
        hidden.dataset.otherPage = "1";
        form.append(hidden);
      }
    }
  });
  show();
})();
