/**
 * Page script of the import pages: the upload form (/study/import/) and a batch's live
 * status (/study/imports/<id>/). Which one runs depends on what the page holds.
 */
import { initBatchStatus } from "../imports/batch";
import { initImportForm } from "../imports/form";

const form = document.querySelector<HTMLFormElement>("form#import-form");
if (form) initImportForm(form);

const batch = document.getElementById("batch-status");
if (batch) initBatchStatus(batch);
