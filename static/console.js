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
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.getElementById("modal").innerHTML = "";
});
