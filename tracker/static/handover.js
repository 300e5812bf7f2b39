// The handover form (issue 12): show only the sections that belong to the chosen recipient
// kind. Without JavaScript every section shows and works; the server keeps only the fields of
// the chosen kind either way (counter.views._evidence).
"use strict";
(() => {
  const form = document.querySelector("form.handover");
  if (!form) {
    return;
  }
  const radios = Array.from(form.querySelectorAll('input[name="recipient_kind"]'));
  const sections = Array.from(form.querySelectorAll("[data-recipient-kinds]"));
  const update = () => {
    const chosen = radios.find((radio) => radio.checked);
    const kind = chosen ? chosen.value : "";
    for (const section of sections) {
      section.hidden = !section.dataset.recipientKinds.split(" ").includes(kind);
    }
  };
  for (const radio of radios) {
    radio.addEventListener("change", update);
  }
  update();
})();
