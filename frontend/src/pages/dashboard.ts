/** Page script of the coordinator's dashboard (/study/dashboard/): progress charts from the
 * inlined tables, then reader agreement from the agreement API. */
import { AgreementPanel } from "../dashboard/agreement";
import { daysChart, readersChart } from "../dashboard/charts";
import type { ProgressData } from "../dashboard/types";
import { byId } from "../dom";

const data = JSON.parse(byId("progress-data").textContent ?? "{}") as ProgressData;
readersChart(byId<HTMLCanvasElement>("chart-readers"), data.readers);
daysChart(byId<HTMLCanvasElement>("chart-days"), data.days);
void new AgreementPanel(byId("dashboard")).load();
