/**
 * Page script of a model version's disagreements (/models/versions/<id>/disagreements/): the
 * selection sent to a blinded second read and the scoring of unscored scans. The page's root gets
 * data-ready="true" once its controls are live.
 */
import { initDisagreements } from "../disagreements/send";

const root = document.getElementById("disagreements");
if (root) initDisagreements(root);
