// Insert a canned response into the reply box without reloading the page, so a draft the agent typed stays.
// Without JavaScript the form still works: it reloads the ticket with the canned text in an empty box.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.canned");
  if (!form) return;
  const box = document.getElementById(form.dataset.target);
  const choice = form.querySelector("select");
  if (!box || !choice || !choice.value) return;
  event.preventDefault();
  const url = new URL(form.action, window.location.href);
  url.hash = "";
  url.searchParams.set(choice.name, choice.value);
  const response = await fetch(url, { headers: { "X-Canned-Text": "1" }, credentials: "same-origin" });
  if (!response.ok) { form.submit(); return; }
  const text = await response.text();
  const draft = box.value.trimEnd();
  box.value = draft ? `${draft}\n\n${text}` : text;
  box.focus();
});
