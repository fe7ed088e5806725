/** Page script of the study overview (/study/): each center's split is changed in place. */
import { initSplitForm } from "../centers/split-form";

for (const form of Array.from(document.querySelectorAll<HTMLFormElement>("form[data-split-form]"))) {
  initSplitForm(form);
}
