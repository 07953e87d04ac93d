// Small behaviours the server-rendered pages need; no inline scripts, so the
// Content-Security-Policy can allow only this file and htmx.
document.addEventListener("click", (event) => {
  // Close a modal: any element with data-close-modal empties the #modal container.
  if (event.target.closest("[data-close-modal]")) {
    document.getElementById("modal").innerHTML = "";
  }
  // Pick a candidate in a search list: copies its value into the target input.
  const pick = event.target.closest("[data-pick]");
  if (pick) {
    const input = document.getElementById(pick.dataset.pickTarget);
    input.value = pick.dataset.pick;
    pick.closest("ul").querySelectorAll("[data-pick]").forEach((item) => item.classList.remove("picked"));
    pick.classList.add("picked");
  }
});
document.addEventListener("click", (event) => {
  // Key/value editors: add a row from the editor's template, or remove a row.
  const add = event.target.closest("[data-add-row]");
  if (add) {
    const editor = add.closest("[data-key-values]");
    const row = editor.querySelector("template").content.firstElementChild.cloneNode(true);
    editor.insertBefore(row, add);
    row.querySelector("input").focus();
  }
  const remove = event.target.closest("[data-remove-row]");
  if (remove) remove.closest(".key-value-row").remove();
});
document.addEventListener("change", (event) => {
  // Pickers that change what the editor shows (a service's ports, a generated host, the secret
  // picker) ask the server to render the editor again.
  if (event.target.matches("[data-refresh]")) {
    const button = event.target.form && event.target.form.querySelector("[data-refresh-button]");
    if (button) button.click();
  }
});
document.addEventListener("click", (event) => {
  // Narrow screens: the menu button shows the navigation and the page's sidebar, or hides them.
  const toggle = event.target.closest("[data-toggle-nav]");
  if (toggle) {
    const open = document.body.classList.toggle("nav-open");
    toggle.setAttribute("aria-expanded", String(open));
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.getElementById("modal").innerHTML = "";
});
// Times: the server says how long ago, in UTC on hover; show the hover in the reader's own zone
// and keep "how long ago" current on pages left open.
const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const timeUnits = [["day", 86400], ["hour", 3600], ["minute", 60]];
function describeTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((element) => {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) return;
    element.title = moment.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium", timeZoneName: "short" });
    const seconds = (moment.getTime() - Date.now()) / 1000;
    const unit = timeUnits.find(([, size]) => Math.abs(seconds) >= size);
    element.textContent = unit ? relativeTime.format(Math.round(seconds / unit[1]), unit[0]) : "just now";
  });
}
document.addEventListener("DOMContentLoaded", () => describeTimes(document));
document.addEventListener("htmx:afterSwap", (event) => describeTimes(event.target));
setInterval(() => describeTimes(document), 30000);
