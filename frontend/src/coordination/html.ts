/** Building and refreshing page parts without innerHTML: text goes in as text, never as markup. */
import { getHtml } from "../api/client";

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined>;

/** `el("td", {class: "num"}, 3)`: an element with attributes (false/undefined ones left out). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === undefined) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}

/**
 * Re-render parts of this page from the server: fetch the page again (same URL, same filters)
 * and swap the elements with these ids for their fresh copies. The Django template stays the
 * one place that renders the tables.
 */
export async function refreshSections(ids: string[], url: string = window.location.href): Promise<void> {
  let text: string;
  try {
    text = await getHtml(url);
  } catch (error) {
    throw new Error(`Could not reload the page (${messageOf(error)}); reload it to see the changes`);
  }
  const fresh = new DOMParser().parseFromString(text, "text/html");
  for (const id of ids) {
    const current = document.getElementById(id);
    const replacement = fresh.getElementById(id);
    if (current && replacement) current.replaceWith(document.importNode(replacement, true));
  }
}

/** The numeric value of a form field, or undefined when it is empty or not a number. */
export function numberField(form: HTMLFormElement, name: string): number | undefined {
  const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  const text = field?.value.trim() ?? "";
  if (text === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The text value of a form field ("" when missing). */
export function textField(form: HTMLFormElement, name: string): string {
  const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
  return field?.value ?? "";
}

/** The message of anything thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** "1 scan", "3 scans". */
export const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;
