/** Small DOM helpers shared by the page scripts. */

/** The element with this id; throws (visibly, in the console) if the template lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: Document = document): T {
  const element = root.getElementById(id);
  if (!element) throw new Error(`ICHLabel: #${id} is missing from this page`);
  return element as T;
}

/** `element("a", {href, textContent})`: an element with these properties set. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/** A required data-* attribute of an element (camelCase key, as in `dataset`). */
export function dataAttribute(element: HTMLElement, key: string): string {
  const value = element.dataset[key];
  if (!value) throw new Error(`ICHLabel: #${element.id || element.tagName} has no data-${kebab(key)}`);
  return value;
}

/** Enable or disable every control of a form (disabled file inputs keep their chosen files). */
export function setFormDisabled(form: HTMLFormElement, disabled: boolean): void {
  for (const control of Array.from(form.elements)) {
    if ("disabled" in control) (control as HTMLInputElement).disabled = disabled;
  }
  form.toggleAttribute("aria-busy", disabled);
}

/** Show a message, marked as an error or not. */
export function showMessage(element: HTMLElement, text: string, kind: "info" | "error" = "info"): void {
  element.textContent = text;
  element.classList.toggle("error", kind === "error");
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

/** A page script that could not start: the error in a message on its section (after its content,
 * or before it with `before`), and `data-failed="true"` on the section. */
export function showStartError(section: HTMLElement, what: string, error: unknown, before = false): void {
  const message = document.createElement("p");
  message.className = "message error";
  if (before) section.prepend(message);
  else section.append(message);
  showMessage(message, `${what}: ${error instanceof Error ? error.message : String(error)}`, "error");
  section.dataset.failed = "true";
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
